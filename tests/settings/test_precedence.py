"""Where a setting's value comes from: explicit arguments, then ``TRUCKFLOW_*`` environment
variables, then a ``.env`` file in the working directory, then the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from truckflow.settings import Settings


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No TRUCKFLOW_* variable of the caller's shell, and a working directory of our own (.env)."""
    import os

    for name in list(os.environ):
        if name.startswith("TRUCKFLOW_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _dotenv(tmp_path: Path, **values: str) -> None:
    lines = [f"{name}={value}" for name, value in values.items()]
    (tmp_path / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_defaults_when_nothing_is_set(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.home == (tmp_path / ".truckflow").resolve()
    assert settings.db_url == f"sqlite:///{settings.home / 'truckflow.db'}"
    assert settings.serving.reasons_cache_rows == 4096
    assert settings.drift.profile == "adaptive"
    assert settings.origin("streaming.boundary") == "default"


def test_dotenv_over_defaults(tmp_path: Path) -> None:
    _dotenv(
        tmp_path,
        TRUCKFLOW_HOME=str(tmp_path / "from-dotenv"),
        TRUCKFLOW_SERVING__REASONS_CACHE_ROWS="7",
        TRUCKFLOW_DRIFT__PROFILE="evidently",
    )
    settings = Settings()
    assert settings.home == tmp_path / "from-dotenv"
    assert settings.serving.reasons_cache_rows == 7
    assert settings.drift.profile == "evidently"


def test_environment_over_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _dotenv(
        tmp_path,
        TRUCKFLOW_HOME=str(tmp_path / "from-dotenv"),
        TRUCKFLOW_SERVING__REASONS_CACHE_ROWS="7",
        TRUCKFLOW_PROMOTION__MIN_TRIPS="11",
    )
    monkeypatch.setenv("TRUCKFLOW_HOME", str(tmp_path / "from-env"))
    monkeypatch.setenv("TRUCKFLOW_SERVING__REASONS_CACHE_ROWS", "8")
    settings = Settings()
    assert settings.home == tmp_path / "from-env"
    assert settings.serving.reasons_cache_rows == 8
    assert (
        settings.promotion.min_trips == 11
    )  # the .env file still fills what the environment leaves


def test_arguments_over_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _dotenv(tmp_path, TRUCKFLOW_SERVING__REASONS_CACHE_ROWS="7")
    monkeypatch.setenv("TRUCKFLOW_HOME", str(tmp_path / "from-env"))
    monkeypatch.setenv("TRUCKFLOW_SERVING__REASONS_CACHE_ROWS", "8")
    monkeypatch.setenv("TRUCKFLOW_SERVING__POLL_SECONDS", "3")
    settings = Settings(home=tmp_path / "from-argument", serving={"reasons_cache_rows": 9})
    assert settings.home == tmp_path / "from-argument"
    assert settings.serving.reasons_cache_rows == 9
    assert settings.serving.poll_seconds == 3.0  # an argument replaces only what it names


def test_origin_tells_set_from_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUCKFLOW_STREAMING__BOUNDARY", "2019-03-01")
    assert Settings().origin("streaming.boundary").startswith("set")


def test_invalid_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("TRUCKFLOW_SERVING__REASONS_CACHE_ROWS", "-1")
    with pytest.raises(ValidationError):
        Settings()


def test_a_section_merges_its_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each field of a section comes from the highest source that sets it, not the whole
    section from one source."""
    _dotenv(tmp_path, TRUCKFLOW_SERVING__POLL_SECONDS="4", TRUCKFLOW_SERVING__CAPTURE_BATCH="5")
    monkeypatch.setenv("TRUCKFLOW_SERVING__CAPTURE_BATCH", "6")
    settings = Settings(serving={"stage": "staging"})
    assert settings.serving.stage == "staging"
    assert settings.serving.capture_batch == 6
    assert settings.serving.poll_seconds == 4.0
    assert settings.serving.max_batch_rows == 10_000
    assert settings.origin("serving.poll_seconds").startswith("set")
    assert settings.origin("serving.max_batch_rows") == "default"


def test_updated_validates_and_keeps_the_rest(tmp_path: Path) -> None:
    from pydantic import ValidationError

    settings = Settings(home=tmp_path / "home", release={"smoke_requests": 3})
    strict = settings.updated(release={"latency_budget_ms": 5.0})
    assert strict.release.latency_budget_ms == 5.0 and strict.release.smoke_requests == 3
    assert settings.release.latency_budget_ms == 1000.0  # the original is unchanged
    assert strict.origin("release.latency_budget_ms").startswith("set")
    with pytest.raises(ValidationError):
        settings.updated(release={"latency_budget_ms": -1})


def test_a_flat_name_from_before_the_sections_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUCKFLOW_SERVING_STAGE", "staging")
    with pytest.warns(UserWarning, match="TRUCKFLOW_SERVING__STAGE"):
        settings = Settings()
    assert settings.serving.stage == "production"


def test_a_misspelt_field_of_a_section_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("TRUCKFLOW_SERVING__STAEG", "staging")
    with pytest.raises(ValidationError, match=r"serving\.staeg"):
        Settings()
