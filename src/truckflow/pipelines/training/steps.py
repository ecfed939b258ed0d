"""The training pipeline's step bodies as plain functions with JSON-able inputs and outputs
(the registration and tracking ones are in ``registration.py``).

Frames and models travel as file paths (Parquet, joblib) under an output folder, so that each
function can become a pipeline-engine step unchanged and its outputs can be cached, recorded and
shown. Every function is deterministic given its inputs (the seed is one of them).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from truckflow.features.definition import FEATURE_SET_VERSION, LABEL
from truckflow.pipelines.shared.memory import release_memory
from truckflow.store import Database
from truckflow.training.contract import attach_contract, build_contract
from truckflow.training.data import (
    DEFAULT_TRAIN_END,
    DEFAULT_VALIDATION_END,
    SPLIT_PARTS,
    TrainingError,
    check_part,
    labels,
    split_bounds,
)
from truckflow.training.evaluate import classification_metrics, delay_scores, save_plots
from truckflow.training.gate import check_gate
from truckflow.training.tuning import tune_candidate

__all__ = [
    "evaluate_on_test",
    "gate",
    "load_feature_window",
    "score_model",
    "select_best",
    "split_dataset",
    "train_candidate",
]


def _folder(out_dir: str) -> Path:
    path = Path(out_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _read(path: str, filters: Any = None) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, filters=filters)
    except (OSError, ValueError) as exc:
        raise TrainingError(f"cannot read the frame {path}: {exc}") from exc


def load_feature_window(
    db: Database,
    start: str | None,
    end: str | None,
    out_dir: str,
    feature_version: str = FEATURE_SET_VERSION,
) -> dict[str, Any]:
    """Labelled feature rows whose arrival falls in [start, end), to ``features.parquet``."""
    from truckflow.features.fill import load_features

    first = None if start is None else dt.datetime.fromisoformat(start)
    bound = None if end is None else dt.datetime.fromisoformat(end)
    frame = load_features(
        db, first, bound, version=feature_version, by="estimated_arrival", labelled_only=True
    )
    if frame.empty:
        raise _no_features_error(db, first, bound, feature_version)
    path = _folder(out_dir) / "features.parquet"
    frame.to_parquet(path, index=False)
    arrivals = frame["estimated_arrival"]
    out = {
        "path": str(path),
        "rows": len(frame),
        "positives": int(frame["delay"].sum()),
        # What the data cover (arrival dates), whatever bounds were asked for.
        "window": f"{arrivals.min():%Y-%m-%d}..{arrivals.max():%Y-%m-%d}",
        "requested": f"{start or ''}..{end or ''}",
        "feature_version": feature_version,
    }
    del frame, arrivals
    release_memory()
    return out


def _no_features_error(
    db: Any, first: dt.datetime | None, bound: dt.datetime | None, feature_version: str
) -> TrainingError:
    """Why there is nothing to train on, and the command that fixes it when one does."""
    import sqlalchemy as sa

    window = f"[{first or 'the first'}, {bound or 'the last trip'})"
    clauses = ["delay IS NOT NULL"]
    if first is not None:
        clauses.append("estimated_arrival >= :first")
    if bound is not None:
        clauses.append("estimated_arrival < :bound")
    query = f"SELECT count(*) FROM truck_schedule WHERE {' AND '.join(clauses)}"
    with db.engine.connect() as conn:
        labelled = int(conn.execute(sa.text(query), {"first": first, "bound": bound}).scalar_one())
    what = f"no labelled trips of feature version {feature_version} arrive in {window}"
    if labelled == 0:
        return TrainingError(
            f"{what}: the database has no labelled trips there either;"
            " load data first: truckflow data ingest FOLDER"
        )
    return TrainingError(
        f"{what}, while {labelled} labelled trips arrive there without stored features;"
        " compute them first: truckflow features fill"
    )


def split_dataset(
    features_path: str,
    out_dir: str,
    train_end: str = DEFAULT_TRAIN_END,
    validation_end: str = DEFAULT_VALIDATION_END,
) -> dict[str, Any]:
    """The course's date split by estimated arrival (``split_by_arrival``), one Parquet file per
    part. Each part is read from the window's file on its own (a filter on arrival), so that
    the memory is one part's, not the window's and its three copies."""
    import pyarrow.compute as pc

    t1, t2 = split_bounds(train_end, validation_end)
    arrival = pc.field("estimated_arrival")
    labelled = pc.field(LABEL).is_valid()
    filters = {
        "train": labelled & (arrival <= t1),
        "validation": labelled & (arrival > t1) & (arrival <= t2),
        "test": labelled & (arrival > t2),
    }
    folder = _folder(out_dir)
    out: dict[str, Any] = {"sizes": {}}
    for part in SPLIT_PARTS:
        rows = _read(features_path, filters[part])
        check_part(part, rows, train_end, validation_end)
        path = folder / f"{part}.parquet"
        rows.to_parquet(path, index=False)
        out["sizes"][part] = len(rows)
        out[part] = str(path)
    return out


def train_candidate(
    family: str,
    train_path: str,
    validation_path: str,
    out_dir: str,
    n_trials: int = 20,
    seed: int = 0,
    device: str = "cpu",
    n_jobs: int = 1,
    half_life_days: float = 0.0,
) -> dict[str, Any]:
    """Tune one family on train, scored on validation; save the refitted best model."""
    train = _read(train_path)
    tuned = tune_candidate(
        family,
        train,
        _read(validation_path),
        n_trials=n_trials,
        seed=seed,
        device=device,
        n_jobs=n_jobs,
        half_life_days=half_life_days,
    )
    # The version's feature contract travels inside the model (and so under its checksum).
    attach_contract(tuned.model, build_contract(train, tuned.model))
    path = _folder(out_dir) / f"{family}.joblib"
    joblib.dump(tuned.model, path)
    return {
        "family": family,
        "model_path": str(path),
        "params": tuned.params,
        "threshold": tuned.threshold,
        "validation_f1": tuned.validation_f1,
        "validation_roc_auc": tuned.validation_roc_auc,
        "trials": tuned.trials,
        "seed": seed,
        "device": device,
        "half_life_days": tuned.half_life_days,
        "trial_log": tuned.trial_log,
    }


def select_best(candidates: list[dict[str, Any]]) -> dict[str, Any]:
    """The candidate with the best validation F1 (the first listed wins a tie)."""
    if not candidates:
        raise TrainingError("no candidate was trained")
    best = max(enumerate(candidates), key=lambda ic: (ic[1]["validation_f1"], -ic[0]))[1]
    ranking = sorted(candidates, key=lambda c: -c["validation_f1"])
    return {
        **best,
        "ranking": [
            {k: c[k] for k in ("family", "validation_f1", "validation_roc_auc")} for c in ranking
        ],
    }


def score_model(model: Any, threshold: float, test_path: str) -> dict[str, Any]:
    """Test metrics of any fitted model (the candidate, or the production model to compare)."""
    test = _read(test_path)
    scores = delay_scores(model, test)
    return classification_metrics(labels(test), scores, threshold)


def evaluate_on_test(
    model_path: str, threshold: float, test_path: str, out_dir: str, title: str = "candidate"
) -> dict[str, Any]:
    """Test metrics, calibration and the ROC, PR and confusion-matrix plots of the chosen model."""
    model = joblib.load(model_path)
    test = _read(test_path)
    y = labels(test)
    scores = delay_scores(model, test)
    metrics = classification_metrics(y, scores, threshold)
    folder = _folder(out_dir)
    plots = save_plots(y, scores, metrics, folder, title)
    report = folder / "evaluation.json"
    report.write_text(json.dumps(metrics, indent=2, sort_keys=True))
    return {"metrics": metrics, "plots": [str(p) for p in plots], "report": str(report)}


def gate(
    test_f1: float,
    min_f1: float,
    production_f1: float | None = None,
    tolerance: float = 0.0,
    production_version: str | None = None,
) -> dict[str, object]:
    """The registration condition, with a message naming each failed condition and its numbers."""
    return check_gate(test_f1, min_f1, production_f1, tolerance, production_version).to_dict()
