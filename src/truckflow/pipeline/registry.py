"""Named pipelines: ``register_pipeline(name, factory)`` where they are defined,
``get_pipeline(name)`` where they are run (the CLI, resume)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable

from truckflow.pipeline.definition import Pipeline
from truckflow.pipeline.errors import PipelineError

__all__ = ["get_pipeline", "load_pipeline_modules", "pipeline_names", "register_pipeline"]

_FACTORIES: dict[str, Callable[[], Pipeline]] = {}
_BUILT_IN = ("truckflow.pipeline.examples",)


def register_pipeline(name: str, factory: Callable[[], Pipeline]) -> None:
    """Make ``factory()`` available as ``name``; registering the same name again replaces it."""
    _FACTORIES[name] = factory


def load_pipeline_modules(modules: Iterable[str] = ()) -> None:
    """Import the modules that register pipelines (the built-in examples, then ``modules``)."""
    for module in (*_BUILT_IN, *modules):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise PipelineError(f"cannot import pipeline module {module!r}: {exc}") from exc


def pipeline_names() -> list[str]:
    load_pipeline_modules()
    return sorted(_FACTORIES)


def get_pipeline(name: str) -> Pipeline:
    load_pipeline_modules()
    factory = _FACTORIES.get(name)
    if factory is None:
        known = ", ".join(sorted(_FACTORIES)) or "none"
        raise PipelineError(f"no pipeline named {name!r}; registered: {known}")
    pipeline = factory()
    if pipeline.name != name:
        raise PipelineError(f"pipeline registered as {name!r} calls itself {pipeline.name!r}")
    return pipeline
