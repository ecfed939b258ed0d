"""The served model and its hot swap.

A request reads ``holder.current`` once and keeps that object to the end, so a swap never changes
the model under a request in flight. A new version is loaded completely before the one reference
is replaced; a Python attribute assignment is atomic, so no request ever sees a half-loaded model.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from truckflow.registry.contract import FeatureContract
from truckflow.serving.errors import NoModelDeployedError
from truckflow.serving.model import FastModel, LoadedModel, ModelSource

__all__ = ["AliasWatcher", "ModelHolder", "ServedModel", "SwapResult"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class ServedModel:
    """A loaded version as the API uses it: metadata plus one predict over a float array."""

    model: LoadedModel
    stage: str
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        names = tuple(self.model.feature_names)
        object.__setattr__(self, "feature_names", names)
        object.__setattr__(self, "version", str(self.model.version))
        object.__setattr__(self, "threshold", float(self.model.threshold))
        fast = self.model.predict_proba_array if isinstance(self.model, FastModel) else None
        object.__setattr__(self, "_fast", fast)
        independent = bool(getattr(self.model, "row_independent", False))
        object.__setattr__(self, "row_independent", independent)
        object.__setattr__(self, "contract", getattr(self.model, "contract", None))
        object.__setattr__(self, "_explain", getattr(self.model, "explain", None))
        object.__setattr__(self, "_both", getattr(self.model, "predict_explained", None))
        object.__setattr__(self, "_kept", getattr(self.model, "kept", None))

    feature_names: tuple[str, ...] = field(init=False)
    version: str = field(init=False)
    threshold: float = field(init=False)
    # Whether each row's probability is computed on its own, bit for bit, whatever rows are
    # predicted with it (then concurrent single rows may share one call).
    row_independent: bool = field(init=False)
    # The version's feature contract (None for a version registered without one).
    contract: FeatureContract | None = field(init=False)

    def reasons(self, rows: np.ndarray, k: int) -> list[list[dict[str, Any]]]:
        """The top ``k`` contributions behind each row's prediction, in the user's terms."""
        explain = self.__dict__["_explain"]
        if explain is None or k <= 0:
            return [[] for _ in range(len(rows))]
        return explain(rows, k)  # type: ignore[no-any-return]

    def kept(self, rows: np.ndarray) -> bool:
        """Whether the rows' contributions are kept: reasons then cost no more than a lookup."""
        kept = self.__dict__["_kept"]
        return kept is not None and bool(kept(rows))

    def predict_explained(
        self, rows: np.ndarray, k: int
    ) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
        """``predict`` and ``reasons`` together (the model's input encoded once, if it can)."""
        both = self.__dict__["_both"]
        if both is None or k <= 0:
            return self.predict(rows), self.reasons(rows, k)
        proba, reasons = both(rows, k)
        proba = np.asarray(proba, dtype=np.float64)
        return (proba[:, 1] if proba.ndim == 2 else proba), reasons

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """P(delay) for each row of a float array whose columns follow ``feature_names``."""
        fast = self.__dict__["_fast"]
        if fast is not None:
            proba = fast(rows)
        else:
            proba = self.model.predict_proba(pd.DataFrame(rows, columns=list(self.feature_names)))
        proba = np.asarray(proba, dtype=np.float64)
        return proba[:, 1] if proba.ndim == 2 else proba


@dataclass(frozen=True)
class SwapResult:
    stage: str
    previous_version: str | None
    version: str | None

    @property
    def changed(self) -> bool:
        return self.previous_version != self.version


class ModelHolder:
    """Holds the version behind one stage alias and swaps it when the alias moves."""

    def __init__(
        self,
        source: ModelSource,
        stage: str,
        *,
        on_swap: Callable[[ServedModel | None, ServedModel | None], None] | None = None,
    ) -> None:
        self.source = source
        self.stage = stage
        self._current: ServedModel | None = None
        self._reload_lock = threading.Lock()
        self._on_swap = on_swap

    @property
    def current(self) -> ServedModel | None:
        return self._current

    def require(self) -> ServedModel:
        """The served model, or the 503 error saying that the stage has none."""
        served = self._current
        if served is None:
            raise NoModelDeployedError(self.source.model_name, self.stage)
        return served

    def refresh(self) -> SwapResult:
        """Resolve the alias; if it moved, load the new version fully, then swap it in."""
        with self._reload_lock:  # one load at a time; requests never wait on this lock
            old = self._current
            version = self.source.resolve(self.stage)
            if old is not None and version == old.version:
                return SwapResult(self.stage, old.version, version)
            new = None if version is None else ServedModel(self.source.load(version), self.stage)
            self._current = new
            if self._on_swap is not None:
                self._on_swap(old, new)
            log.info(
                "stage %s now serves %s (was %s)",
                self.stage,
                version,
                None if old is None else old.version,
            )
            return SwapResult(self.stage, None if old is None else old.version, version)


class AliasWatcher:
    """Polls the stage alias every ``interval`` seconds in a daemon thread and swaps on change."""

    def __init__(self, holder: ModelHolder, interval: float) -> None:
        self._holder = holder
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name="truckflow-alias-watcher", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._holder.refresh()
            except Exception:  # keep serving the current version; try again next round
                log.exception("checking the %s alias failed", self._holder.stage)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
