"""Domain pipelines on the generic engine, one folder per flow:

- ``training/``: the ``training`` pipeline (load, tune, calibrate, evaluate, register);
- ``streaming/``: the ``daily`` pipeline and the driver that steps the simulated days;
- ``drift/``: the weekly ``drift`` pipeline (check; on drift, retrain and release);
- ``release/``: the ``release`` pipeline (staging, acceptance, approval, production) and the
  manual approve/reject/rollback;
- ``shared/``: what more than one flow uses (alias moves, the promotion check, estimates).

Each flow has ``pipeline.py`` (the pipeline as data) and ``steps.py`` (the step bodies); a
flow never imports another: one runs another by its registered name. ``runtime.Runtime``
runs them and is each step's run context (database, notification sink).

``register_pipelines()`` makes them known to the engine by name. It imports no flow: each is
imported when its pipeline is first built, so a command imports only the flows it runs.
"""

from __future__ import annotations

import importlib
from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from truckflow.pipeline import Pipeline

__all__ = ["FLOWS", "register_pipelines"]

# Registered name -> the module and factory that define it.
FLOWS = {
    "training": ("truckflow.pipelines.training.pipeline", "training_pipeline"),
    "daily": ("truckflow.pipelines.streaming.pipeline", "daily_pipeline"),
    "drift": ("truckflow.pipelines.drift.pipeline", "drift_pipeline"),
    "release": ("truckflow.pipelines.release.pipeline", "release_pipeline"),
}


def _build(module: str, factory: str) -> Pipeline:
    built: Pipeline = getattr(importlib.import_module(module), factory)()
    return built


def register_pipelines() -> None:
    """Register truckflow's pipelines with the engine (again is harmless)."""
    from truckflow.pipeline.registry import register_pipeline

    for name, (module, factory) in FLOWS.items():
        register_pipeline(name, partial(_build, module, factory))
