"""One typed settings object, built at the edge (CLI, app factory) and passed down.

Precedence, highest first: explicit arguments, ``TRUCKFLOW_*`` environment variables, a ``.env``
file in the working directory, then the defaults. Domain code never reads the environment.

The home and the database URL are top-level (``TRUCKFLOW_HOME``, ``TRUCKFLOW_DATABASE_URL``);
everything else sits in one section per concern (``truckflow.settings.sections``), set as
``TRUCKFLOW_<SECTION>__<FIELD>``, e.g. ``TRUCKFLOW_SERVING__REASONS_CACHE_ROWS=0``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from truckflow.settings.sections import (
    COURSE_BOUNDARY,
    BootstrapSettings,
    DatabaseSettings,
    DriftSettings,
    IngestSettings,
    MlflowSettings,
    NotifySettings,
    PipelineSettings,
    PromotionSettings,
    ReleaseSettings,
    RetrainSettings,
    ServingSettings,
    StreamingSettings,
)

__all__ = ["COURSE_BOUNDARY", "DriftSettings", "Settings"]

_MASK = "**********"


class Settings(BaseSettings):
    """truckflow's configuration: ``TRUCKFLOW_HOME``, ``TRUCKFLOW_DATABASE_URL`` and one
    section per concern, each field set as ``TRUCKFLOW_<SECTION>__<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="TRUCKFLOW_",
        env_nested_delimiter="__",
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
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    mlflow: MlflowSettings = Field(default_factory=MlflowSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    serving: ServingSettings = Field(default_factory=ServingSettings)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    streaming: StreamingSettings = Field(default_factory=StreamingSettings)
    retrain: RetrainSettings = Field(default_factory=RetrainSettings)
    promotion: PromotionSettings = Field(default_factory=PromotionSettings)
    bootstrap: BootstrapSettings = Field(default_factory=BootstrapSettings)
    release: ReleaseSettings = Field(default_factory=ReleaseSettings)

    @model_validator(mode="after")
    def _absolute_home(self) -> Settings:
        self.home = self.home.expanduser().resolve()
        return self

    @model_validator(mode="after")
    def _warn_on_flat_names(self) -> Settings:
        """A variable spelled as before the sections (``TRUCKFLOW_SERVING_STAGE``) would be
        ignored without a word; say which name it has now."""
        import os
        import warnings

        for section, model in type(self).model_fields.items():
            fields = getattr(model.annotation, "model_fields", None) or {}
            for field in fields:
                old = f"TRUCKFLOW_{section}_{field}".upper()
                if old in os.environ:
                    new = f"TRUCKFLOW_{section}__{field}".upper()
                    warnings.warn(f"{old} is ignored: the setting is now {new}", stacklevel=2)
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
        if self.mlflow.tracking_uri:
            return self.mlflow.tracking_uri.get_secret_value()
        return f"sqlite:///{self.home / 'mlflow.db'}"

    @property
    def mlflow_artifact_root(self) -> Path:
        """Where the embedded store keeps model files (a server keeps its own)."""
        return self.home / "mlartifacts"

    def origin(self, name: str) -> str:
        """Where a value came from, by its dotted name (``streaming.boundary``): set (argument,
        environment or .env), or default."""
        section, _, field = name.rpartition(".")
        owner: BaseModel = getattr(self, section) if section else self
        if field in owner.model_fields_set:
            return f"set (TRUCKFLOW_{name.upper().replace('.', '__')} or an argument)"
        return "default"

    def updated(self, **changes: Any) -> Settings:
        """A copy with some values changed, validated; a section takes a mapping of its fields
        (``settings.updated(release={"latency_budget_ms": 5.0})``) and keeps the others."""
        update: dict[str, Any] = {}
        for key, value in changes.items():
            current = getattr(self, key)
            if isinstance(current, BaseModel) and isinstance(value, Mapping):
                checked = type(current).model_validate({**current.model_dump(), **value})
                # model_copy rather than the validated model: fields_set (origin) stays true.
                value = current.model_copy(update={k: getattr(checked, k) for k in value})
            update[key] = value
        return self.model_copy(update=update)

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home

    def public_dict(self) -> dict[str, Any]:
        """Settings as JSON-ready values, by section, secrets masked (passwords inside URLs
        included)."""
        from sqlalchemy.engine import make_url

        out: dict[str, Any] = {
            name: _public(getattr(self, name)) for name in type(self).model_fields
        }
        out["database_url"] = make_url(self.db_url).render_as_string(hide_password=True)
        if self.mlflow.tracking_uri:  # unset stays None: the embedded store, as before
            out["mlflow"]["tracking_uri"] = _hide_url_password(self.tracking_uri)
        return out


def _public(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return _MASK
    if isinstance(value, BaseModel):
        return {name: _public(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_public(v) for v in value]
    if isinstance(value, Path | dt.date):
        return str(value)
    return value


def _hide_url_password(url: str) -> str:
    """A database URL given as MLflow's store may carry a password, as the main one does."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if not password:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{password}@", ":***@", 1)).geturl()
