from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from truckflow.registry import (
    APPROVED,
    CHECKSUM_TAG,
    PENDING,
    REJECTED,
    ModelRegistry,
    RegistryError,
)
from truckflow.settings import Settings

X = np.random.default_rng(0).normal(size=(60, 3))
Y = (X[:, 0] > 0).astype(int)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    """One embedded store for the module: setting MLflow's database up takes seconds."""
    home = tmp_path_factory.mktemp("home")
    return ModelRegistry.from_settings(Settings(home=home))


def _register(registry: ModelRegistry, **kwargs: object) -> str:
    model = LogisticRegression().fit(X, Y)
    version = registry.register(
        model,
        metrics={"test_f1": 0.71, "test_roc_auc": 0.8},
        tags={"decision_threshold": "0.42"},
        data_window="2019-01-01..2019-02-15",
        feature_version="1",
        execution_id="exec-1",
        pip_requirements=["scikit-learn", "numpy"],
        **kwargs,  # type: ignore[arg-type]
    )
    return version.version


def _model_folder(registry: ModelRegistry, version: str) -> Path:
    source = registry.get(version).source
    return Path(url2pathname(urlparse(source).path))


def test_registered_version_carries_its_tags_and_loads(registry: ModelRegistry) -> None:
    number = _register(registry)
    version = registry.get(number)
    assert version.approval_status == PENDING
    assert version.metrics == {"test_f1": 0.71, "test_roc_auc": 0.8}
    assert version.tags["data_window"] == "2019-01-01..2019-02-15"
    assert version.tags["feature_version"] == "1"
    assert version.tags["execution_id"] == "exec-1"
    assert version.tags["decision_threshold"] == "0.42"
    assert version.tags["code_revision"]
    assert len(version.tags[CHECKSUM_TAG]) == 64
    # The store is the embedded one in the home, and MLflow was told the requirements.
    folder = _model_folder(registry, number)
    assert registry.tracking_uri.startswith("sqlite:///")
    assert "mlartifacts" in folder.parts
    pins = (folder / "requirements.txt").read_text().split()
    assert [p for p in pins if not p.startswith("mlflow")] == ["scikit-learn", "numpy"]
    loaded = registry.load(number)
    np.testing.assert_array_equal(loaded.predict(X), LogisticRegression().fit(X, Y).predict(X))
    assert number in [v.version for v in registry.list_versions()]


def test_approval_transitions(registry: ModelRegistry) -> None:
    number = _register(registry)
    approved = registry.approve(number, comment="looks right")
    assert approved.approval_status == APPROVED
    assert approved.tags["approval_comment"] == "looks right"
    with pytest.raises(RegistryError, match=f"version {number} is Approved"):
        registry.approve(number)
    with pytest.raises(RegistryError, match="needs a comment"):
        registry.reject(number, comment="  ")
    rejected = registry.reject(number, comment="late trips underpredicted")
    assert rejected.approval_status == REJECTED
    with pytest.raises(RegistryError, match="cannot become Approved"):
        registry.approve(number)
    with pytest.raises(RegistryError, match="has no version 999"):
        registry.approve(999)


def test_tampered_artifact_is_refused(registry: ModelRegistry) -> None:
    number = _register(registry)
    registry.load(number)
    pickled = next(p for p in _model_folder(registry, number).iterdir() if p.suffix == ".pkl")
    pickled.write_bytes(pickled.read_bytes() + b"tampered")
    with pytest.raises(RegistryError, match=r"checksum .* refusing to load"):
        registry.load(number)


def test_aliases_point_at_versions(registry: ModelRegistry) -> None:
    number = _register(registry)
    registry.set_alias("production", number)
    production = registry.get_alias("production")
    assert production is not None and production.version == number
    assert "production" in registry.get(number).aliases
    assert registry.load(alias="production").predict(X[:2]).shape == (2,)
    registry.delete_alias("production")
    assert registry.get_alias("production") is None
    with pytest.raises(RegistryError, match="points at no version"):
        registry.load(alias="production")
