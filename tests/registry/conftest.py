"""The registry tests' trained home: built once per session (a training run costs seconds)."""

from __future__ import annotations

import pytest
from registry_home import Trained, train


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return train(tmp_path_factory.mktemp("trained") / "home")
