"""The demo report's figures (matplotlib, Agg), each returned as PNG bytes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from truckflow.demo.model import DailyPoint, DriftWeek

__all__ = ["confusion_counts", "confusion_png", "daily_f1_png", "drift_heatmap_png"]


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def daily_f1_png(daily: list[DailyPoint]) -> bytes:
    """F1 of each day's arrivals; a dashed line where the serving model version changed."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    x = list(range(len(daily)))
    ax.plot(x, [d.f1 for d in daily], marker="o", label="F1")
    ax.plot(x, [d.accuracy for d in daily], marker=".", alpha=0.5, label="accuracy")
    for i in x[1:]:
        if daily[i].model_version != daily[i - 1].model_version:
            ax.axvline(i - 0.5, color="red", linestyle="--")
            ax.annotate(
                f"v{daily[i].model_version} serves",
                (i - 0.4, 0.05),
                color="red",
                rotation=90,
                va="bottom",
            )
    ax.set_ylim(0, 1)
    ax.set_ylabel("score")
    ax.set_title("Daily quality of yesterday's arrivals (dashed: retrained model takes over)")
    ax.legend(loc="lower left")
    ax.set_xticks(x, [f"{d.day:%m-%d}" for d in daily], rotation=45)
    return _png(fig)


def drift_heatmap_png(weeks: list[DriftWeek]) -> bytes:
    """Per-column drift statistic by week; x marks a column judged drifted."""
    columns = sorted({c for w in weeks for c in w.scores})
    values = np.array(
        [[min(w.scores.get(c, np.nan), 1.0) for c in columns] for w in weeks], dtype=float
    )
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(columns)), 1.2 + 0.6 * len(weeks)))
    image = ax.imshow(values, aspect="auto", cmap="viridis", vmin=0, vmax=1)
    for i, week in enumerate(weeks):
        for j, column in enumerate(columns):
            if column in week.drifted_columns:
                ax.text(j, i, "x", ha="center", va="center", color="red", fontweight="bold")
    ax.set_xticks(range(len(columns)), columns, rotation=90, fontsize=7)
    ax.set_yticks(range(len(weeks)), [f"{w.week_start}" for w in weeks])
    ax.set_title("Drift statistic per feature and week (x: drifted)")
    fig.colorbar(image, ax=ax, fraction=0.02)
    return _png(fig)


def confusion_counts(points: list[DailyPoint]) -> np.ndarray | None:
    """[[TN, FP], [FN, TP]] summed over days, recovered from each day's count, accuracy,
    precision and recall (the four numbers fix the four cells); None when nothing is known."""
    total = np.zeros((2, 2))
    for d in points:
        cells = _cells(d)
        if cells is not None:
            total += cells
    return total if total.sum() > 0 else None


def _cells(d: DailyPoint) -> np.ndarray | None:
    n, acc, p, r = d.count, d.accuracy, d.precision, d.recall
    if n <= 0:
        return None
    if p <= 0 or r <= 0:
        # No true positives: the errors split into FP and FN is unknown unless one side is 0.
        return None
    tp = n * (1 - acc) / ((1 - p) / p + (1 - r) / r) if acc < 1 else None
    if tp is None:
        return None
    fp, fn = tp * (1 - p) / p, tp * (1 - r) / r
    tn = n - tp - fp - fn
    return np.array([[tn, fp], [fn, tp]])


def confusion_png(title: str, matrix: np.ndarray) -> bytes:
    fig, ax = plt.subplots(figsize=(3.2, 3))
    ax.imshow(matrix, cmap="Blues")
    for i in range(2):
        for j in range(2):
            ax.text(j, i, f"{matrix[i, j]:.0f}", ha="center", va="center")
    ax.set_xticks([0, 1], ["on time", "delayed"])
    ax.set_yticks([0, 1], ["on time", "delayed"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title(title, fontsize=9)
    return _png(fig)
