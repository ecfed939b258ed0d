"""Fixtures for the serving tests: real models in a real local MLflow store, a real database.

One MLflow store per session holds two logged models (XGBoost and scikit-learn, five features);
each test registers its own registered model with four versions of them, so that tests moving
aliases never see one another.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from truckflow.registry import CHECKSUM_TAG, directory_checksum
from truckflow.serving.background import BackgroundServer
from truckflow.serving.errors import ForecastsNotArrivedError, UnknownEntityError
from truckflow.serving.model import Trip
from truckflow.settings import Settings
from truckflow.store import Database
from truckflow.store.tables import route_weather, routes, trucks

FEATURES = ["distance", "truck_age", "route_temp", "route_humidity", "mileage_mpg"]
ADMIN_TOKEN = "s3cret-admin-token"


@dataclass
class Store:
    uri: str
    logged: dict[str, tuple[str, str]]  # kind -> (model uri, run id)


@dataclass
class Registry:
    """One registered model with four versions (1, 3: XGBoost; 2, 4: scikit-learn)."""

    store: Store
    name: str
    versions: list[str] = field(default_factory=list)

    @property
    def client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.store.uri)

    def set_alias(self, stage: str, version: str) -> None:
        self.client.set_registered_model_alias(self.name, stage, version)


def _train(tracking_uri: str, artifacts: Path) -> dict[str, tuple[str, str]]:
    import mlflow
    import xgboost as xgb
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    mlflow.set_tracking_uri(tracking_uri)
    # An experiment of its own, its files in the store's folder: the default experiment's
    # would go to ./mlruns of the folder the tests run from.
    experiment = mlflow.create_experiment("serving-tests", artifact_location=artifacts.as_uri())
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.random((300, len(FEATURES))), columns=FEATURES)
    label = (frame["distance"] + 0.3 * rng.random(300) > 0.65).astype(int)
    signature = infer_signature(frame, label)
    logged: dict[str, tuple[str, str]] = {}
    for kind in ("xgboost", "sklearn"):
        with mlflow.start_run(experiment_id=experiment) as run:
            mlflow.log_metrics({"f1": 0.7 if kind == "xgboost" else 0.6, "roc_auc": 0.8})
            mlflow.log_params({"data_window_start": "2019-01-01", "data_window_end": "2019-01-30"})
            if kind == "xgboost":
                model = xgb.XGBClassifier(n_estimators=10, max_depth=3).fit(frame, label)
                info = mlflow.xgboost.log_model(
                    model, name="model", signature=signature, pip_requirements=["xgboost"]
                )
            else:
                model = LogisticRegression().fit(frame, label)
                info = mlflow.sklearn.log_model(
                    model, name="model", signature=signature, pip_requirements=["scikit-learn"]
                )
            logged[kind] = (info.model_uri, run.info.run_id)
    return logged


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    return Store(uri=uri, logged=_train(uri, root / "artifacts"))


def _checksum(store: Store, model_uri: str) -> str:
    import tempfile

    import mlflow.artifacts

    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=model_uri, dst_path=tmp, tracking_uri=store.uri
        )
        return directory_checksum(Path(local))


def register(store: Store, name: str, kinds: Sequence[str]) -> Registry:
    reg = Registry(store, name)
    client = reg.client
    client.create_registered_model(name)
    for i, kind in enumerate(kinds):
        model_uri, run_id = store.logged[kind]
        tags = {
            "threshold": str(0.4 + 0.05 * i),
            "data_window": "2019-01-01..2019-01-30",
            # What registration records: serving loads only files matching it.
            CHECKSUM_TAG: _checksum(store, model_uri),
        }
        mv = client.create_model_version(name, source=model_uri, run_id=run_id, tags=tags)
        reg.versions.append(str(mv.version))
    return reg


@pytest.fixture
def registry(mlflow_store: Store) -> Registry:
    return register(
        mlflow_store,
        f"truck-delay-{uuid.uuid4().hex[:8]}",
        ["xgboost", "sklearn", "xgboost", "sklearn"],
    )


@pytest.fixture
def serving_settings(tmp_path: Path, registry: Registry) -> Settings:
    return Settings(
        home=tmp_path / "home",
        mlflow={"tracking_uri": registry.store.uri, "model_name": registry.name},
        serving={"admin_token": ADMIN_TOKEN, "poll_seconds": 0.2},
    )


class DbFeatureSource:
    """A small stand-in for the feature code's online path: reads the rows a trip needs.

    It is not the feature engineering (that lives in truckflow.features); it exists so that the
    API's lookup path, and its 404 and 409 answers, run against a real database.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def features_for_trips(self, trips: Sequence[Trip]) -> tuple[pd.DataFrame, list[int]]:
        out = []
        with self.db.engine.connect() as conn:
            for trip in trips:
                truck = conn.execute(
                    sa.select(trucks).where(trucks.c.truck_id == trip.truck_id)
                ).first()
                if truck is None:
                    raise UnknownEntityError("truck", trip.truck_id)
                route = conn.execute(
                    sa.select(routes).where(routes.c.route_id == trip.route_id)
                ).first()
                if route is None:
                    raise UnknownEntityError("route", trip.route_id)
                arrival = trip.departure + timedelta(hours=route.average_hours)
                weather = conn.execute(
                    sa.select(
                        sa.func.avg(route_weather.c.temp), sa.func.avg(route_weather.c.humidity)
                    ).where(
                        route_weather.c.route_id == trip.route_id,
                        route_weather.c.ts >= trip.departure - timedelta(hours=6),
                        route_weather.c.ts <= arrival,
                    )
                ).one()
                if weather[0] is None:
                    raise ForecastsNotArrivedError(
                        f"route weather for {trip.route_id} at {trip.departure} has not arrived"
                    )
                out.append(
                    [
                        route.distance / 1000,
                        truck.truck_age / 10,
                        weather[0] / 100,
                        weather[1] / 100,
                        truck.mileage_mpg / 30,
                    ]
                )
        return pd.DataFrame(out, columns=FEATURES), []


KNOWN_TRUCK = 12345678
KNOWN_ROUTE = "R-ada2a391"
DEPARTURE = datetime(2019, 1, 10, 7)


def seed_trip_data(db: Database) -> None:
    with db.begin() as conn:
        conn.execute(
            trucks.insert(),
            [
                {
                    "truck_id": KNOWN_TRUCK,
                    "truck_age": 8,
                    "load_capacity_pounds": 4000.0,
                    "mileage_mpg": 20,
                    "fuel_type": "diesel",
                }
            ],
        )
        conn.execute(
            routes.insert(),
            [
                {
                    "route_id": KNOWN_ROUTE,
                    "origin_id": "C-1",
                    "destination_id": "C-2",
                    "distance": 500.0,
                    "average_hours": 10.0,
                }
            ],
        )
        conn.execute(
            route_weather.insert(),
            [
                {
                    "route_id": KNOWN_ROUTE,
                    "ts": DEPARTURE.replace(hour=6) + timedelta(hours=6 * i),
                    "temp": 30.0 + i,
                    "wind_speed": 5.0,
                    "description": "Clear",
                    "precip": 0.0,
                    "humidity": 60.0,
                    "visibility": 6.0,
                    "pressure": 1010.0,
                }
                for i in range(3)
            ],
        )
    assert date(2019, 1, 10) == DEPARTURE.date()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer(BackgroundServer):
    """A real uvicorn server on loopback, in a thread of this process."""


@pytest.fixture
def live_server() -> Iterator[type[LiveServer]]:
    yield LiveServer


@pytest.fixture
def trip_db(db: Database) -> Database:
    """The migrated SQLite database with one truck, one route and its route weather."""
    seed_trip_data(db)
    return db


@pytest.fixture
def feature_source(trip_db: Database) -> DbFeatureSource:
    return DbFeatureSource(trip_db)


@pytest.fixture
def make_app(serving_settings: Settings, trip_db: Database) -> Any:
    """Build the app on the test registry; ``feature_source`` defaults to the database one."""
    from truckflow.serving import MlflowModelSource, create_app

    def build(stage: str = "staging", *, with_features: bool = True, watch: bool = False) -> Any:
        source = MlflowModelSource(
            serving_settings.tracking_uri, serving_settings.mlflow.model_name
        )
        return create_app(
            serving_settings,
            model_source=source,
            feature_source=DbFeatureSource(trip_db) if with_features else None,
            db=trip_db,
            stage=stage,
            watch=watch,
        )

    return build


@pytest.fixture(scope="session")
def pipeline_sample() -> Path:
    return Path(__file__).resolve().parents[1] / "fixtures" / "course_sample"


@pytest.fixture(scope="session")
def pipeline_model(
    tmp_path_factory: pytest.TempPathFactory, pipeline_sample: Path
) -> Iterator[dict[str, Any]]:
    """The model the training pipeline trains and registers (XGBoost, one trial) on the course
    slice ingested into SQLite, features stored for January, behind ``production``."""
    from truckflow.data.ingest import ingest_directory
    from truckflow.features.fill import fill_features, register_feature_set
    from truckflow.pipelines.runtime import Runtime
    from truckflow.pipelines.training.pipeline import training_pipeline
    from truckflow.registry import ModelRegistry
    from truckflow.store import connect
    from truckflow.store.migrate import upgrade

    settings = Settings(home=tmp_path_factory.mktemp("serving-pipeline") / "home")
    db = connect(settings)
    upgrade(db)
    ingest_directory(db, pipeline_sample)
    register_feature_set(db)
    fill_features(db, datetime(2019, 1, 1), datetime(2019, 2, 1))
    parameters = {
        "families": "xgboost",
        "n_trials": 1,
        "min_f1": 0.0,
        "train_end": "2019-01-04",
        "validation_end": "2019-01-07",
    }
    with Runtime.on(settings, db).runner() as runner:
        result = runner.run(training_pipeline(), parameters)
    assert result.status == "succeeded", result.error
    registry = ModelRegistry.from_settings(settings)
    version = registry.get(result.outputs["register"]["version"])
    registry.set_alias("production", version.version)
    yield {"settings": settings, "db": db, "version": version}
    db.dispose()
