"""What a model version takes as input: its feature contract, recorded with the version.

The contract names the feature columns only (no ids, no label), in the model's input order,
with each one's kind, the categories seen in training and the observed range. It travels inside
the checksummed model artifact (an attribute of the fitted model, ``feature_contract_``) and as
the version's MLflow signature, so a served version always checks requests against what it was
trained on. The registry knows nothing about trucks: the training pipeline builds the contract.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["CONTRACT_ATTRIBUTE", "MAGNITUDE_LIMIT", "FeatureContract", "FeatureSpec"]

Kind = Literal["numeric", "categorical", "binary"]
KINDS: tuple[Kind, ...] = ("numeric", "categorical", "binary")

# The attribute of the fitted model that carries its contract (pickled with it, so checksummed).
CONTRACT_ATTRIBUTE = "feature_contract_"
# The largest magnitude a number may have. Far above any real feature (pressures, distances,
# counts); well inside what standardising and XGBoost's float32 can take without overflowing.
MAGNITUDE_LIMIT = 1e9


@dataclass(frozen=True)
class FeatureSpec:
    """One input column: its kind, the categories seen in training, the range observed."""

    name: str
    kind: Kind
    categories: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == "categorical":
            out["categories"] = list(self.categories)
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.unit:
            out["unit"] = self.unit
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FeatureSpec:
        kind = str(raw["kind"])
        if kind not in KINDS:
            raise ValueError(f"feature {raw.get('name')!r} has unknown kind {kind!r}")
        return cls(
            name=str(raw["name"]),
            kind=kind,  # type: ignore[arg-type]
            categories=tuple(str(c) for c in raw.get("categories", ())),
            minimum=_number(raw.get("minimum")),
            maximum=_number(raw.get("maximum")),
            unit=raw.get("unit") or None,
        )


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class FeatureContract:
    """The input columns of a model version, in its input order."""

    features: tuple[FeatureSpec, ...]
    version: int = 1
    _by_name: dict[str, FeatureSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise ValueError("a feature contract names a column twice")
        object.__setattr__(self, "_by_name", {f.name: f for f in self.features})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def spec(self, name: str) -> FeatureSpec:
        return self._by_name[name]

    def of_kind(self, kind: Kind) -> tuple[FeatureSpec, ...]:
        return tuple(f for f in self.features if f.kind == kind)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "features": [f.to_dict() for f in self.features]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FeatureContract:
        return cls(
            features=tuple(FeatureSpec.from_dict(f) for f in raw["features"]),
            version=int(raw.get("version", 1)),
        )

    @classmethod
    def of_model(cls, model: Any) -> FeatureContract | None:
        """The contract a fitted model carries, None for a model registered without one."""
        raw = getattr(model, CONTRACT_ATTRIBUTE, None)
        if raw is None:
            return None
        return raw if isinstance(raw, FeatureContract) else cls.from_dict(raw)

    def signature(self) -> Any:
        """The MLflow signature: one optional column per feature (blanks are imputed), numbers
        as doubles, categories as strings; the output is the probability of the positive class."""
        from mlflow.models import ModelSignature
        from mlflow.types import ColSpec, Schema

        inputs: list[ColSpec | Any] = [
            ColSpec("string" if f.kind == "categorical" else "double", f.name, required=False)
            for f in self.features
        ]
        return ModelSignature(inputs=Schema(inputs), outputs=Schema([ColSpec("double")]))
