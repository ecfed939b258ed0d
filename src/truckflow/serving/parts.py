"""What the serving app's routers share: the stage's model holder, the capture writer, the
metrics and the predictor, built once per app, started and stopped with it."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from truckflow.serving.capture import CaptureWriter
from truckflow.serving.contract_body import ContractVectors
from truckflow.serving.errors import ServingError
from truckflow.serving.holder import AliasWatcher, ModelHolder, ServedModel
from truckflow.serving.metrics import ServingMetrics
from truckflow.serving.model import FeatureSource, ModelSource
from truckflow.serving.predict import Predictor
from truckflow.serving.vectors import FeatureVectors
from truckflow.settings import Settings
from truckflow.store import Database

__all__ = ["ServingParts", "freeze_heap"]

log = logging.getLogger(__name__)


def freeze_heap() -> None:
    """Move every object alive now (libraries, the loaded model) out of the collector's reach.

    A served process holds some 350k long-lived objects (MLflow, scikit-learn, pandas, the
    model); a full collection walks them all and stops every request for about 200 ms, several
    times a minute under load. Frozen objects are still freed by reference counting; only
    cycles among them are never collected, which costs little against the stalls.
    """
    gc.collect()
    gc.freeze()


@dataclass(frozen=True)
class ServingParts:
    holder: ModelHolder
    writer: CaptureWriter
    watcher: AliasWatcher
    metrics: ServingMetrics
    predictor: Predictor

    @classmethod
    def build(
        cls,
        settings: Settings,
        model_source: ModelSource,
        feature_source: FeatureSource | None,
        db: Database,
        stage: str,
    ) -> ServingParts:
        """The parts; the stage's version is loaded now (none yet: 503 until it appears)."""
        metrics = ServingMetrics()

        def on_swap(old: ServedModel | None, new: ServedModel | None) -> None:
            metrics.model_swapped(
                None if old is None else (old.version, stage),
                None if new is None else (new.version, stage),
            )
            freeze_heap()

        holder = ModelHolder(model_source, stage, on_swap=on_swap)
        try:
            holder.refresh()
        except ServingError as exc:
            log.warning("starting without a model on %s: %s", stage, exc)
        writer = CaptureWriter(db, batch_rows=settings.serving.capture_batch)
        metrics.watch_capture(writer)
        current = holder.current
        contract = None if current is None else current.contract
        vectors: FeatureVectors | ContractVectors
        if contract is not None:
            vectors = ContractVectors(contract, settings.serving.max_batch_rows)
        else:
            vectors = FeatureVectors(None if current is None else current.feature_names)
        predictor = Predictor(
            holder, writer, metrics, feature_source, vectors, settings.serving.max_batch_rows
        )
        watcher = AliasWatcher(holder, settings.serving.poll_seconds)
        return cls(holder, writer, watcher, metrics, predictor)

    @contextmanager
    def running(self, watch: bool) -> Iterator[None]:
        """The capture writer (and the alias watcher) for the app's lifetime."""
        self.writer.start()
        if watch:
            self.watcher.start()
        try:
            yield
        finally:
            self.watcher.stop()
            self.writer.close()  # flushes every captured prediction before the process ends
