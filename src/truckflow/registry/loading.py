"""The one way to load the model behind a stage: resolved by alias, checksum verified.

Every consumer (the serving API, the daily batch, the drift check, training's comparison with
production, the dashboard, the ``predict`` command) calls ``load_stage`` or ``load_version``
and gets a ``LoadedVersion``: the native model (XGBoost, LightGBM or scikit-learn flavour), its
decision threshold, data window, metrics, feature contract and the rest of its
``VersionMetadata``. The files are downloaded, their
sha256 recomputed and compared with the one recorded at registration before anything is
unpickled; a mismatch (or no recorded checksum) is refused with ``ModelRefusedError`` and an
event ``model.load_refused`` goes to the sink given, told once per version and checksum.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truckflow.events import Event, EventSink, Severity
from truckflow.registry.contract import FeatureContract
from truckflow.registry.errors import RegistryError
from truckflow.registry.model_registry import ModelRegistry
from truckflow.registry.support import directory_checksum
from truckflow.registry.versions import (
    DEFAULT_THRESHOLD,
    ModelVersion,
    Stage,
    VersionMetadata,
)

__all__ = ["LOAD_REFUSED", "LoadedVersion", "ModelRefusedError", "load_stage", "load_version"]

LOAD_REFUSED = "model.load_refused"


class ModelRefusedError(RegistryError):
    """A version's files do not match the checksum recorded at registration (or none was)."""


@dataclass(frozen=True)
class LoadedVersion:
    """A verified model version and what it carries."""

    name: str
    version: str
    model: Any
    metadata: VersionMetadata
    contract: FeatureContract | None
    metrics: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    stage: Stage | None = None
    signature_names: tuple[str, ...] = ()

    @property
    def threshold(self) -> float:
        return self.metadata.decision_threshold

    @property
    def checksum(self) -> str:
        return self.metadata.checksum

    @property
    def data_window(self) -> str:
        return self.metadata.data_window

    @property
    def window(self) -> dict[str, str | None]:
        """The data window as ``{"start": ..., "end": ...}`` (from ``start..end``)."""
        return self.metadata.window


def version_threshold(tags: Mapping[str, str], default: float = DEFAULT_THRESHOLD) -> float:
    """The decision threshold recorded in a version's tags, ``default`` when none is."""
    threshold = VersionMetadata.from_tags(tags).threshold
    return default if threshold is None else threshold


def _native(local: Path, flavors: Mapping[str, Any]) -> Any:
    import mlflow

    if "sklearn" in flavors:
        return mlflow.sklearn.load_model(str(local))
    if "xgboost" in flavors:
        return mlflow.xgboost.load_model(str(local))
    if "lightgbm" in flavors:
        return mlflow.lightgbm.load_model(str(local))
    raise RegistryError(
        f"model flavours {sorted(flavors)} cannot be loaded (need sklearn, xgboost or lightgbm)"
    )


def _refuse(
    registry: ModelRegistry, target: ModelVersion, found: str, events: EventSink | None
) -> ModelRefusedError:
    recorded = target.metadata.checksum or "nothing"
    message = (
        f"model {registry.model_name} version {target.version}: the artifact checksum is "
        f"{found}, registration recorded {recorded}; refusing to load it"
    )
    if events is not None:
        events.emit(
            Event(
                type=LOAD_REFUSED,
                subject=f"model {registry.model_name} version {target.version} refused",
                body={
                    "model": registry.model_name,
                    "version": target.version,
                    "recorded": recorded,
                    "found": found,
                    "source": target.source,
                },
                severity=Severity.ERROR,
                key=f"{LOAD_REFUSED}:{registry.model_name}:{target.version}:{found}",
            )
        )
    return ModelRefusedError(
        message, hint=f"the files at {target.source} changed after registration"
    )


def load_version(
    registry: ModelRegistry,
    version: str | int,
    *,
    stage: Stage | None = None,
    events: EventSink | None = None,
) -> LoadedVersion:
    """Download, verify and load one version (``ModelRefusedError`` on a checksum mismatch)."""
    import mlflow.artifacts
    from mlflow.models import Model

    target = registry.get(version)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=target.source, dst_path=tmp, tracking_uri=registry.tracking_uri
                )
            )
        except Exception as exc:  # MLflow raises several kinds for a missing or unreadable file
            raise RegistryError(
                f"cannot download model {registry.model_name} version {target.version}: {exc}"
            ) from exc
        found = directory_checksum(local)
        metadata = target.metadata
        if not metadata.checksum or found != metadata.checksum:
            raise _refuse(registry, target, found, events)
        try:
            mlmodel = Model.load(str(local / "MLmodel"))
            model = _native(local, mlmodel.flavors)
        except RegistryError:
            raise
        except Exception as exc:
            raise RegistryError(
                f"cannot load model {registry.model_name} version {target.version}: {exc}"
            ) from exc
    return LoadedVersion(
        name=registry.model_name,
        version=target.version,
        model=model,
        metadata=metadata,
        contract=FeatureContract.of_model(model),
        metrics=target.metrics or _run_metrics(registry, target),
        tags=dict(target.tags),
        stage=stage,
        signature_names=_signature_names(mlmodel),
    )


def _run_metrics(registry: ModelRegistry, target: ModelVersion) -> dict[str, float]:
    """The training run's metrics, for versions registered without ``metric.*`` tags."""
    if not target.run_id:
        return {}
    try:
        run = registry._client.get_run(target.run_id)
    except Exception:  # the run may be gone; the metrics are only reported
        return {}
    return {str(k): float(v) for k, v in run.data.metrics.items()}


def _signature_names(mlmodel: Any) -> tuple[str, ...]:
    signature = getattr(mlmodel, "signature", None)
    if signature is None or signature.inputs is None:
        return ()
    names = signature.inputs.input_names()
    return tuple(str(n) for n in names) if all(isinstance(n, str) for n in names) else ()


def load_stage(
    registry: ModelRegistry, stage: Stage | str, *, events: EventSink | None = None
) -> LoadedVersion | None:
    """The verified version behind the stage's alias; None when the alias points nowhere."""
    chosen = Stage.parse(stage)
    current = registry.get_alias(chosen)
    if current is None:
        return None
    return load_version(registry, current.version, stage=chosen, events=events)
