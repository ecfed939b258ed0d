"""The registry's version conventions: stages and the metadata a version carries as tags."""

from __future__ import annotations

import pytest

from truckflow.registry import (
    CALIBRATION_TAG,
    CHECKSUM_TAG,
    THRESHOLD_TAG,
    RegistryError,
    Stage,
    VersionMetadata,
)

FULL = VersionMetadata(
    threshold=0.4213,
    data_window="2019-01-01..2019-02-14",
    feature_version="3",
    checksum="ab" * 32,
    calibration='{"method":"platt","params":[1.1,-0.2]}',
    family="xgboost",
    execution_id="exec-9",
    code_revision="v1.2-3-gabc",
)


@pytest.mark.parametrize(
    ("given", "stage"),
    [
        ("production", Stage.PRODUCTION),
        ("staging", Stage.STAGING),
        (" Production ", Stage.PRODUCTION),
        (Stage.STAGING, Stage.STAGING),
    ],
)
def test_stage_parses_its_names(given: str, stage: Stage) -> None:
    assert Stage.parse(given) is stage


def test_stage_is_the_alias_text() -> None:
    assert Stage.PRODUCTION == "production" and f"{Stage.STAGING}" == "staging"
    assert [s.value for s in Stage] == ["staging", "production"]


@pytest.mark.parametrize("bad", ["prod", "", "champion"])
def test_unknown_stage_names_the_allowed_ones(bad: str) -> None:
    with pytest.raises(
        RegistryError, match=f"unknown stage {bad!r}: the stages are staging, production"
    ):
        Stage.parse(bad)


def test_metadata_round_trips_through_tags() -> None:
    tags = FULL.to_tags()
    assert tags[THRESHOLD_TAG] == "0.421300"
    assert tags[CHECKSUM_TAG] == "ab" * 32
    assert tags[CALIBRATION_TAG] == FULL.calibration
    assert VersionMetadata.from_tags(tags) == FULL
    # Other tags beside them (metrics, approval) are not metadata and do not disturb it.
    assert VersionMetadata.from_tags({**tags, "metric.test_f1": "0.7", "x": "y"}) == FULL


def test_empty_metadata_writes_the_lineage_only() -> None:
    tags = VersionMetadata().to_tags()
    assert tags == dict.fromkeys(
        [CHECKSUM_TAG, "data_window", "feature_version", "execution_id", "code_revision"], ""
    )
    back = VersionMetadata.from_tags(tags)
    assert back == VersionMetadata()
    assert back.threshold is None and back.decision_threshold == 0.5


def test_threshold_reads_the_older_spelling_and_ignores_garbage() -> None:
    assert VersionMetadata.from_tags({"threshold": "0.3"}).decision_threshold == 0.3
    assert VersionMetadata.from_tags({THRESHOLD_TAG: "0.6", "threshold": "0.3"}).threshold == 0.6
    assert VersionMetadata.from_tags({THRESHOLD_TAG: "high"}).threshold is None


def test_window_and_merge() -> None:
    assert FULL.window == {"start": "2019-01-01", "end": "2019-02-14"}
    assert VersionMetadata().window == {"start": None, "end": None}
    merged = FULL.merged(checksum="cd" * 32, data_window=None, feature_version="")
    assert merged.checksum == "cd" * 32
    assert (merged.data_window, merged.feature_version) == (FULL.data_window, "3")
