"""A registration cut short anywhere, then run again with the same key: one version, all tags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from truckflow.registry import CHECKSUM_TAG, ModelRegistry
from truckflow.registry.registration import KEY_TAG
from truckflow.settings import Settings

X = np.random.default_rng(1).normal(size=(40, 3))
Y = (X[:, 0] > 0).astype(int)


class SimulatedCrash(Exception):  # noqa: N818 - it stands for a crash, not an error
    """Stands for the process dying at that point."""


def _register(registry: ModelRegistry, key: str) -> str:
    return registry.register(
        LogisticRegression().fit(X, Y),
        metrics={"test_f1": 0.7},
        tags={"decision_threshold": "0.5"},
        data_window="2019-01-01..2019-02-15",
        execution_id="exec-x",
        pip_requirements=["scikit-learn"],
        idempotency_key=key,
    ).version


def _crash_on(client: Any, method: str, *, after: int = 0, call_first: bool = False) -> None:
    """Make ``client.method`` raise on its call number ``after`` (0: the first)."""
    real: Callable[..., Any] = getattr(client, method)
    calls = {"n": 0}

    def broken(*args: Any, **kwargs: Any) -> Any:
        n = calls["n"]
        calls["n"] += 1
        if n == after:
            if call_first:
                real(*args, **kwargs)
            raise SimulatedCrash(method)
        return real(*args, **kwargs)

    setattr(client, method, broken)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return tmp_path_factory.mktemp("home")


@pytest.mark.fault
@pytest.mark.parametrize(
    ("method", "after", "call_first"),
    [
        ("log_artifacts", 0, False),  # while logging the model
        ("set_terminated", 0, False),  # the run logged, never closed
        ("create_model_version", 0, False),  # before the version
        ("create_model_version", 0, True),  # the version made, no tag yet
        ("set_model_version_tag", 3, False),  # some tags set, not all
    ],
)
def test_a_rerun_after_a_crash_leaves_one_complete_version(
    home: Any, method: str, after: int, call_first: bool
) -> None:
    key = f"key-{method}-{after}-{call_first}"
    crashing = ModelRegistry.from_settings(Settings(home=home))
    _crash_on(crashing._client, method, after=after, call_first=call_first)
    with pytest.raises(SimulatedCrash):
        _register(crashing, key)

    again = ModelRegistry.from_settings(Settings(home=home))
    number = _register(again, key)
    twice = _register(again, key)

    mine = [
        v.version
        for v in again.list_versions()
        if again._client.get_run(v.run_id).data.tags.get(KEY_TAG) == key
    ]
    assert mine == [number]
    assert twice == number
    version = again.get(number)
    assert version.tags["decision_threshold"] == "0.5"
    assert version.tags["metric.test_f1"] == "0.7"
    assert version.tags["execution_id"] == "exec-x"
    assert len(version.tags[CHECKSUM_TAG]) == 64
    assert version.approval_status == "PendingManualApproval"
    assert again.load(number).predict(X).shape == (40,)
