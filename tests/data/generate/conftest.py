"""Generated worlds shared by the generator's tests (small scales, generated once per session)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from truckflow.data.generate import GenerateReport, generate_world

WorldFactory = Callable[..., GenerateReport]


@pytest.fixture(scope="session")
def make_world(tmp_path_factory: pytest.TempPathFactory) -> WorldFactory:
    """``make_world(seed=, scale=, scenario=, ...)``: a world, made once per set of options."""
    cache: dict[tuple[tuple[str, object], ...], GenerateReport] = {}

    def make(**options: object) -> GenerateReport:
        # The quirks of the full course files have their own tests (test_generate_quirks.py).
        options.setdefault("quirks", False)
        key = tuple(sorted(options.items()))
        if key not in cache:
            out = tmp_path_factory.mktemp("world")
            cache[key] = generate_world(Path(out), **options)  # type: ignore[arg-type]
        return cache[key]

    return make
