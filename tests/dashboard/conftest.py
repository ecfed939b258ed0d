"""One prepared home for all the dashboard tests (building it trains a model: done once)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from dashboard_world import prepare_home

from truckflow.settings import Settings


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, str]]:
    """Settings of the prepared home, and what it holds (versions, one predictable trip)."""
    return prepare_home(tmp_path_factory.mktemp("dashboard"))


@pytest.fixture
def home_env(
    prepared: tuple[Settings, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The prepared home in the environment, where the pages read their settings."""
    settings, facts = prepared
    monkeypatch.setenv("TRUCKFLOW_HOME", str(settings.home))
    monkeypatch.delenv("TRUCKFLOW_DATABASE_URL", raising=False)
    return facts


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """Streamlit's AppTest leaves ``sys.modules["__main__"]`` pointing at the page it ran. Any
    later process started by ``spawn`` (Dask's worker processes) would then run that page as
    its main module: opening the default home in the working directory, racing to migrate it.
    Put the real one back after each test."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
