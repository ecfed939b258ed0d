"""What every page shares: the settings in force and the runtime, opened once per process.

Settings come from the environment (``truckflow dashboard`` passes its own through), so the pages
see the same home and database as the command that started them.
"""

from __future__ import annotations

import os

import streamlit as st

from truckflow.pipelines.runtime import Runtime
from truckflow.registry import ModelRegistry, Stage
from truckflow.serving.single import StageModel, load_stage_model
from truckflow.settings import Settings

__all__ = ["registry", "runtime", "settings", "stage_model"]

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")


def settings() -> Settings:
    return Settings()


def _key(s: Settings) -> tuple[str, str]:
    return str(s.home), s.db_url


@st.cache_resource(show_spinner=False)
def _runtime(home: str, db_url: str) -> Runtime:
    return Runtime.open(settings())


def runtime() -> Runtime:
    """The migrated database and the notifications of the settings in force (one per home)."""
    return _runtime(*_key(settings()))


def registry() -> ModelRegistry:
    return ModelRegistry.from_settings(settings())


@st.cache_resource(show_spinner=False, max_entries=4)
def _stage_model(home: str, db_url: str, version: str, stage: Stage) -> StageModel:
    return load_stage_model(registry(), stage)


def stage_model(stage: Stage | str = Stage.PRODUCTION) -> StageModel:
    """The stage's model from the registry; loaded again only when the alias moves."""
    s = settings()
    stage = Stage.parse(stage)
    current = registry().get_alias(stage)
    if current is None:
        return load_stage_model(registry(), stage)  # raises the serving layer's "no model"
    return _stage_model(*_key(s), current.version, stage)
