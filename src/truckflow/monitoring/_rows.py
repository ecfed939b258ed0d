"""Reading and writing the monitoring tables: one transaction helper and one day-range query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from truckflow.store.database import Database


@contextmanager
def transaction(target: Database | sa.Connection) -> Iterator[sa.Connection]:
    """The caller's connection as it is, or a transaction of its own on a ``Database``."""
    if isinstance(target, sa.Connection):
        yield target
    else:
        with target.begin() as conn:
            yield conn


def days_between(table: sa.Table, start: dt.date | None, end: dt.date | None) -> sa.Select[Any]:
    """``table``'s rows in day order, from ``start`` to ``end`` (both included, either open)."""
    query = table.select().order_by(table.c.day)
    if start is not None:
        query = query.where(table.c.day >= start)
    if end is not None:
        query = query.where(table.c.day <= end)
    return query
