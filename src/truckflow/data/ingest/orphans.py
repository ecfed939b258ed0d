"""Parent tables and orphans: rows that refer to a truck, route or city not loaded (yet).

Before a run loads anything, a table that others refer to and that is neither among the files
nor in the database stops it, naming the file to add (``missing_parents``), unless the user asks
for a partial load. Rows quarantined only because their parent was unknown are tried again on
every later ingest (and on ``truckflow data quarantine --retry``): those whose parents have come
are loaded and leave the quarantine; the others stay.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

from truckflow.data.course_format import TABLE_SPECS, TableSpec
from truckflow.data.errors import IngestError
from truckflow.data.ingest.batch import batch_from_frame
from truckflow.data.ingest.conflicts import against_stored, write_conflicts
from truckflow.data.ingest.loader import insert_ignore
from truckflow.data.ingest.records import known_keys
from truckflow.data.ingest.validate import validate
from truckflow.store.tables import quarantine

__all__ = ["Released", "is_orphan", "missing_parents", "refuse_missing", "retry_orphans"]

# The table each referenced table is filled from (cities come with the city weather).
_PROVIDERS = {"trucks": "trucks", "routes": "routes", "cities": "city_weather"}
_ORPHAN_PART = re.compile(r"^\S+: .+ not in (trucks|routes|cities)$")


def missing_parents(
    tables: Iterable[str], known: Mapping[str, pd.Index[Any]]
) -> dict[str, list[str]]:
    """Referenced tables neither among ``tables`` (the run's) nor in the database, each with
    the tables that refer to it."""
    present = set(tables)
    missing: dict[str, list[str]] = {}
    for table in sorted(present):
        for _, parent in TABLE_SPECS[table].references:
            if _PROVIDERS[parent] in present or len(known[parent]):
                continue
            missing.setdefault(parent, [])
            if table not in missing[parent]:
                missing[parent].append(table)
    return missing


def refuse_missing(missing: Mapping[str, list[str]], folder: str) -> None:
    """Raise the error that names the files to add; nothing has been loaded."""
    if not missing:
        return
    files = [TABLE_SPECS[_PROVIDERS[parent]].files[0] for parent in missing]
    why = "; ".join(f"{', '.join(users)} refer(s) to {parent}" for parent, users in missing.items())
    raise IngestError(
        f"{folder}: {', '.join(files)} missing, and the database has none of its rows ({why});"
        " nothing was loaded",
        hint=f"add {', '.join(files)} to the folder, or pass --partial to load the rest (rows"
        " that refer to it wait in quarantine and load on a later ingest)",
    )


def is_orphan(reason: str) -> bool:
    """Whether every reason a row was quarantined for is an unknown parent."""
    return all(_ORPHAN_PART.match(part) for part in reason.split("; "))


@dataclass
class Released:
    """What a retry of the orphans did, per table."""

    retried: dict[str, int] = field(default_factory=dict)
    loaded: dict[str, int] = field(default_factory=dict)  # left the quarantine

    def to_dict(self) -> dict[str, Any]:
        return {"retried": dict(self.retried), "loaded": dict(self.loaded)}


def _orphans(conn: sa.Connection) -> dict[str, list[tuple[int, str, dict[str, Any]]]]:
    rows = conn.execute(
        sa.select(
            quarantine.c.id,
            quarantine.c.table_name,
            quarantine.c.source_file,
            quarantine.c.raw,
            quarantine.c.reason,
        )
        .where(quarantine.c.reason.like("% not in %"))
        .order_by(quarantine.c.id)
    ).all()
    out: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
    for row in rows:
        raw = json.loads(row.raw)
        if row.table_name in TABLE_SPECS and "line" not in raw and is_orphan(row.reason):
            out.setdefault(row.table_name, []).append((row.id, row.source_file, raw))
    return out


def _retry_table(
    conn: sa.Connection,
    run_id: str,
    spec: TableSpec,
    rows: list[tuple[int, str, dict[str, Any]]],
    known: dict[str, pd.Index[Any]],
) -> int:
    frame = pd.DataFrame([raw for _, _, raw in rows])
    batch = batch_from_frame(spec, frame, "quarantine")
    result = validate(batch, known)
    if result.good.empty:
        return 0
    conflicting, found = against_stored(conn, spec, result.good, batch.line_no[result.positions])
    good = result.good.loc[~conflicting].reset_index(drop=True)
    insert_ignore(conn, spec.table, good, {c.name: c.kind for c in spec.columns}, spec.key)
    write_conflicts(conn, run_id, spec.table, "quarantine", found)
    settled = [rows[int(p)][0] for p in result.positions]
    conn.execute(quarantine.delete().where(quarantine.c.id.in_(settled)))
    return len(settled)


def retry_orphans(conn: sa.Connection, run_id: str) -> Released:
    """Try the orphans again in ``conn``'s transaction, parents first (a route released now
    lets its trips go too)."""
    from truckflow.data.course_format import LOAD_ORDER

    released = Released()
    orphans = _orphans(conn)
    for table in LOAD_ORDER:
        rows = orphans.get(table)
        if not rows:
            continue
        known = known_keys(conn)
        released.retried[table] = len(rows)
        released.loaded[table] = _retry_table(conn, run_id, TABLE_SPECS[table], rows, known)
    return released
