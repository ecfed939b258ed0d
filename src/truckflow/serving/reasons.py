"""The reasons behind served predictions: top feature contributions, in the user's terms.

The methods are ``truckflow.training.explain``'s (exact tree contributions for XGBoost and
LightGBM, coefficient times standardised value for logistic regression, path contributions for
random forests). For the training pipeline's model the rows are encoded by the compiled
preprocessing (no DataFrame); a bare classifier is explained on its own input columns.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import parse_qsl

import numpy as np
from fastapi.exceptions import RequestValidationError
from pydantic import Field, TypeAdapter, ValidationError

from truckflow.serving.contribs import dense_contributions
from truckflow.training.explain import (
    by_feature,
    contributions,
    encoded_owners,
    probability_points,
    top_reasons,
)
from truckflow.training.preprocess_compiled import CompiledPipeline

__all__ = ["MAX_REASONS", "REASONS_DOC", "REASONS_PARAMETER", "Explainer", "reasons_asked"]

MAX_REASONS = 20
REASONS_DOC = (
    "How many of the largest feature contributions to return with each prediction "
    "(0 for none): exact tree contributions (XGBoost, LightGBM), coefficient times standardised "
    "value (logistic regression), path contributions (random forest), in probability points."
)
# The query parameter as OpenAPI shows it, for routes that read it themselves (as FastAPI
# documents a declared ``Query(ge=0, le=MAX_REASONS)``).
REASONS_PARAMETER: dict[str, Any] = {
    "name": "reasons",
    "in": "query",
    "required": False,
    "description": REASONS_DOC,
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_REASONS, "default": 0},
}
_COUNT: TypeAdapter[int] = TypeAdapter(Annotated[int, Field(ge=0, le=MAX_REASONS)])


def reasons_asked(query: bytes) -> int:
    """``reasons`` from a raw query string (0 when absent), checked as FastAPI checks a
    declared parameter: a bad value is a 422 naming ``query.reasons``."""
    if b"reasons" not in query:
        return 0
    values = [
        v for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True) if k == "reasons"
    ]
    if not values:
        return 0
    try:
        return _COUNT.validate_python(values[-1])
    except ValidationError as exc:
        errors = [{**e, "loc": ("query", "reasons")} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


class Explainer:
    """Top contributions of rows in the served feature order."""

    def __init__(
        self,
        encode: Callable[[np.ndarray], np.ndarray],
        final: Any,
        owners: np.ndarray,
        names: Sequence[str],
        units: Mapping[str, str],
    ) -> None:
        self._encode = encode
        self._final = final
        self._owners = owners
        self.names = list(names)
        self._units = dict(units)
        # Per-feature contributions of rows explained lately, by the encoded row's bytes: a
        # trip asked again (a dispatcher's screen, a client polling) costs no TreeSHAP. The
        # same numbers as computing them again (contributions are row by row).
        self.cache_rows = 0
        self._cache: OrderedDict[tuple[object, ...], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        # XGBoost's exact contributions straight through its C entry point (the same numbers).
        booster = final.get_booster() if hasattr(final, "get_booster") else None
        self._direct = None if booster is None else dense_contributions(booster, len(owners))

    def _contributions(self, encoded: np.ndarray) -> np.ndarray | None:
        direct = self._direct
        if direct is None:
            return contributions(self._final, encoded)
        out = direct(encoded)
        return probability_points(out[:, :-1], out[:, -1])

    @classmethod
    def build(
        cls,
        estimator: Any,
        compiled: CompiledPipeline | None,
        names: Sequence[str],
        units: Mapping[str, str],
    ) -> Explainer | None:
        """The explainer of a served model, None for a shape it cannot explain."""
        if compiled is not None and compiled.preprocess is not None:
            owners = encoded_owners(compiled.preprocess, names)
            if owners is None:
                return None
            return cls(compiled.encode, compiled.final, owners, names, units)
        if hasattr(estimator, "steps"):
            return None  # a pipeline of another shape: its columns are not known here
        width = len(names)

        def floats(rows: np.ndarray) -> np.ndarray:
            return np.asarray(rows, dtype=np.float64)

        return cls(floats, estimator, np.arange(width, dtype=np.intp), names, units)

    def _per_feature(self, rows: np.ndarray, encoded: np.ndarray | None) -> np.ndarray | None:
        """Contributions summed back to the input features; kept rows taken from the cache
        (under a lock: the event loop, the reasons thread and batch threads all explain).
        Kept by the row's values as given (the version's encoding of them is fixed)."""
        if self.cache_rows <= 0:
            contrib = self._contributions(self._encode(rows) if encoded is None else encoded)
            return None if contrib is None else by_feature(contrib, self._owners, len(self.names))
        keys = [tuple(row) for row in rows.tolist()]
        out = np.empty((len(keys), len(self.names)), dtype=np.float64)
        cache, missing = self._cache, []
        with self._lock:
            for i, key in enumerate(keys):
                hit = cache.get(key)
                if hit is None:
                    missing.append(i)
                else:
                    out[i] = hit
                    cache.move_to_end(key)
        if missing:
            fresh_rows = self._encode(rows[missing]) if encoded is None else encoded[missing]
            contrib = self._contributions(fresh_rows)
            if contrib is None:
                return None
            fresh = by_feature(contrib, self._owners, len(self.names))
            out[missing] = fresh
            with self._lock:
                for j, i in enumerate(missing):
                    cache[keys[i]] = fresh[j].copy()
                while len(cache) > self.cache_rows:
                    cache.popitem(last=False)
        return out

    def kept(self, rows: np.ndarray) -> bool:
        """Whether every row's contributions are kept (explaining them costs no TreeSHAP)."""
        if self.cache_rows <= 0:
            return False
        keys = [tuple(row) for row in rows.tolist()]
        with self._lock:
            return all(key in self._cache for key in keys)

    def encodes_with(self, compiled: CompiledPipeline) -> bool:
        """Whether this explainer sees the rows as ``compiled.encode`` gives them."""
        return bool(self._encode == compiled.encode)

    def reasons(
        self, rows: np.ndarray, k: int, encoded: np.ndarray | None = None
    ) -> list[list[dict[str, Any]]]:
        """The ``k`` largest contributions of each row ([] per row when the model has none);
        ``encoded``: the rows as the classifier sees them, when the caller has them already."""
        if k <= 0:
            return [[] for _ in range(len(rows))]
        per_feature = self._per_feature(rows, encoded)
        if per_feature is None:
            return [[] for _ in range(len(rows))]
        return [
            top_reasons(self.names, rows[i], per_feature[i], k, self._units)
            for i in range(len(rows))
        ]
