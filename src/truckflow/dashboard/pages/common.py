"""Small pieces the pages share: empty states that say what to run, and table helpers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

__all__ = ["empty_state", "table", "when"]


def empty_state(what: str, *commands: str) -> None:
    """Say that there is nothing yet, and which commands make something."""
    st.info(what)
    if commands:
        st.markdown("To make some, run:")
        st.code("\n".join(commands), language="bash")


def when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def table(rows: Iterable[dict[str, Any]], columns: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    if columns is not None and not frame.empty:
        frame = frame[columns]
    return frame
