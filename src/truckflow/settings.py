"""One typed settings object, built at the edge (CLI, app factory) and passed down.

Precedence, highest first: explicit arguments, ``TRUCKFLOW_*`` environment variables, a ``.env``
file in the working directory, then the defaults below. Domain code never reads the environment.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["COURSE_BOUNDARY", "Settings"]

COURSE_BOUNDARY = dt.date(2019, 2, 15)  # the course's first streaming day


class Settings(BaseSettings):
    """truckflow's configuration. Every field can be set as ``TRUCKFLOW_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="TRUCKFLOW_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    home: Path = Field(
        default=Path(".truckflow"),
        description="Folder holding the embedded database, artifacts, MLflow store and reports.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the operational database; default a SQLite file in home.",
    )
    ingest_max_field_bytes: int = Field(
        default=1 << 20,
        ge=1024,
        description="A course CSV line with a field larger than this (bytes) is quarantined.",
    )
    ingest_partial: bool = Field(
        default=False,
        description="Load what can be loaded when a table that others depend on is missing "
        "(its dependent rows wait in quarantine); default: refuse, nothing loaded.",
    )
    db_recovery_wait_s: float = Field(
        default=30.0,
        ge=0,
        description="When the database fails mid-run, how long a pipeline keeps trying to mark "
        "its execution failed (and queue the failure event) before it gives up.",
    )
    stream_lock_wait_s: float = Field(
        default=0.0,
        ge=0,
        description="How long a stream step or replay waits for a day that another process is "
        "processing before it refuses (0: refuse at once).",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, ge=0, description="How long SQLite waits for a lock before giving up."
    )
    admin_token: SecretStr | None = Field(
        default=None, description="Token that the serving API's admin endpoints require."
    )
    drift_share: float = Field(
        default=0.1,
        gt=0,
        le=1,
        description="Dataset drift when this share of feature columns drifts (course: 0.1).",
    )
    drift_profile: Literal["adaptive", "evidently"] = Field(
        default="adaptive",
        description="Drift thresholds: adaptive (from reference windows of the week's size, "
        "knows the sample size) or evidently (Evidently's fixed defaults).",
    )
    drift_false_alarm_rate: float = Field(
        default=0.005,
        gt=0,
        lt=0.5,
        description="Adaptive drift profile: share of stationary weeks a column may flag.",
    )
    drift_min_f1: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Model drift when F1 on last week's labelled trips falls below this.",
    )

    notify_file: Path | None = Field(
        default=None,
        description="Notification routing rules (TOML or YAML); default notify.toml or "
        "notify.yaml in home when present, else the built-in rules (JSONL file in home).",
    )
    notify_channels: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Channel URLs by name (JSON object); they add to and override the rules "
        'file\'s channels, e.g. {"ops": "mailtos://user:pass@smtp.example.com?to=ops@example.com"}.',
    )
    notify_routes: list[dict[str, Any]] | None = Field(
        default=None,
        description="Routing rules (JSON list of {events, min_severity, channels}); replace the "
        "rules file's routes when set.",
    )
    notify_retry_base_s: float = Field(
        default=30.0, gt=0, description="First retry delay of a failed delivery; doubles each time."
    )
    notify_retry_max_s: float = Field(
        default=3600.0, gt=0, description="Longest delay between two delivery attempts."
    )
    notify_claim_timeout_s: float = Field(
        default=300.0,
        gt=0,
        description="A dispatcher's claim on outbox rows lapses after this long (crashed runs).",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description=(
            "MLflow tracking and registry URI (an MLflow server's URL, or a database URL); "
            "default a SQLite store mlflow.db in home, with artifacts in home/mlartifacts."
        ),
    )
    model_name: str = Field(
        default="truck-delay", description="Registered model name of the delay classifier."
    )

    artifact_url: str | None = Field(
        default=None,
        description="fsspec URL of the pipeline artifact store; default the folder artifacts/ in home.",
    )
    pipeline_max_parallel: int = Field(
        default=4, ge=1, description="Steps the local pipeline runner runs at the same time."
    )
    pipeline_heartbeat_s: float = Field(
        default=5.0, gt=0, description="How often a running pipeline execution records a heartbeat."
    )
    pipeline_stale_after_s: float = Field(
        default=60.0,
        gt=0,
        description="An execution owned by another host whose heartbeat is older is interrupted.",
    )
    dask_scheduler: str | None = Field(
        default=None,
        description="Address of a Dask scheduler for the dask runner; default a LocalCluster.",
    )
    pipeline_modules: list[str] = Field(
        default_factory=list,
        description="Extra modules to import so that the pipelines they register are listed.",
    )

    serving_stage: Literal["staging", "production"] = Field(
        default="production",
        description="The registry alias whose version the serving API serves.",
    )
    serving_poll_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How often the serving API checks whether its stage alias has moved.",
    )
    serving_capture_batch: int = Field(
        default=500,
        ge=1,
        description="Most captured predictions the serving API writes in one insert.",
    )
    serving_max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="Largest request body the serving API reads (413 beyond, refused while read).",
    )
    serving_max_batch_rows: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Most rows in one /predict/features/batch request (413 beyond).",
    )
    serving_reasons_cache_rows: int = Field(
        default=4096,
        ge=0,
        le=1_000_000,
        description="Rows whose exact contributions the serving API keeps (least recently "
        "used dropped first; 0: none): a trip asked again is explained without TreeSHAP.",
    )

    streaming_data: Path | None = Field(
        default=None,
        description="Folder of the streaming files (streaming_*.csv) the simulation sends; "
        "default the folder the last `truckflow stream` command was given.",
    )
    streaming_boundary: dt.date = Field(
        default=COURSE_BOUNDARY,
        description="First day of the streaming period (the course's 2019-02-15); weeks and "
        "drift checks run every 7 days from it. A trip departing before it is history, "
        "whichever file publishes it.",
    )
    streaming_prediction_deadline_days: int = Field(
        default=0,
        ge=0,
        description="Days after its departure day by which every trip is predicted with what is "
        "known then (0: on its departure day); inputs not in by then are left missing and flagged.",
    )
    streaming_retrain_min_trips: int = Field(
        default=200,
        ge=1,
        description="Least labelled trips in the training and the validation part of a "
        "retraining's split (its test part holds at least promotion_min_trips); fewer: the "
        "retraining is skipped, with the reason.",
    )
    streaming_retrain_trials: int = Field(
        default=20, ge=1, description="Optuna trials per family when drift triggers retraining."
    )
    streaming_retrain_families: str = Field(
        default="logistic_regression,xgboost",
        description="Candidate families trained when drift triggers retraining (comma-separated).",
    )
    streaming_retrain_holdout_days: int = Field(
        default=2,
        ge=1,
        description="Retraining after drift tests on the last this many days of arrivals and "
        "validates on as many before them; everything earlier trains, the recent days included.",
    )
    streaming_retrain_half_life_days: float = Field(
        default=3.0,
        ge=0,
        description="Retraining weights the training rows by recency, halving every this many "
        "days, so that the new model follows what changed (0: equal weights).",
    )
    streaming_retrain_min_f1: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Least test F1 for a retrained model to be registered; it must also not be "
        "worse than production on the same recent test days, the condition that matters after "
        "a change (a model below the drift check's min_f1 can still beat a failing one).",
    )
    promotion_min_trips: int = Field(
        default=500,
        ge=1,
        description="Least labelled trips neither the champion nor the challenger trained on "
        "for a retrained version to be promoted automatically.",
    )
    promotion_tolerance: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="A challenger is promoted when the lower end of the interval of its F1 "
        "minus the champion's is above minus this.",
    )
    bootstrap_resamples: int = Field(
        default=2000,
        ge=100,
        description="Resamples of the bootstrap intervals (promotion's paired F1 difference, "
        "daily F1).",
    )
    bootstrap_confidence: float = Field(
        default=0.95, gt=0.5, lt=1, description="Confidence level of the bootstrap intervals."
    )
    bootstrap_seed: int = Field(default=0, ge=0, description="Seed of the bootstrap resampling.")
    monitoring_min_quality_trips: int = Field(
        default=200,
        ge=1,
        description="Least labelled trips in the weekly window for the model-quality check to "
        "judge (fewer: not judged, and said so).",
    )
    release_smoke_requests: int = Field(
        default=20, ge=1, description="Smoke predictions the release acceptance sends to staging."
    )
    release_latency_budget_ms: float = Field(
        default=1000.0,
        gt=0,
        description="Acceptance fails when the smoke requests' p95 latency exceeds this.",
    )
    release_shadow_trips: int = Field(
        default=2000,
        ge=1,
        description="Most recent labelled trips the shadow evaluation scores both models on.",
    )
    release_shadow_tolerance: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="Acceptance fails when staging's shadow F1 is lower than production's by more.",
    )
    release_staging_url: str | None = Field(
        default=None,
        description="Base URL of a running staging server for the smoke requests; default an "
        "in-process app.",
    )
    release_reload_urls: list[str] = Field(
        default_factory=list,
        description="Base URLs of serving servers told to reload (POST /admin/reload with the "
        "admin token) when an alias moves; servers also notice by polling.",
    )
    release_health_check: str | None = Field(
        default=None,
        description="Extra post-deployment check, 'module:function' called with (settings, "
        "version); it raises or returns a list of problems to fail the check.",
    )

    @model_validator(mode="after")
    def _absolute_home(self) -> Settings:
        self.home = self.home.expanduser().resolve()
        return self

    @property
    def db_url(self) -> str:
        """The database URL in clear text; for connecting only, never for printing."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.home / 'truckflow.db'}"

    @property
    def tracking_uri(self) -> str:
        """The MLflow URI in force (the embedded SQLite store unless one is set)."""
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{self.home / 'mlflow.db'}"

    @property
    def mlflow_artifact_root(self) -> Path:
        """Where the embedded store keeps model files (a server keeps its own)."""
        return self.home / "mlartifacts"

    def origin(self, name: str) -> str:
        """Where a field's value came from: set (argument, environment or .env), or default."""
        if name in self.model_fields_set:
            return f"set (TRUCKFLOW_{name.upper()} or an argument)"
        return "default"

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home

    def public_dict(self) -> dict[str, Any]:
        """Settings as JSON-ready values, secrets masked (passwords inside URLs included)."""
        from sqlalchemy.engine import make_url

        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = None if value is None else "**********"
            elif isinstance(value, dict):
                value = {
                    k: "**********" if isinstance(v, SecretStr) else v for k, v in value.items()
                }
            elif isinstance(value, Path | dt.date):
                value = str(value)
            out[name] = value
        out["database_url"] = make_url(self.db_url).render_as_string(hide_password=True)
        return out
