"""The online store read: trips' stored feature rows by key, one indexed query.

The daily pipeline and ``truckflow features fill`` store each scheduled trip's features in
``trip_features``, computed by the same code as training. A request for such a trip reads its
row by the table's primary key (truck_id, departure_date, version) instead of reading the
forecasts and computing. Only rows of the feature code's own version are read, so that a row
stored under an older definition is never served as today's. A row serves a request only if it
was computed for the route the request names; any other trip goes to the on-demand compute.

Values come off the DBAPI cursor and are put in the shape ``features.rows.frame_rows`` gives the
computed features, so that both paths hand the model (and the capture) the same row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from truckflow.features.definition import (
    BINARY_FEATURES,
    FEATURE_SET_VERSION,
    KEY_COLUMNS,
    LABEL,
)
from truckflow.features.rows import TIME_FORMAT
from truckflow.features.sqlread import SqlText, column_kinds
from truckflow.features.tables import trip_features
from truckflow.features.trip import Trip

__all__ = ["StoredFeatures"]

# Trips per query: each is one primary-key probe of an OR list.
_KEYS_PER_QUERY = 200
_KINDS = column_kinds(trip_features)
Convert = Callable[[Any], Any]


def _time(value: Any) -> dt.datetime:
    # SQLite hands back the ISO text SQLAlchemy stored; the other drivers a datetime.
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def _as_float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if number != number else number


def _as_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _as_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _as_iso(value: Any) -> str | None:
    return None if value is None else _time(value).strftime(TIME_FORMAT)


def _unknown(_: Any) -> None:
    # The label: a request is about a trip whose delay is not known yet, and the model does
    # not read it; the on-demand path has none either.
    return None


def _converter(name: str) -> Convert:
    if name == LABEL:
        return _unknown
    if name in BINARY_FEATURES:  # stored as a double; the compute gives ints
        return _as_int
    kind = _KINDS[name]
    return {"int": _as_int, "float": _as_float, "str": _as_text, "time": _as_iso}[kind]


class StoredFeatures:
    """Reads stored rows of one feature-set version, in a model's feature order."""

    def __init__(self, version: str = FEATURE_SET_VERSION) -> None:
        self.version = version
        # Query text by (dialect, key count, names): built once, not per request.
        self._texts: dict[tuple[str, int, tuple[str, ...]], str] = {}

    def usable(self, names: Sequence[str]) -> bool:
        """Whether the table holds every column the model reads."""
        return all(name in _KINDS for name in names)

    def numeric(self, names: Sequence[str]) -> bool:
        """Whether a model reading ``names`` gets a float array (no text, no times)."""
        return all(_KINDS.get(name) in ("int", "float") for name in names)

    def rows(
        self,
        conn: sa.Connection,
        trips: Sequence[Trip],
        names: Sequence[str],
        lacking: dict[int, list[str]] | None = None,
    ) -> dict[int, list[Any]]:
        """Model rows of the trips that have a stored row for their route, by trip position;
        ``lacking`` gets the input groups each found row was stored without ([] if none)."""
        keys: dict[tuple[int, dt.datetime], list[int]] = {}
        for i, trip in enumerate(trips):
            keys.setdefault((trip.truck_id, trip.departure), []).append(i)
        wanted = list(keys)
        converters = [_converter(n) for n in names]
        found: dict[int, list[Any]] = {}
        for lo in range(0, len(wanted), _KEYS_PER_QUERY):
            for record in self._fetch(conn, wanted[lo : lo + _KEYS_PER_QUERY], names):
                truck_id, departure, route_id, missing, *values = record
                for i in keys.get((int(truck_id), _time(departure)), ()):
                    if trips[i].route_id == route_id:
                        found[i] = [c(v) for c, v in zip(converters, values, strict=True)]
                        if lacking is not None:
                            lacking[i] = [g for g in (missing or "").split(",") if g]
        return found

    def _fetch(
        self, conn: sa.Connection, keys: list[tuple[int, dt.datetime]], names: Sequence[str]
    ) -> list[tuple[Any, ...]]:
        sql = SqlText(conn)
        shape = (sql.dialect, len(keys), tuple(names))
        text = self._texts.get(shape)
        if text is None:
            truck, departure = (sql.name(c) for c in KEY_COLUMNS)
            one = f"({truck} = {sql.mark} AND {departure} = {sql.mark})"
            text = self._texts[shape] = (
                f"SELECT {truck}, {departure}, {sql.name('route_id')},"
                f" {sql.name('missing_inputs')}, {sql.names(list(names))}"
                f" FROM {sql.name(trip_features.name)}"
                f" WHERE {sql.name('version')} = {sql.mark}"
                f" AND ({' OR '.join([one] * len(keys))})"
            )
        params: list[object] = [self.version]
        for truck_id, when in keys:
            params += [truck_id, sql.value(when)]
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(text, tuple(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()
