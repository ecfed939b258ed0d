"""Reference-vs-current distribution plots, as base64 PNG for self-contained HTML.

Figures are built with matplotlib's object API on the Agg canvas (no pyplot state), so reports
can be drawn from worker threads.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from truckflow.monitoring.drift import ColumnDrift
from truckflow.monitoring.stattests import ColumnKind, StatTest

__all__ = ["distribution_png"]

_REF, _CUR = "#4c72b0", "#dd8452"
_MAX_CATEGORIES = 20
_MAX_BINS = 40
_DISCRETE_TESTS = (StatTest.CHI_SQUARED, StatTest.Z, StatTest.JENSEN_SHANNON)


def distribution_png(reference: pd.Series, current: pd.Series, drift: ColumnDrift) -> str:
    """One column's two distributions as a base64-encoded PNG."""
    figure = Figure(figsize=(6.0, 2.8), dpi=90)
    FigureCanvasAgg(figure)
    # Fixed margins, room for the rotated category labels: tight_layout drew every figure
    # once more only to measure it (a quarter of a drift report's time).
    figure.subplots_adjust(left=0.11, right=0.98, top=0.9, bottom=0.3)
    axes = figure.add_subplot()
    if drift.kind is ColumnKind.CATEGORICAL or drift.test in _DISCRETE_TESTS:
        _bars(axes, reference, current)
    else:
        _histograms(axes, reference, current)
    verdict = "DRIFT" if drift.drifted else "no drift"
    axes.set_title(f"{drift.column}: {drift.test.value} {drift.score:.4g} ({verdict})", fontsize=9)
    axes.legend(fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _histograms(axes: Axes, reference: pd.Series, current: pd.Series) -> None:
    ref = pd.to_numeric(reference, errors="coerce").to_numpy(dtype=np.float64)
    cur = pd.to_numeric(current, errors="coerce").to_numpy(dtype=np.float64)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    both = np.concatenate([ref, cur])
    # The central 99% of the values: one far tail would otherwise squeeze everything in a bin.
    low, high = np.percentile(both, [0.5, 99.5]) if len(both) else (0.0, 1.0)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, _MAX_BINS + 1)
    axes.set_xlabel("central 99% of values", fontsize=7)
    # One filled step outline per sample (hist draws a patch per bin: 80 patches to render).
    for values, color, label in ((ref, _REF, "reference"), (cur, _CUR, "current")):
        if len(values):  # a sample without a finite value has nothing to draw
            density, _ = np.histogram(values, bins=edges, density=True)
            axes.stairs(density, edges, fill=True, alpha=0.55, color=color, label=label)


def _bars(axes: Axes, reference: pd.Series, current: pd.Series) -> None:
    ref = reference.dropna().astype(str).value_counts(normalize=True)
    cur = current.dropna().astype(str).value_counts(normalize=True)
    keys = (ref.add(cur, fill_value=0)).sort_values(ascending=False).index[:_MAX_CATEGORIES]
    x = np.arange(len(keys))
    axes.bar(
        x - 0.2, ref.reindex(keys, fill_value=0).to_numpy(), 0.4, color=_REF, label="reference"
    )
    axes.bar(x + 0.2, cur.reindex(keys, fill_value=0).to_numpy(), 0.4, color=_CUR, label="current")
    axes.set_xticks(x, [str(k)[:14] for k in keys], rotation=45, ha="right", fontsize=7)
    axes.set_ylabel("share", fontsize=8)
