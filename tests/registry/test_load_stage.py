"""``load_stage``/``load_version`` on the version the training pipeline registered, in a real
local MLflow store: what it carries, the checksum verified, a tampered artifact refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import numpy as np
import pytest
from registry_home import ListSink, Trained

from synthetic_features import feature_frame
from truckflow.registry import (
    ModelRefusedError,
    ModelRegistry,
    RegistryError,
    Stage,
    directory_checksum,
    load_stage,
    load_version,
)
from truckflow.registry.loading import LOAD_REFUSED


def _folder(registry: ModelRegistry, version: str) -> Path:
    return Path(url2pathname(urlparse(registry.get(version).source).path))


@pytest.fixture
def production(trained: Trained) -> Iterator[ModelRegistry]:
    """The trained version on production for one test (the alias removed after)."""
    registry = trained.registry
    registry.set_alias(Stage.PRODUCTION, trained.version)
    yield registry
    registry.delete_alias(Stage.PRODUCTION)


def test_registered_version_carries_what_training_chose(trained: Trained) -> None:
    metadata = trained.registry.get(trained.version).metadata
    chosen = trained.outputs["select"]
    assert metadata.threshold == pytest.approx(chosen["threshold"], abs=1e-6)
    assert metadata.family == "logistic_regression"
    assert metadata.execution_id and metadata.code_revision and metadata.feature_version
    assert metadata.data_window == trained.outputs["load_window"]["window"]
    assert len(metadata.checksum) == 64
    assert metadata.checksum == directory_checksum(_folder(trained.registry, trained.version))
    # Calibration is read back by the training code from the registry's metadata.
    from truckflow.training.calibration import from_tags

    calibration = from_tags(trained.registry.get(trained.version).tags)
    assert calibration.method == trained.outputs["calibrate"]["method"]


def test_empty_stage_loads_nothing(trained: Trained) -> None:
    assert load_stage(trained.registry, Stage.STAGING) is None


def test_unknown_stage_is_refused_by_name(trained: Trained) -> None:
    with pytest.raises(RegistryError, match="the stages are staging, production"):
        load_stage(trained.registry, "prod")


def test_load_stage_verifies_and_returns_the_version(
    trained: Trained, production: ModelRegistry
) -> None:
    loaded = load_stage(production, "production")
    assert loaded is not None
    assert (loaded.version, loaded.stage) == (trained.version, Stage.PRODUCTION)
    assert loaded.metadata == production.get(trained.version).metadata
    assert loaded.checksum == directory_checksum(_folder(production, trained.version))
    assert loaded.threshold == loaded.metadata.threshold
    assert loaded.contract is not None
    frame = feature_frame(20, seed=3)[list(loaded.contract.names)]
    proba = loaded.model.predict_proba(frame)[:, 1]
    assert proba.shape == (20,) and np.all((proba >= 0) & (proba <= 1))
    # The same version by number loads the same model.
    again = load_version(production, trained.version)
    assert again.stage is None and again.metadata == loaded.metadata
    np.testing.assert_array_equal(again.model.predict_proba(frame)[:, 1], proba)


def test_tampered_artifact_is_refused_with_an_event(
    trained: Trained, production: ModelRegistry
) -> None:
    folder = _folder(production, trained.version)
    pickled = next(p for p in folder.iterdir() if p.suffix == ".pkl")
    original = pickled.read_bytes()
    sink = ListSink()
    pickled.write_bytes(original + b"tampered")
    try:
        with pytest.raises(ModelRefusedError, match=r"checksum .* refusing to load"):
            load_stage(production, Stage.PRODUCTION, events=sink)
    finally:
        pickled.write_bytes(original)
    (refused,) = sink.events
    assert refused.type == LOAD_REFUSED
    assert refused.body["version"] == trained.version
    assert refused.body["recorded"] == production.get(trained.version).metadata.checksum
    assert refused.body["found"] != refused.body["recorded"]
    # Restored, it loads again.
    assert load_stage(production, Stage.PRODUCTION) is not None


def test_version_without_a_recorded_checksum_is_refused(
    trained: Trained, production: ModelRegistry
) -> None:
    client = production.client
    recorded = production.get(trained.version).metadata.checksum
    client.delete_model_version_tag(production.model_name, trained.version, "artifact_sha256")
    try:
        with pytest.raises(ModelRefusedError, match="registration recorded nothing"):
            load_stage(production, Stage.PRODUCTION)
    finally:
        client.set_model_version_tag(
            production.model_name, trained.version, "artifact_sha256", recorded
        )
