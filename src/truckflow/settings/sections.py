"""The sections of ``Settings``: one per concern, each set as ``TRUCKFLOW_<SECTION>__<FIELD>``.

Each default is written here only; code that needs one reads it from here (``DriftConfig`` does).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "COURSE_BOUNDARY",
    "BootstrapSettings",
    "DatabaseSettings",
    "DriftSettings",
    "IngestSettings",
    "MlflowSettings",
    "NotifySettings",
    "PipelineSettings",
    "PromotionSettings",
    "ReleaseSettings",
    "RetrainSettings",
    "ServingSettings",
    "StreamingSettings",
]

COURSE_BOUNDARY = dt.date(2019, 2, 15)  # the course's first streaming day


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class DatabaseSettings(_Section):
    """The operational database beyond its URL (``TRUCKFLOW_DATABASE__*``)."""

    recovery_wait_s: float = Field(
        default=30.0,
        ge=0,
        description="When the database fails mid-run, how long a pipeline keeps trying to mark "
        "its execution failed (and queue the failure event) before it gives up.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, ge=0, description="How long SQLite waits for a lock before giving up."
    )


class IngestSettings(_Section):
    """Loading the course files (``TRUCKFLOW_INGEST__*``)."""

    max_field_bytes: int = Field(
        default=1 << 20,
        ge=1024,
        description="A course CSV line with a field larger than this (bytes) is quarantined.",
    )
    partial: bool = Field(
        default=False,
        description="Load what can be loaded when a table that others depend on is missing "
        "(its dependent rows wait in quarantine); default: refuse, nothing loaded.",
    )


class MlflowSettings(_Section):
    """MLflow tracking and the model registry (``TRUCKFLOW_MLFLOW__*``)."""

    # Secret: a database URL as MLflow's store carries a password, as the main one does.
    tracking_uri: SecretStr | None = Field(
        default=None,
        description="MLflow tracking and registry URI (an MLflow server's URL, or a database "
        "URL); default a SQLite store mlflow.db in home, with artifacts in home/mlartifacts.",
    )
    model_name: str = Field(
        default="truck-delay", description="Registered model name of the delay classifier."
    )


class PipelineSettings(_Section):
    """The pipeline engine (``TRUCKFLOW_PIPELINE__*``)."""

    artifact_url: str | None = Field(
        default=None,
        description="fsspec URL of the pipeline artifact store; default the folder artifacts/ in home.",
    )
    runner: Literal["local", "dask"] = Field(
        default="local",
        description="The runner of the pipelines a command runs when it is not given one "
        "(pipeline run, stream replay and step, demo, features fill): local (threads of the "
        "process) or dask (tasks on dask_scheduler, else on a LocalCluster it starts).",
    )
    max_parallel: int = Field(
        default=4, ge=1, description="Steps the local pipeline runner runs at the same time."
    )
    partition_threads: int = Field(
        default=1,
        ge=1,
        description="Threads the local runner gives a data-parallel step's partitions (feature "
        "fill, daily predictions, drift check); 1 runs them one after another. The dask runner "
        "runs them as cluster tasks.",
    )
    heartbeat_s: float = Field(
        default=5.0, gt=0, description="How often a running pipeline execution records a heartbeat."
    )
    stale_after_s: float = Field(
        default=60.0,
        gt=0,
        description="An execution owned by another host whose heartbeat is older is interrupted.",
    )
    dask_scheduler: str | None = Field(
        default=None,
        description="Address of a Dask scheduler for the dask runner; default a LocalCluster.",
    )
    modules: list[str] = Field(
        default_factory=list,
        description="Extra modules to import so that the pipelines they register are listed.",
    )


class ServingSettings(_Section):
    """The serving API (``TRUCKFLOW_SERVING__*``)."""

    stage: Literal["staging", "production"] = Field(
        default="production", description="The registry alias whose version the serving API serves."
    )
    poll_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How often the serving API checks whether its stage alias has moved.",
    )
    capture_batch: int = Field(
        default=500,
        ge=1,
        description="Most captured predictions the serving API writes in one insert.",
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="Largest request body the serving API reads (413 beyond, refused while read).",
    )
    max_batch_rows: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Most rows in one /predict/features/batch request (413 beyond).",
    )
    reasons_cache_rows: int = Field(
        default=4096,
        ge=0,
        le=1_000_000,
        description="Rows whose exact contributions the serving API keeps (least recently "
        "used dropped first; 0: none): a trip asked again is explained without TreeSHAP.",
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description="Token that the serving API's admin endpoints require (and that a release "
        "sends to the servers it tells to reload).",
    )


class DriftSettings(_Section):
    """The weekly drift and model-quality checks (``TRUCKFLOW_DRIFT__*``); the finer thresholds
    are in ``truckflow.monitoring.config.DriftConfig``, which takes these defaults from here."""

    share: float = Field(
        default=0.1,
        gt=0,
        le=1,
        description="Dataset drift when this share of feature columns drifts (course: 0.1; "
        "Evidently's own default is 0.5).",
    )
    profile: Literal["adaptive", "evidently"] = Field(
        default="adaptive",
        description="Drift thresholds: adaptive (from reference windows of the week's size, "
        "knows the sample size) or evidently (Evidently's fixed defaults).",
    )
    false_alarm_rate: float = Field(
        default=0.005,
        gt=0,
        lt=0.5,
        description="Adaptive drift profile: share of stationary weeks a column may flag.",
    )
    min_f1: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Model drift when F1 on last week's labelled trips falls below this.",
    )
    min_quality_trips: int = Field(
        default=200,
        ge=1,
        description="Least labelled trips in the weekly window for the model-quality check to "
        "judge (fewer: not judged, and said so).",
    )


class NotifySettings(_Section):
    """Notifications (``TRUCKFLOW_NOTIFY__*``)."""

    file: Path | None = Field(
        default=None,
        description="Notification routing rules (TOML or YAML); default notify.toml or "
        "notify.yaml in home when present, else the built-in rules (JSONL file in home).",
    )
    channels: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Channel URLs by name (JSON object); they add to and override the rules "
        'file\'s channels, e.g. {"ops": "mailtos://user:pass@smtp.example.com?to=ops@example.com"}.',
    )
    routes: list[dict[str, Any]] | None = Field(
        default=None,
        description="Routing rules (JSON list of {events, min_severity, channels}); replace the "
        "rules file's routes when set.",
    )
    retry_base_s: float = Field(
        default=30.0, gt=0, description="First retry delay of a failed delivery; doubles each time."
    )
    retry_max_s: float = Field(
        default=3600.0, gt=0, description="Longest delay between two delivery attempts."
    )
    claim_timeout_s: float = Field(
        default=300.0,
        gt=0,
        description="A dispatcher's claim on outbox rows lapses after this long (crashed runs).",
    )


class StreamingSettings(_Section):
    """The streaming simulation (``TRUCKFLOW_STREAMING__*``)."""

    data: Path | None = Field(
        default=None,
        description="Folder of the streaming files (streaming_*.csv) the simulation sends; "
        "default the folder the last `truckflow stream` command was given.",
    )
    boundary: dt.date = Field(
        default=COURSE_BOUNDARY,
        description="First day of the streaming period (the course's 2019-02-15); weeks and "
        "drift checks run every 7 days from it. A trip departing before it is history, "
        "whichever file publishes it.",
    )
    prediction_deadline_days: int = Field(
        default=0,
        ge=0,
        description="Days after its departure day by which every trip is predicted with what is "
        "known then (0: on its departure day); inputs not in by then are left missing and flagged.",
    )
    lock_wait_s: float = Field(
        default=0.0,
        ge=0,
        description="How long a stream step or replay waits for a day that another process is "
        "processing before it refuses (0: refuse at once).",
    )


class RetrainSettings(_Section):
    """Retraining when drift is found (``TRUCKFLOW_RETRAIN__*``)."""

    min_trips: int = Field(
        default=200,
        ge=1,
        description="Least labelled trips in the training and the validation part of a "
        "retraining's split (its test part holds at least promotion.min_trips); fewer: the "
        "retraining is skipped, with the reason.",
    )
    trials: int = Field(
        default=20, ge=1, description="Optuna trials per family when drift triggers retraining."
    )
    families: str = Field(
        default="logistic_regression,xgboost",
        description="Candidate families trained when drift triggers retraining (comma-separated).",
    )
    holdout_days: int = Field(
        default=2,
        ge=1,
        description="Retraining after drift tests on the last this many days of arrivals and "
        "validates on as many before them; everything earlier trains, the recent days included.",
    )
    half_life_days: float = Field(
        default=3.0,
        ge=0,
        description="Retraining weights the training rows by recency, halving every this many "
        "days, so that the new model follows what changed (0: equal weights).",
    )
    min_f1: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Least test F1 for a retrained model to be registered; it must also not be "
        "worse than production on the same recent test days, the condition that matters after "
        "a change (a model below drift.min_f1 can still beat a failing one).",
    )
    own_process: bool = Field(
        default=True,
        description="Run the retraining in a Python process of its own, so that the process "
        "running the drift flow (the streaming replay, a Dask worker) does not keep the fit's "
        "peak memory; an in-memory SQLite database keeps it in the process.",
    )


class PromotionSettings(_Section):
    """Automatic promotion of a retrained version (``TRUCKFLOW_PROMOTION__*``)."""

    min_trips: int = Field(
        default=500,
        ge=1,
        description="Least labelled trips neither the champion nor the challenger trained on "
        "for a retrained version to be promoted automatically.",
    )
    tolerance: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="A challenger is promoted when the lower end of the interval of its F1 "
        "minus the champion's is above minus this.",
    )


class BootstrapSettings(_Section):
    """The bootstrap intervals of promotion and daily F1 (``TRUCKFLOW_BOOTSTRAP__*``)."""

    resamples: int = Field(
        default=2000,
        ge=100,
        description="Resamples of the bootstrap intervals (promotion's paired F1 difference, "
        "daily F1).",
    )
    confidence: float = Field(
        default=0.95, gt=0.5, lt=1, description="Confidence level of the bootstrap intervals."
    )
    seed: int = Field(default=0, ge=0, description="Seed of the bootstrap resampling.")


class ReleaseSettings(_Section):
    """The release pipeline's acceptance and deployment (``TRUCKFLOW_RELEASE__*``)."""

    smoke_requests: int = Field(
        default=20, ge=1, description="Smoke predictions the release acceptance sends to staging."
    )
    latency_budget_ms: float = Field(
        default=1000.0,
        gt=0,
        description="Acceptance fails when the smoke requests' p95 latency exceeds this.",
    )
    shadow_trips: int = Field(
        default=2000,
        ge=1,
        description="Most recent labelled trips the shadow evaluation scores both models on.",
    )
    shadow_tolerance: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="Acceptance fails when staging's shadow F1 is lower than production's by more.",
    )
    staging_url: str | None = Field(
        default=None,
        description="Base URL of a running staging server for the smoke requests; default an "
        "in-process app.",
    )
    reload_urls: list[str] = Field(
        default_factory=list,
        description="Base URLs of serving servers told to reload (POST /admin/reload with the "
        "admin token) when an alias moves; servers also notice by polling.",
    )
    health_check: str | None = Field(
        default=None,
        description="Extra post-deployment check, 'module:function' called with (settings, "
        "version); it raises or returns a list of problems to fail the check.",
    )
