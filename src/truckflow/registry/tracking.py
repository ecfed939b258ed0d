"""Experiment tracking as an MLflow user expects it: one parent run per training execution,
nested runs below it, datasets logged as run inputs (with MLflow's digests).

Everything goes through ``MlflowClient`` with explicit run ids, never MLflow's fluent "active
run": steps run on threads or Dask workers, where a process-wide active run would be shared or
missing. The runs land in the registry's experiment, so an embedded store keeps their
artifacts under the truckflow home like the models'.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping
from typing import Any

from truckflow.registry.model_registry import ModelRegistry

__all__ = [
    "EXECUTION_TAG",
    "GATE_TAG",
    "PARENT_TAG",
    "find_parent_run",
    "log_datasets",
    "log_nested_run",
    "start_parent_run",
    "tag_run",
]

PARENT_TAG = "mlflow.parentRunId"  # MLflow's own: the UI nests a run under this one
EXECUTION_TAG = "truckflow.execution_id"
GATE_TAG = "truckflow.gate"
_KIND_TAG = "truckflow.run_kind"


def _now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)


def _log(
    registry: ModelRegistry,
    run_id: str,
    params: Mapping[str, Any],
    metrics: Mapping[str, float | None],
    tags: Mapping[str, str],
) -> None:
    from mlflow.entities import Metric, Param, RunTag

    now = _now_ms()
    registry.client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items() if v is not None],
        params=[Param(k, str(v)[:6000]) for k, v in params.items()],
        tags=[RunTag(k, str(v)) for k, v in tags.items()],
    )


def start_parent_run(
    registry: ModelRegistry,
    *,
    name: str,
    execution_id: str,
    params: Mapping[str, Any],
    tags: Mapping[str, str] | None = None,
) -> str:
    """The execution's parent run (created once: a step that reruns finds it again)."""
    found = find_parent_run(registry, execution_id)
    if found is not None:
        return found
    run = registry.client.create_run(registry.experiment_id(), run_name=name)
    run_id = str(run.info.run_id)
    all_tags = {**(tags or {}), EXECUTION_TAG: execution_id, _KIND_TAG: "training"}
    _log(registry, run_id, params, {}, all_tags)
    return run_id


def find_parent_run(registry: ModelRegistry, execution_id: str) -> str | None:
    runs = registry.client.search_runs(
        [registry.experiment_id()],
        filter_string=f"tags.`{EXECUTION_TAG}` = '{execution_id}' "
        f"and tags.`{_KIND_TAG}` = 'training'",
        max_results=1,
    )
    return str(runs[0].info.run_id) if runs else None


def log_nested_run(
    registry: ModelRegistry,
    parent_id: str,
    name: str,
    *,
    params: Mapping[str, Any],
    metrics: Mapping[str, float | None],
    tags: Mapping[str, str] | None = None,
    status: str = "FINISHED",
) -> str:
    """A finished run below ``parent_id`` (a candidate family, or one of its trials)."""
    run = registry.client.create_run(registry.experiment_id(), run_name=name)
    run_id = str(run.info.run_id)
    _log(registry, run_id, params, metrics, {**(tags or {}), PARENT_TAG: parent_id})
    registry.client.set_terminated(run_id, status=status)
    return run_id


def log_datasets(
    registry: ModelRegistry,
    run_id: str,
    frames: Mapping[str, tuple[Any, str]],
    *,
    targets: str | None = None,
) -> dict[str, str]:
    """Log each ``context -> (DataFrame, source)`` as an input of the run; returns the digests.

    The context (``training``, ``validation``, ``test``) is the input's ``mlflow.data.context``
    tag, as ``mlflow.log_input`` sets it; the source names where the rows came from."""
    from mlflow.data.pandas_dataset import from_pandas
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    inputs, digests = [], {}
    for context, (frame, source) in frames.items():
        with warnings.catch_warnings():
            # MLflow warns that a file URI fits two of its source kinds (it picks the local
            # artifact one, as meant) and that integer columns cannot hold missing values.
            warnings.simplefilter("ignore", UserWarning)
            dataset = from_pandas(frame, source=source, targets=targets, name=context)
            entity = dataset._to_mlflow_entity()  # the schema is inferred here
        digests[context] = dataset.digest
        del frame, dataset  # a lazy mapping's frame is gone before the next one is read
        tags = [InputTag(key=MLFLOW_DATASET_CONTEXT, value=context)]
        inputs.append(DatasetInput(dataset=entity, tags=tags))
    registry.client.log_inputs(run_id, datasets=inputs)
    return digests


def tag_run(registry: ModelRegistry, run_id: str, tags: Mapping[str, str]) -> None:
    _log(registry, run_id, {}, {}, tags)
