"""A prepared streaming world shared by the streaming tests: a small generated world, its history
ingested, features filled and a production model, in a template home copied per test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from truckflow.data.generate import generate_world
from truckflow.notify.tables import notify_outbox
from truckflow.pipelines.runtime import Runtime
from truckflow.pipelines.streaming.setup import prepare_history
from truckflow.settings import Settings
from truckflow.store import Database

SCALE = 0.05
# Logs of what ran (ids, wall-clock times), not the state a day leaves behind.
LOG_TABLES = {
    "alembic_version",
    "ingest_log",
    "notify_outbox",
    "deployments",
    "pipeline_executions",
    "step_executions",
    "artifacts",
    "process_locks",  # who held the streaming day last: a pid
}
WALL_CLOCK = {"created_at", "updated_at", "computed_at", "label_updated_at", "id", "run_id"}
# Paths under the home differ between two homes compared; their content is compared elsewhere.
WALL_CLOCK |= {"html_path", "json_path"}


# Prepared worlds of this test session, by (scenario, shift week): the streaming tests, the fault
# suite and the quirks test ask for the same one, and preparing it costs ~15 s of CPU.
_PREPARED: dict[tuple[str, int | None], tuple[Path, Path]] = {}


def prepare(base: Path, scenario: str = "none", shift_week: int | None = None) -> tuple[Path, Path]:
    """(world folder, template home), made under ``base`` the first time in the session; later
    calls for the same scenario get those folders (tests read the world and copy the template
    with ``fresh_home``, never write either)."""
    key = (scenario, shift_week)
    if key in _PREPARED and all(p.is_dir() for p in _PREPARED[key]):
        return _PREPARED[key]
    _PREPARED[key] = _prepare(base, scenario, shift_week)
    return _PREPARED[key]


def _prepare(base: Path, scenario: str, shift_week: int | None) -> tuple[Path, Path]:
    world = base / "world"
    generate_world(world, seed=3, scale=SCALE, scenario=scenario, shift_week=shift_week)
    home = base / "template"
    with Runtime.open(Settings(home=home)) as runtime:
        prepare_history(runtime, world, n_trials=2, families="logistic_regression")
    return world, home


def fresh_home(template: Path, target: Path) -> Settings:
    shutil.copytree(template, target)
    return Settings(home=target, retrain={"trials": 2, "families": "logistic_regression"})


def dump(db: Database) -> dict[str, pd.DataFrame]:
    """Every table but the logs, without wall-clock columns, in key order."""
    out = {}
    with db.engine.connect() as conn:
        for name in sorted(sa.inspect(conn).get_table_names()):
            if name in LOG_TABLES:
                continue
            frame = pd.read_sql_table(name, conn)
            frame = frame.drop(columns=[c for c in frame.columns if c in WALL_CLOCK])
            for column in frame.columns:
                if frame[column].dtype == object:
                    frame[column] = [
                        json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v
                        for v in frame[column]
                    ]
            order = frame.astype(str).sort_values(list(frame.columns)).index
            out[name] = frame.loc[order].reset_index(drop=True)
        out["notify_outbox (events told once)"] = _keyed_events(conn)
    return out


def _keyed_events(conn: sa.Connection) -> pd.DataFrame:
    """The outbox is a log, but an event with a key must be in it once, whatever reruns."""
    t = notify_outbox
    rows = conn.execute(
        sa.select(t.c.channel, t.c.event_type, t.c.event_key, t.c.subject, t.c.body)
        .where(t.c.event_key.is_not(None))
        .order_by(t.c.channel, t.c.event_key)
    ).all()
    frame = pd.DataFrame(rows, columns=["channel", "event_type", "event_key", "subject", "body"])
    frame["body"] = [json.dumps(b, sort_keys=True) for b in frame["body"]]
    return frame


def assert_same(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    assert sorted(left) == sorted(right)
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], obj=name)
