"""The generic pipeline engine: SageMaker Pipelines' ideas, run on a laptop or a Dask cluster.

It knows nothing about trucks. A pipeline is data (a name, typed parameters, steps); a runner
executes it, recording every execution and step in the operational database, caching step
outputs, retrying, timing out, resuming, and emitting events to an ``EventSink``.

Example::

    from truckflow.pipeline import (
        CachePolicy, Condition, ConditionStep, FailStep, LocalRunner, Parameter, Pipeline,
        RetryPolicy, StepContext, ref, register_pipeline, step,
    )

    @step(retry=RetryPolicy(max_attempts=3, interval_s=1), cache=True, timeout_s=600)
    def train(rows: int, seed: int, context: StepContext) -> dict:
        model = ...                                  # any Python object
        return {"model": context.artifacts.put_object(model), "metrics": {"f1": 0.91}}

    @step
    def register(model: dict, f1: float) -> dict:    # model arrives as an ArtifactRef
        return {"version": 3}

    rows = Parameter("rows", "int", default=1000)
    threshold = Parameter("threshold", "float", default=0.8)

    def training() -> Pipeline:
        return Pipeline("training", parameters=[rows, threshold], steps=[
            train.as_step(rows=rows, seed=42),              # name defaults to "train"
            ConditionStep(
                "good_enough",
                Condition.ge(ref("train")["metrics"]["f1"], threshold),
                if_steps=[register.as_step(model=ref("train")["model"],
                                           f1=ref("train")["metrics"]["f1"])],
                else_steps=[FailStep("too_weak", "f1 {f1} < {t}",
                                     f1=ref("train")["metrics"]["f1"], t=threshold)],
            ),
        ])

    register_pipeline("training", training)               # listed by `truckflow pipeline list`
    with LocalRunner(db, artifacts=ArtifactStore(folder)) as runner:    # db: migrated
        result = runner.run(training(), {"rows": 500})
    result.status, result.outputs["train"]["metrics"]     # or run_pipeline("training", ...)

Rules: step functions are module-level (runners import them by name) and return a dict of JSON
data and ``ArtifactRef``s; inputs are parameters, constants and ``ref(step)[key]...``; a function
may declare ``context`` (a ``StepContext``: execution id, step, artifacts, a scratch folder, a
logger, the ``resources`` the application handed the runner, and ``partitions``:
``context.partitions.map(fn, items)`` runs a top-level ``fn`` over the items as separate tasks,
threads locally, Dask tasks on a cluster).
``Pipeline(..., cache=CachePolicy())`` sets the default cache policy of its steps (off otherwise).
``Pipeline(..., outcome=fn)``: ``fn(outputs, execution_id)`` returns an ``Outcome`` (what a run
that ended well means, e.g. a release ``pending_approval``): recorded as the execution's
``outcome``, its event told instead of ``pipeline.succeeded``.

Running: ``LocalRunner(db, artifacts=..., limits=Limits(max_parallel=4))`` (threads) or
``DaskRunner(db, artifacts=..., address=...)`` (a LocalCluster of worker processes without an address) give the same results;
``runner.run(p, params)`` returns an ``ExecutionResult`` (``status``, ``outputs``, ``steps``,
``raise_for_status()``) and never raises for a failed step. ``runner.resume(p, execution_id)``
reruns what did not succeed; ``runner.run(p, steps=[...], reuse_from=execution_id)`` runs only
the chosen steps. ``run_pipeline("name", params, db=..., artifacts=...)`` does it all for a
registered pipeline. The engine takes a database, an artifact store and ``Limits``, never the
application's settings. Records: ``get_execution``, ``list_executions``; ``request_stop`` stops a run;
``mark_interrupted`` (done by every run) marks executions whose process died.
"""

from truckflow.pipeline.api import make_runner, resume_execution, run_pipeline
from truckflow.pipeline.artifacts import ArtifactError, ArtifactRef, ArtifactStore
from truckflow.pipeline.conditions import Condition
from truckflow.pipeline.context import StepContext
from truckflow.pipeline.definition import Pipeline
from truckflow.pipeline.errors import (
    DefinitionError,
    ExecutionNotFoundError,
    ParameterError,
    PipelineError,
    StepTimeoutError,
)
from truckflow.pipeline.history import (
    ExecutionResult,
    StepResult,
    get_execution,
    list_executions,
    mark_interrupted,
    request_stop,
)
from truckflow.pipeline.limits import Limits
from truckflow.pipeline.outcome import Outcome
from truckflow.pipeline.params import Parameter
from truckflow.pipeline.partitions import (
    SERIAL,
    ClusterPartitions,
    DaskPartitions,
    PartitionError,
    Partitions,
    SerialPartitions,
    ThreadPartitions,
    cluster_partitions,
)
from truckflow.pipeline.refs import StepRef, ref
from truckflow.pipeline.registry import get_pipeline, pipeline_names, register_pipeline
from truckflow.pipeline.runners import DaskRunner, LocalRunner, Runner
from truckflow.pipeline.steps import (
    CachePolicy,
    ConditionStep,
    FailStep,
    FunctionStep,
    RetryPolicy,
    StepFunction,
    step,
)

__all__ = [
    "SERIAL",
    "ArtifactError",
    "ArtifactRef",
    "ArtifactStore",
    "CachePolicy",
    "ClusterPartitions",
    "Condition",
    "ConditionStep",
    "DaskPartitions",
    "DaskRunner",
    "DefinitionError",
    "ExecutionNotFoundError",
    "ExecutionResult",
    "FailStep",
    "FunctionStep",
    "Limits",
    "LocalRunner",
    "Outcome",
    "Parameter",
    "ParameterError",
    "PartitionError",
    "Partitions",
    "Pipeline",
    "PipelineError",
    "RetryPolicy",
    "Runner",
    "SerialPartitions",
    "StepContext",
    "StepFunction",
    "StepRef",
    "StepResult",
    "StepTimeoutError",
    "ThreadPartitions",
    "cluster_partitions",
    "get_execution",
    "get_pipeline",
    "list_executions",
    "make_runner",
    "mark_interrupted",
    "pipeline_names",
    "ref",
    "register_pipeline",
    "request_stop",
    "resume_execution",
    "run_pipeline",
    "step",
]
