"""A small generated world for the ``/predict`` benchmark: data, feature store and a real model.

Built with truckflow's own commands in a temporary home, as a user would: ``data generate``,
``init``, ``data ingest``, ``features fill``, then the training pipeline (XGBoost, one trial) on
the real feature columns, and the ``production`` alias on the version it registers.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TripWorld", "build_world"]

# Trips taken from the start of the schedule: their forecasts are in, an hour later too.
N_TRIPS = 300


@dataclass(frozen=True)
class TripWorld:
    env: dict[str, str]  # the environment that serves this world
    stored: list[str]  # /predict bodies of scheduled trips: their features are stored
    computed: list[str]  # the same trips an hour later: not stored, computed on demand


def _truckflow(env: dict[str, str], *args: str) -> None:
    command = [sys.executable, "-c", "from truckflow.cli.app import main; main()", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"truckflow {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )


def _alias_latest(env: dict[str, str]) -> str:
    script = (
        "from truckflow.registry import ModelRegistry\n"
        "from truckflow.settings import Settings\n"
        "registry = ModelRegistry.from_settings(Settings())\n"
        "version = registry.list_versions()[0].version\n"
        "registry.set_alias('production', version)\n"
        "print(version)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _bodies(schedule: Path) -> tuple[list[str], list[str]]:
    with schedule.open(newline="") as handle:
        rows = [row for _, row in zip(range(N_TRIPS), csv.DictReader(handle), strict=False)]
    stored, computed = [], []
    for row in rows:
        departure = dt.datetime.fromisoformat(row["departure_date"])
        trip = {"truck_id": int(row["truck_id"]), "route_id": row["route_id"]}
        stored.append(json.dumps({**trip, "departure": departure.isoformat()}))
        later = departure + dt.timedelta(hours=1)
        computed.append(json.dumps({**trip, "departure": later.isoformat()}))
    return stored, computed


def build_world(work: Path, env: dict[str, str], scale: float) -> TripWorld:
    home = work / "world-home"
    data = work / "world-data"
    env = env | {
        "TRUCKFLOW_HOME": str(home),
        "TRUCKFLOW_MLFLOW__TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
        "TRUCKFLOW_MLFLOW__MODEL_NAME": "truck-delay",
    }
    _truckflow(env, "data", "generate", "--out", str(data), "--scale", str(scale))
    _truckflow(env, "init")
    _truckflow(env, "data", "ingest", str(data))
    _truckflow(env, "features", "fill")
    _truckflow(
        env,
        "pipeline",
        "run",
        "training",
        "-p",
        "families=xgboost",
        "-p",
        "n_trials=1",
        "-p",
        "min_f1=0",
    )
    version = _alias_latest(env)
    print(f"  world at scale {scale}: model version {version} on production", flush=True)
    stored, computed = _bodies(data / "truck_schedule_table.csv")
    return TripWorld(env, stored, computed)
