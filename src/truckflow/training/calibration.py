"""Calibrating the chosen model's probabilities on validation: Platt scaling or isotonic.

Both maps are fitted on the validation part (the model never trained on it). The one kept is
the one with the lower Brier score out of fold (5-fold cross-fitting on validation: isotonic
always wins on the rows it was fitted to, so an in-sample Brier would not choose fairly). The
kept map is then refitted on all of validation and stored with the version as a small JSON tag
(the registry's ``CALIBRATION_TAG``): Platt as two numbers, isotonic as at most ``MAX_KNOTS`` (score, probability)
knots read by linear interpolation. The decision threshold stays on the raw score; calibrated
probabilities serve the performance estimate (``truckflow.monitoring.estimate``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from truckflow.registry.versions import CALIBRATION_TAG, VersionMetadata
from truckflow.training.data import TrainingError

logger = logging.getLogger(__name__)

__all__ = ["CALIBRATION_TAG", "MAX_KNOTS", "Calibrator", "choose_calibrator", "from_tags"]

# Knots kept of an isotonic map: enough for a smooth staircase, small enough for a tag.
MAX_KNOTS = 64
_EPS = 1e-6
_FOLDS = 5

Method = Literal["platt", "isotonic", "identity"]
FloatArray = npt.NDArray[np.float64]


def _logit(scores: FloatArray) -> FloatArray:
    p = np.clip(scores, _EPS, 1 - _EPS)
    out: FloatArray = np.log(p / (1 - p))
    return out


@dataclass(frozen=True)
class Calibrator:
    """A monotone map from the model's score to a calibrated probability of delay."""

    method: Method
    params: tuple[float, ...] = ()  # platt: (slope, intercept) on the score's logit
    knots_x: tuple[float, ...] = ()  # isotonic: scores ...
    knots_y: tuple[float, ...] = ()  # ... and their probabilities
    brier_raw: float | None = None
    brier: float | None = None  # out-of-fold Brier of the chosen map on validation

    def apply(self, scores: npt.ArrayLike) -> FloatArray:
        s = np.asarray(scores, dtype=np.float64)
        if self.method == "platt":
            slope, intercept = self.params
            out: FloatArray = 1.0 / (1.0 + np.exp(-(slope * _logit(s) + intercept)))
            return out
        if self.method == "isotonic":
            return np.interp(s, self.knots_x, self.knots_y)
        return np.clip(s, 0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "brier": self.brier}
        out["brier_raw"] = self.brier_raw
        if self.method == "platt":
            out["params"] = [round(v, 6) for v in self.params]
        if self.method == "isotonic":
            out["x"] = [round(v, 8) for v in self.knots_x]
            out["y"] = [round(v, 6) for v in self.knots_y]
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Calibrator:
        try:
            raw = json.loads(text)
            method = raw["method"]
            if method not in ("platt", "isotonic", "identity"):
                raise ValueError(f"unknown method {method!r}")
            calibrator = cls(
                method=method,
                params=tuple(float(v) for v in raw.get("params", ())),
                knots_x=tuple(float(v) for v in raw.get("x", ())),
                knots_y=tuple(float(v) for v in raw.get("y", ())),
                brier_raw=raw.get("brier_raw"),
                brier=raw.get("brier"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise TrainingError(f"the calibration {text[:80]!r} cannot be read: {exc}") from exc
        if method == "platt" and len(calibrator.params) != 2:
            raise TrainingError("a Platt calibration needs two numbers (slope, intercept)")
        if method == "isotonic" and (
            len(calibrator.knots_x) < 2 or len(calibrator.knots_x) != len(calibrator.knots_y)
        ):
            raise TrainingError("an isotonic calibration needs at least two (x, y) knots")
        return calibrator


def from_tags(tags: Mapping[str, str]) -> Calibrator:
    """The calibration a version was registered with; the identity for older versions."""
    text = VersionMetadata.from_tags(tags).calibration
    return Calibrator("identity") if not text else Calibrator.from_json(text)


def _fit_platt(y: FloatArray, s: FloatArray) -> Calibrator:
    model = LogisticRegression(C=1e6).fit(_logit(s)[:, None], y)
    return Calibrator("platt", params=(float(model.coef_[0, 0]), float(model.intercept_[0])))


def _fit_isotonic(y: FloatArray, s: FloatArray) -> Calibrator:
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s, y)
    x, p = np.asarray(iso.X_thresholds_), np.asarray(iso.y_thresholds_)
    if len(x) > MAX_KNOTS:
        # Thin to knots evenly spaced in rank; interpolating between them keeps it monotone.
        keep = np.unique(np.linspace(0, len(x) - 1, MAX_KNOTS).round().astype(int))
        x, p = x[keep], p[keep]
    if len(x) < 2:  # a constant map: two knots spanning the scores
        x, p = np.array([0.0, 1.0]), np.repeat(p[:1] if len(p) else [float(y.mean())], 2)
    return Calibrator("isotonic", knots_x=tuple(map(float, x)), knots_y=tuple(map(float, p)))


_FITS = {"platt": _fit_platt, "isotonic": _fit_isotonic}


def _out_of_fold_brier(method: str, y: FloatArray, s: FloatArray, seed: int) -> float:
    folds = StratifiedKFold(_FOLDS, shuffle=True, random_state=seed)
    predicted = np.empty_like(s)
    for fit_rows, held in folds.split(s[:, None], y):
        predicted[held] = _FITS[method](y[fit_rows], s[fit_rows]).apply(s[held])
    return float(np.mean((predicted - y) ** 2))


def _too_few_trips(y: FloatArray) -> str | None:
    """Why ``y`` cannot be calibrated out of fold, or None when it can."""
    positives = int(y.sum())
    if min(positives, y.size - positives) >= _FOLDS:
        return None
    return (
        f"calibration needs at least {_FOLDS} delayed and {_FOLDS} on-time validation "
        f"trips; validation has {positives} delayed of {y.size}"
    )


def choose_calibrator(y_true: npt.ArrayLike, scores: npt.ArrayLike, seed: int = 0) -> Calibrator:
    """Platt or isotonic, whichever has the lower out-of-fold Brier score on (y, scores)."""
    y = np.asarray(y_true, dtype=np.float64).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape or y.size == 0:
        raise TrainingError(f"calibration: {y.size} labels and {s.size} scores")
    too_few = _too_few_trips(y)
    if too_few:
        raise TrainingError(too_few)
    briers = {m: _out_of_fold_brier(m, y, s, seed) for m in _FITS}
    method = min(briers, key=lambda m: (briers[m], m))
    chosen = _FITS[method](y, s)
    raw = float(np.mean((s - y) ** 2))
    return Calibrator(
        chosen.method,
        chosen.params,
        chosen.knots_x,
        chosen.knots_y,
        brier_raw=raw,
        brier=briers[method],
    )


def calibrate_candidate(model_path: str, validation_path: str, seed: int = 0) -> dict[str, Any]:
    """The training pipeline's stage: the chosen model scored on validation, calibrated."""
    import joblib
    import pandas as pd

    from truckflow.training.data import labels
    from truckflow.training.evaluate import delay_scores

    model = joblib.load(model_path)
    validation = pd.read_parquet(validation_path)
    scores = delay_scores(model, validation)
    y = np.asarray(labels(validation), dtype=np.float64)
    too_few = _too_few_trips(y)
    if too_few:
        # A small world still trains; its version carries no map and is read as uncalibrated.
        logger.warning("the model is not calibrated: %s", too_few)
        raw = float(np.mean((scores - y) ** 2)) if y.size else None
        return {
            "method": "identity",
            "tag": None,
            "skipped": too_few,
            "validation_brier_raw": raw,
            "validation_brier_calibrated": raw,
        }
    calibrator = choose_calibrator(y, scores, seed=seed)
    return {
        "method": calibrator.method,
        "tag": calibrator.to_json(),
        "validation_brier_raw": calibrator.brier_raw,
        "validation_brier_calibrated": calibrator.brier,
    }
