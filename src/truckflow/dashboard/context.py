"""What every page shares: the settings in force and the runtime, opened once per process.

Settings come from the environment (``truckflow dashboard`` passes its own through), so the pages
see the same home and database as the command that started them.
"""

from __future__ import annotations

import os

import streamlit as st

from truckflow.pipelines.runtime import Runtime
from truckflow.registry import ModelRegistry
from truckflow.serving.holder import ServedModel
from truckflow.serving.mlflow_source import MlflowModelSource
from truckflow.serving.single import load_served
from truckflow.settings import Settings

__all__ = ["registry", "runtime", "served_model", "settings"]

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
def _served(tracking_uri: str, model_name: str, version: str, stage: str) -> ServedModel:
    source = MlflowModelSource(tracking_uri, model_name)
    return ServedModel(source.load(version), stage)


def served_model(stage: str = "production") -> ServedModel:
    """The stage's model, loaded by the serving loader; reloaded only when the alias moves."""
    s = settings()
    source = MlflowModelSource(s.tracking_uri, s.model_name)
    version = source.resolve(stage)
    if version is None:
        return load_served(source, stage)  # raises the serving layer's "no model deployed"
    return _served(s.tracking_uri, s.model_name, version, stage)
