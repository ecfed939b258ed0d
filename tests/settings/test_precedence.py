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
    assert settings.serving_reasons_cache_rows == 4096
    assert settings.drift_profile == "adaptive"
    assert settings.origin("streaming_boundary") == "default"


def test_dotenv_over_defaults(tmp_path: Path) -> None:
    _dotenv(
        tmp_path,
        TRUCKFLOW_HOME=str(tmp_path / "from-dotenv"),
        TRUCKFLOW_SERVING_REASONS_CACHE_ROWS="7",
        TRUCKFLOW_DRIFT_PROFILE="evidently",
    )
    settings = Settings()
    assert settings.home == tmp_path / "from-dotenv"
    assert settings.serving_reasons_cache_rows == 7
    assert settings.drift_profile == "evidently"


def test_environment_over_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _dotenv(
        tmp_path,
        TRUCKFLOW_HOME=str(tmp_path / "from-dotenv"),
        TRUCKFLOW_SERVING_REASONS_CACHE_ROWS="7",
        TRUCKFLOW_PROMOTION_MIN_TRIPS="11",
    )
    monkeypatch.setenv("TRUCKFLOW_HOME", str(tmp_path / "from-env"))
    monkeypatch.setenv("TRUCKFLOW_SERVING_REASONS_CACHE_ROWS", "8")
    settings = Settings()
    assert settings.home == tmp_path / "from-env"
    assert settings.serving_reasons_cache_rows == 8
    assert (
        settings.promotion_min_trips == 11
    )  # the .env file still fills what the environment leaves


def test_arguments_over_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _dotenv(tmp_path, TRUCKFLOW_SERVING_REASONS_CACHE_ROWS="7")
    monkeypatch.setenv("TRUCKFLOW_HOME", str(tmp_path / "from-env"))
    monkeypatch.setenv("TRUCKFLOW_SERVING_REASONS_CACHE_ROWS", "8")
    monkeypatch.setenv("TRUCKFLOW_SERVING_POLL_SECONDS", "3")
    settings = Settings(home=tmp_path / "from-argument", serving_reasons_cache_rows=9)
    assert settings.home == tmp_path / "from-argument"
    assert settings.serving_reasons_cache_rows == 9
    assert settings.serving_poll_seconds == 3.0  # an argument replaces only what it names


def test_origin_tells_set_from_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUCKFLOW_STREAMING_BOUNDARY", "2019-03-01")
    assert Settings().origin("streaming_boundary").startswith("set")


def test_invalid_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("TRUCKFLOW_SERVING_REASONS_CACHE_ROWS", "-1")
    with pytest.raises(ValidationError):
        Settings()
