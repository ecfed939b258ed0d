"""Scoring a fitted model: the decision threshold, test metrics, calibration and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

__all__ = [
    "PREDICT_ROWS",
    "best_threshold",
    "classification_metrics",
    "delay_scores",
    "reliability_bins",
    "save_plots",
]

# Rows a model scores at a time: its preprocessed (dense, one-hot) rows are 1-2 kB each.
PREDICT_ROWS = 5_000


def delay_scores(model: Any, frame: Any, piece_rows: int = PREDICT_ROWS) -> np.ndarray:
    """The fitted pipeline's probability of delay for each row of ``frame``, ``piece_rows`` rows
    at a time: the memory of the preprocessed rows is one piece's, whatever the rows. Each row
    is scored on its own, so the scores are those of one call on all the rows, to the last bit
    or two (BLAS may sum a row's products in another order, by where the row falls in a block)."""
    pieces = [
        np.asarray(model.predict_proba(frame.iloc[i : i + piece_rows])[:, 1], dtype=np.float64)
        for i in range(0, len(frame), piece_rows)
    ]
    return np.concatenate(pieces) if pieces else np.empty(0, dtype=np.float64)


def best_threshold(y: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """The probability cut that maximises F1 on (y, scores), and that F1."""
    precision, recall, thresholds = precision_recall_curve(y, scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    # The last precision/recall pair has no threshold (it is the "predict nothing" end).
    best = int(np.argmax(f1[:-1]))
    return float(thresholds[best]), float(f1[best])


def reliability_bins(
    y: np.ndarray, scores: np.ndarray, bins: int = 10
) -> list[dict[str, float | None]]:
    """Per probability bin: how many trips, their mean predicted and observed delay rates
    (None for an empty bin, so that the result stays JSON and compares equal to itself)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(scores, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        count = int(mask.sum())
        out.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "count": float(count),
                "mean_predicted": float(scores[mask].mean()) if count else None,
                "observed_rate": float(y[mask].mean()) if count else None,
            }
        )
    return out


def classification_metrics(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    predicted = (scores >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, predicted, labels=[0, 1]).ravel()
    return {
        "f1": float(f1_score(y, predicted, zero_division=0)),
        "precision": float(precision_score(y, predicted, zero_division=0)),
        "recall": float(recall_score(y, predicted, zero_division=0)),
        "roc_auc": float(roc_auc_score(y, scores)),
        "pr_auc": float(average_precision_score(y, scores)),
        "brier": float(brier_score_loss(y, scores)),
        "threshold": float(threshold),
        "confusion_matrix": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
        "reliability": reliability_bins(y, scores),
        "rows": len(y),
        "positives": int(np.sum(y)),
    }


def save_plots(
    y: np.ndarray, scores: np.ndarray, metrics: dict[str, Any], folder: Path, title: str
) -> list[Path]:
    """ROC curve, precision-recall curve and confusion matrix as PNG files in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    paths = []

    fig, ax = plt.subplots(figsize=(5, 5))
    fpr, tpr, _ = roc_curve(y, scores)
    ax.plot(fpr, tpr, label=f"ROC AUC {metrics['roc_auc']:.3f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"{title}: ROC")
    ax.legend(loc="lower right")
    paths.append(_save(fig, folder / "roc.png"))

    fig, ax = plt.subplots(figsize=(5, 5))
    precision, recall, _ = precision_recall_curve(y, scores)
    ax.plot(recall, precision, label=f"PR AUC {metrics['pr_auc']:.3f}")
    ax.axhline(float(np.mean(y)), linestyle="--", color="grey", label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title=f"{title}: precision-recall")
    ax.legend(loc="upper right")
    paths.append(_save(fig, folder / "pr.png"))

    fig, ax = plt.subplots(figsize=(4.5, 4))
    cm = metrics["confusion_matrix"]
    grid = np.array([[cm["tn"], cm["fp"]], [cm["fn"], cm["tp"]]])
    ax.imshow(grid, cmap="Blues")
    for (i, j), value in np.ndenumerate(grid):
        colour = "white" if value > grid.max() / 2 else "black"
        ax.text(j, i, str(value), ha="center", va="center", color=colour)
    ax.set(
        xticks=[0, 1],
        yticks=[0, 1],
        xticklabels=["on time", "delayed"],
        yticklabels=["on time", "delayed"],
        xlabel="predicted",
        ylabel="actual",
        title=f"{title}: threshold {metrics['threshold']:.2f}",
    )
    paths.append(_save(fig, folder / "confusion_matrix.png"))
    return paths


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
