"""Statements of the one-trip path run straight on SQLite's DBAPI cursor, results unchanged.

A one-trip computation runs eight small indexed queries; through ``Connection.execute`` each
spent more time in SQLAlchemy (the compiled cache lookup, parameter and result processing, the
``Row`` objects) than in SQLite. ``Prepared`` compiles its statement once per dialect and then
binds and reads with the very processors SQLAlchemy would apply (the columns' own bind and
result processors), on the driver's cursor; rows are named tuples with the same attribute
names, so the values are those ``Connection.execute`` gives, type for type. Only SQLite (qmark
parameters) takes this path; other engines run the statement through SQLAlchemy as before.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["Prepared"]

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    text: str
    binds: tuple[tuple[str, Processor, Any], ...]  # key, processor, the statement's own value
    results: tuple[Processor, ...]
    row: Any  # a namedtuple class with the result columns' names


def _compile(statement: sa.Select[Any], dialect: Any) -> _Compiled | None:
    compiled: Any = statement.compile(dialect=dialect)
    order = compiled.positiontup
    if order is None or compiled.literal_execute_params or compiled.post_compile_params:
        return None
    binds = tuple(
        (
            compiled.binds[name].key,
            compiled.binds[name].type._cached_bind_processor(dialect),
            compiled.binds[name].value,  # e.g. a LIMIT's count, not among the caller's values
        )
        for name in order
    )
    columns = compiled._result_columns
    names = [entry[0] for entry in columns]
    processors = tuple(entry[3]._cached_result_processor(dialect, None) for entry in columns)
    row = namedtuple("PreparedRow", names)  # type: ignore[misc]
    return _Compiled(str(compiled), binds, processors, row)


class Prepared:
    """One statement, run on SQLite's cursor with SQLAlchemy's own value processing."""

    def __init__(self, statement: sa.Select[Any]) -> None:
        self.statement = statement
        self._compiled: _Compiled | None = None
        self._compiled_for: Any = None

    def _for(self, conn: Connection) -> _Compiled | None:
        dialect = conn.dialect
        if dialect.name != "sqlite":
            return None
        if self._compiled_for is not dialect:
            self._compiled = _compile(self.statement, dialect)
            self._compiled_for = dialect
        return self._compiled

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row, as ``conn.execute(statement, params).all()`` gives them."""
        compiled = self._for(conn)
        if compiled is None:
            return list(conn.execute(self.statement, dict(params)).all())
        given = [params.get(key, own) for key, _, own in compiled.binds]
        values = tuple(
            v if process is None else process(v)
            for v, (_, process, _) in zip(given, compiled.binds, strict=True)
        )
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.text, values)
            raw = cursor.fetchall()
        finally:
            cursor.close()
        row, processors = compiled.row, compiled.results
        if not any(processors):
            return [row(*r) for r in raw]
        return [
            row(*[v if p is None else p(v) for p, v in zip(processors, r, strict=True)])
            for r in raw
        ]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first row or None, as ``conn.execute(statement, params).first()``."""
        rows = self.all(conn, params)
        return rows[0] if rows else None
