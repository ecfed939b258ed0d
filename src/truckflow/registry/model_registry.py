"""MLflow tracking and model registry behind one small class.

Registration saves the model with explicit pip requirements (MLflow infers nothing), records the
sha256 of the saved files as a version tag, and tags the version with its approval status, data
window, feature-table version, pipeline execution, code revision and metrics. Loading downloads
the files, recomputes the checksum and refuses a mismatch. The registry knows nothing about
trucks: the model, its metrics and tags are arguments.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from truckflow.registry.errors import RegistryError
from truckflow.registry.registration import KEY_TAG, create_version, plan, resume_registration
from truckflow.registry.support import code_revision, directory_checksum, pinned_requirements
from truckflow.registry.versions import (
    APPROVAL_BY_TAG,
    APPROVAL_COMMENT_TAG,
    APPROVAL_TAG,
    APPROVAL_UPDATED_TAG,
    APPROVED,
    METRIC_PREFIX,
    PENDING,
    REJECTED,
    ModelVersion,
    Stage,
    VersionMetadata,
)
from truckflow.settings import Settings

__all__ = ["ModelRegistry", "RegistryError"]

_MODEL_DIR = "model"


def _quiet_mlflow() -> None:
    # Set before MLflow is imported: its telemetry reads these once.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


@contextmanager
def _wrapped(what: str) -> Iterator[None]:
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        raise RegistryError(f"{what}: {exc.message}") from exc


@contextmanager
def _muted(logger: str) -> Iterator[None]:
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _version_tags(
    tags: Mapping[str, str] | None, metrics: Mapping[str, float], carried: VersionMetadata
) -> dict[str, str]:
    """A new version's tags: the caller's, its metrics, pending approval, then its metadata."""
    return {
        **{k: str(v) for k, v in (tags or {}).items()},
        **{f"{METRIC_PREFIX}{k}": f"{float(v):.6g}" for k, v in metrics.items()},
        APPROVAL_TAG: PENDING,
        **carried.to_tags(),
    }


class ModelRegistry:
    """Versions of one registered model in an MLflow store."""

    def __init__(
        self,
        tracking_uri: str,
        *,
        model_name: str = "truck-delay",
        experiment: str = "truckflow",
        artifact_root: Path | None = None,
    ) -> None:
        _quiet_mlflow()
        from mlflow import MlflowClient

        self.tracking_uri = tracking_uri
        self.model_name = model_name
        self._experiment_name = experiment
        self._artifact_root = artifact_root
        self._experiment_id: str | None = None
        self._client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelRegistry:
        embedded = settings.mlflow.tracking_uri is None
        if embedded:
            settings.ensure_home()
        return cls(
            settings.tracking_uri,
            model_name=settings.mlflow.model_name,
            artifact_root=settings.mlflow_artifact_root if embedded else None,
        )

    @classmethod
    def local(cls, home: Path, model_name: str = "truck-delay") -> ModelRegistry:
        """The embedded store of a home folder (SQLite plus an artifact folder)."""
        home.mkdir(parents=True, exist_ok=True)
        return cls(
            f"sqlite:///{home / 'mlflow.db'}",
            model_name=model_name,
            artifact_root=home / "mlartifacts",
        )

    @property
    def client(self) -> Any:
        """The ``MlflowClient`` of this store (experiment tracking uses it)."""
        return self._client

    def experiment_id(self) -> str:
        return self._experiment()

    # -- registration -------------------------------------------------------------------------

    def _experiment(self) -> str:
        if self._experiment_id is None:
            with _wrapped(f"opening experiment {self._experiment_name} at {self.tracking_uri}"):
                found = self._client.get_experiment_by_name(self._experiment_name)
                if found is not None:
                    self._experiment_id = str(found.experiment_id)
                else:
                    location = (
                        self._artifact_root.resolve().as_uri() if self._artifact_root else None
                    )
                    self._experiment_id = str(
                        self._client.create_experiment(
                            self._experiment_name, artifact_location=location
                        )
                    )
        return self._experiment_id

    def _ensure_registered_model(self) -> None:
        from mlflow.exceptions import MlflowException

        try:
            self._client.get_registered_model(self.model_name)
        except MlflowException:
            with _wrapped(f"creating registered model {self.model_name}"):
                self._client.create_registered_model(self.model_name)

    def register(
        self,
        model: Any,
        *,
        metrics: Mapping[str, float],
        metadata: VersionMetadata | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, object] | None = None,
        data_window: str | None = None,
        feature_version: str | None = None,
        execution_id: str | None = None,
        revision: str | None = None,
        pip_requirements: Sequence[str] | None = None,
        artifacts: Sequence[Path] = (),
        signature: Any = None,
        idempotency_key: str | None = None,
        parent_run_id: str | None = None,
    ) -> ModelVersion:
        """Log ``model`` (scikit-learn API) in a run and register it as a new version carrying
        ``metadata`` (threshold, calibration...) plus the checksum and the lineage given. With an ``idempotency_key`` (the training pipeline gives its execution), registration
        is idempotent: a rerun with the same key, after a crash anywhere in here, ends with one
        version carrying all its tags. With ``parent_run_id`` the model's run is nested under
        that run (the training execution's)."""
        experiment = self._experiment()
        key = idempotency_key or None
        with _wrapped(f"registering a version of {self.model_name} at {self.tracking_uri}"):
            if key is not None:
                self._ensure_registered_model()
                found = resume_registration(self._client, self.model_name, experiment, key)
                if found is not None:
                    return self.get(found)
            run_id, source, checksum = self._log_model_run(
                experiment,
                model,
                metrics,
                tags,
                params,
                pip_requirements,
                artifacts,
                key,
                signature=signature,
                parent_run_id=parent_run_id,
            )
            known = metadata or VersionMetadata()
            carried = known.merged(
                checksum=checksum,
                data_window=data_window,
                feature_version=feature_version,
                execution_id=execution_id,
                code_revision=revision or known.code_revision or code_revision(),
            )
            version_tags = _version_tags(tags, metrics, carried)
            plan(self._client, run_id, source, version_tags)
            self._client.set_terminated(run_id)
            self._ensure_registered_model()
            version = create_version(self._client, self.model_name, source, run_id, version_tags)
        return self.get(version)

    def _log_model_run(
        self,
        experiment: str,
        model: Any,
        metrics: Mapping[str, float],
        tags: Mapping[str, str] | None,
        params: Mapping[str, object] | None,
        pip_requirements: Sequence[str] | None,
        artifacts: Sequence[Path],
        key: str | None,
        *,
        signature: Any = None,
        parent_run_id: str | None = None,
    ) -> tuple[str, str, str]:
        """A run holding the saved model; returns its id, the model's source URI and checksum."""
        import mlflow.sklearn
        from mlflow.entities import Metric, Param, RunTag

        run = self._client.create_run(experiment, run_name=f"{self.model_name}-register")
        run_id = run.info.run_id
        now_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
        run_tags = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
        if key is not None:
            run_tags.append(RunTag(KEY_TAG, key))
        if parent_run_id is not None:
            run_tags.append(RunTag("mlflow.parentRunId", parent_run_id))
        self._client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), now_ms, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)[:6000]) for k, v in (params or {}).items()],
            tags=run_tags,
        )
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / _MODEL_DIR
            # MLflow warns that pickles run code when loaded: load() only unpickles files
            # whose checksum matches the one recorded here, so the warning is muted.
            with _muted("mlflow.sklearn"):
                mlflow.sklearn.save_model(
                    model,
                    str(folder),
                    serialization_format="cloudpickle",
                    pip_requirements=list(pip_requirements or pinned_requirements()),
                    signature=signature,
                )
            checksum = directory_checksum(folder)
            self._client.log_artifacts(run_id, str(folder), _MODEL_DIR)
        for path in artifacts:
            self._client.log_artifact(run_id, str(path), "evaluation")
        return run_id, f"{run.info.artifact_uri}/{_MODEL_DIR}", checksum

    # -- reading ------------------------------------------------------------------------------

    def _version(self, raw: Any) -> ModelVersion:
        return ModelVersion(
            name=raw.name,
            version=str(raw.version),
            source=raw.source,
            run_id=raw.run_id,
            created_at=dt.datetime.fromtimestamp(raw.creation_timestamp / 1000, dt.UTC),
            tags=dict(raw.tags),
            aliases=tuple(sorted(getattr(raw, "aliases", []) or [])),
        )

    def get(self, version: str | int) -> ModelVersion:
        from mlflow.exceptions import MlflowException

        try:
            return self._version(self._client.get_model_version(self.model_name, str(version)))
        except MlflowException as exc:
            raise RegistryError(
                f"model {self.model_name} has no version {version} at {self.tracking_uri}"
            ) from exc

    def list_versions(self) -> list[ModelVersion]:
        """Every version with its aliases, newest first."""
        with _wrapped(f"listing versions of {self.model_name}"):
            found = self._client.search_model_versions(f"name = '{self.model_name}'")
            by_version = self._aliases_by_version() if found else {}
        versions = (self._version(v) for v in found)
        # MLflow's version search leaves ``aliases`` empty: they come from the registered model.
        return sorted(
            (
                dataclasses.replace(v, aliases=tuple(sorted(by_version.get(v.version, []))))
                for v in versions
            ),
            key=lambda v: -int(v.version),
        )

    def _aliases_by_version(self) -> dict[str, list[str]]:
        model = self._client.get_registered_model(self.model_name)
        out: dict[str, list[str]] = {}
        for alias, version in (getattr(model, "aliases", None) or {}).items():
            out.setdefault(str(version), []).append(str(alias))
        return out

    # -- approval -----------------------------------------------------------------------------

    def _set_approval(
        self, version: str | int, status: str, comment: str | None, by: str | None = None
    ) -> ModelVersion:
        current = self.get(version)
        allowed = {APPROVED: {PENDING}, REJECTED: {PENDING, APPROVED}}[status]
        if current.approval_status not in allowed:
            raise RegistryError(
                f"model {self.model_name} version {current.version} is "
                f"{current.approval_status}: it cannot become {status}",
                hint="only a pending version can be approved; an approved one can be rejected",
            )
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with _wrapped(f"setting the approval of {self.model_name} version {current.version}"):
            for key, value in (
                (APPROVAL_TAG, status),
                (APPROVAL_COMMENT_TAG, comment or ""),
                (APPROVAL_UPDATED_TAG, stamp),
                (APPROVAL_BY_TAG, by or ""),
            ):
                self._client.set_model_version_tag(self.model_name, current.version, key, value)
        return self.get(current.version)

    def approve(
        self, version: str | int, comment: str | None = None, *, by: str | None = None
    ) -> ModelVersion:
        """Approve a pending version; ``by`` (a person, or ``auto``) is kept as a tag."""
        return self._set_approval(version, APPROVED, comment, by)

    def reject(self, version: str | int, comment: str, *, by: str | None = None) -> ModelVersion:
        if not comment.strip():
            raise RegistryError("rejecting a model version needs a comment saying why")
        return self._set_approval(version, REJECTED, comment, by)

    # -- aliases and loading ------------------------------------------------------------------

    def set_alias(self, stage: Stage | str, version: str | int) -> ModelVersion:
        """Point a stage's alias at a version. Only the deployment path
        (``truckflow.pipelines.shared.deploy.move_stage``) calls this: it records the move."""
        alias = Stage.parse(stage)
        target = self.get(version)
        with _wrapped(f"pointing alias {alias} at {self.model_name} version {target.version}"):
            self._client.set_registered_model_alias(self.model_name, alias, target.version)
        return self.get(target.version)

    def get_alias(self, stage: Stage | str) -> ModelVersion | None:
        """The version a stage's alias points at, None when it points nowhere."""
        from mlflow.exceptions import MlflowException

        alias = Stage.parse(stage)
        try:
            raw = self._client.get_model_version_by_alias(self.model_name, alias)
        except MlflowException:
            return None
        return self._version(raw)

    def delete_alias(self, stage: Stage | str) -> None:
        """Empty a stage (the deployment path's ``clear_stage`` calls this)."""
        alias = Stage.parse(stage)
        with _wrapped(f"removing alias {alias} of {self.model_name}"):
            self._client.delete_registered_model_alias(self.model_name, alias)

    def load(self, version: str | int | None = None, *, alias: Stage | str | None = None) -> Any:
        """The model of a version (or of an alias), after checking its files' checksum: the
        native model of ``truckflow.registry.load_version``, the one verified loader."""
        from truckflow.registry.loading import load_version

        if (version is None) == (alias is None):
            raise RegistryError("load takes a version or an alias, exactly one")
        target = self.get(version) if version is not None else self.get_alias(alias or "")
        if target is None:
            raise RegistryError(f"alias {alias} of model {self.model_name} points at no version")
        return load_version(self, target.version).model
