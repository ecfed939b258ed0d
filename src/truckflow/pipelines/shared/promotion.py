"""Retraining and promotion that hold up: the split from the labelled trips that exist, and a
challenger promoted only when it is not worse than the champion on trips neither trained on.

``split_from_data`` walks back over the labelled, featured arrivals before the week start: the
last days holding at least ``test_min`` trips are the test part, the days before them holding at
least ``min_trips`` the validation part, everything earlier (at least ``min_trips``) training.
When the trips are not there the answer is a reason, not a window: retraining is skipped.

``promotion_check`` scores the champion (production) and the challenger, each at its own
threshold, on the challenger's test part less anything the champion's data window covered, and
asks for a paired bootstrap interval of the F1 difference whose lower end is above minus the
tolerance, on at least ``promotion.min_trips`` trips.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from truckflow.features.fill import load_features
from truckflow.features.tables import trip_features
from truckflow.monitoring.intervals import F1Difference, paired_f1_difference
from truckflow.registry import ModelRegistry, Stage, load_version
from truckflow.settings import Settings
from truckflow.store import Database

__all__ = ["DataSplit", "PromotionCheck", "promotion_check", "split_from_data"]


@dataclass(frozen=True)
class DataSplit:
    """The retraining window, or why there is none (``reason``)."""

    window: dict[str, str] | None
    sizes: dict[str, int] = field(default_factory=dict)
    days: dict[str, list[str]] = field(default_factory=dict)
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _arrivals(db: Database, week_start: dt.date) -> pd.DataFrame:
    tf = trip_features
    query = sa.select(tf.c.estimated_arrival, tf.c.delay).where(
        tf.c.delay.is_not(None), tf.c.estimated_arrival < dt.datetime.combine(week_start, dt.time())
    )
    with db.engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=["arrival", "delay"])
    frame["day"] = pd.to_datetime(frame["arrival"]).dt.normalize()
    return frame


def _take(days: list[pd.Timestamp], counts: pd.Series, least: int, min_days: int) -> int:
    """How many of ``days`` (newest first) it takes to hold ``least`` trips and ``min_days``."""
    total = 0
    for i, day in enumerate(days, start=1):
        total += int(counts[day])
        if total >= least and i >= min_days:
            return i
    return 0


def split_from_data(
    db: Database, week_start: dt.date, *, min_trips: int, test_min: int, min_days: int = 1
) -> DataSplit:
    """The split of the labelled arrivals before ``week_start``, from the newest days back."""
    frame = _arrivals(db, week_start)
    counts = frame.groupby("day").size()
    days = sorted(counts.index, reverse=True)
    n_test = _take(days, counts, test_min, min_days)
    if not n_test:
        return DataSplit(
            None,
            reason=f"{len(frame)} labelled trips arrived before {week_start}: fewer than "
            f"{test_min} for the test part",
        )
    n_val = _take(days[n_test:], counts, min_trips, min_days)
    if not n_val:
        return DataSplit(
            None,
            reason=f"after a test part of {int(counts[days[:n_test]].sum())} trips, fewer than "
            f"{min_trips} labelled trips left for the validation part",
        )
    test_from, val_from = days[n_test - 1], days[n_test + n_val - 1]
    parts = {
        "train": frame[frame["day"] < val_from],
        "validation": frame[(frame["day"] >= val_from) & (frame["day"] < test_from)],
        "test": frame[frame["day"] >= test_from],
    }
    sizes = {k: len(v) for k, v in parts.items()}
    if sizes["train"] < min_trips:
        return DataSplit(
            None, sizes, reason=f"training part of {sizes['train']} trips < {min_trips}"
        )
    for name, part in parts.items():
        classes = sorted(set(part["delay"].astype(int)))
        if classes != [0, 1]:
            return DataSplit(None, sizes, reason=f"the {name} part has classes {classes} only")
    window = {
        "window_start": "",
        "window_end": week_start.isoformat(),
        # split_by_arrival: train arrival <= train_end < validation <= validation_end < test.
        "train_end": (val_from - pd.Timedelta(microseconds=1)).isoformat(),
        "validation_end": (test_from - pd.Timedelta(microseconds=1)).isoformat(),
    }
    spans = {
        "validation": [
            val_from.date().isoformat(),
            (test_from - pd.Timedelta(days=1)).date().isoformat(),
        ],
        "test": [test_from.date().isoformat(), days[0].date().isoformat()],
    }
    return DataSplit(window, sizes, spans)


@dataclass(frozen=True)
class PromotionCheck:
    """Whether the challenger may replace the champion, with the figures that say so."""

    passed: bool
    reason: str
    challenger: str
    champion: str | None
    trips: int
    min_trips: int
    tolerance: float
    difference: dict[str, float | int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def metrics(self) -> dict[str, float]:
        """The figures for a notification."""
        if self.difference is None:
            return {"trips": float(self.trips)}
        d = self.difference
        return {
            "trips": float(self.trips),
            "f1_difference": float(d["difference"]),
            "f1_difference_low": float(d["low"]),
            "f1_difference_high": float(d["high"]),
            "challenger_f1": float(d["challenger_f1"]),
            "champion_f1": float(d["champion_f1"]),
        }


def _window_end(tag: str) -> pd.Timestamp | None:
    parts = tag.split("..")
    return pd.Timestamp(parts[1]) + pd.Timedelta(days=1) if len(parts) == 2 and parts[1] else None


def _decisions(registry: ModelRegistry, version: str, trips: pd.DataFrame) -> np.ndarray:
    loaded = load_version(registry, version)
    scores = np.asarray(loaded.model.predict_proba(trips)[:, 1], dtype=np.float64)
    decided: np.ndarray = (scores >= loaded.threshold).astype(np.int64)
    return decided


def _unseen_trips(db: Database, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The labelled trips arriving after ``start`` and before ``end``."""
    trips = load_features(
        db,
        start.to_pydatetime(),
        end.to_pydatetime(),
        by="estimated_arrival",
        labelled_only=True,
    )
    return trips[trips["estimated_arrival"] > start]


def _reason(n: int, diff: F1Difference, champion: str, tolerance: float, passed: bool) -> str:
    level = f"{diff.confidence:.0%}"
    return (
        f"on {n} trips neither trained on, F1 {diff.challenger_f1:.3f} vs {diff.champion_f1:.3f} "
        f"(v{champion}): difference {diff.difference:+.3f}, {level} interval "
        f"[{diff.low:+.3f}, {diff.high:+.3f}]"
        + ("" if passed else f", worse than the tolerance {tolerance} allows")
    )


def promotion_check(
    settings: Settings, db: Database, challenger: str, window: dict[str, str]
) -> PromotionCheck:
    """Champion and challenger on the trips neither trained on (the challenger's test part,
    after the champion's data window): at least the minimum count, and the paired bootstrap
    interval of the F1 difference not below minus the tolerance."""
    registry = ModelRegistry.from_settings(settings)
    champion = registry.get_alias(Stage.PRODUCTION)
    min_trips, tolerance = settings.promotion.min_trips, settings.promotion.tolerance
    if champion is None:
        return PromotionCheck(
            True,
            "no production model: nothing to compare with",
            champion=None,
            trips=0,
            challenger=challenger,
            min_trips=min_trips,
            tolerance=tolerance,
        )
    start = pd.Timestamp(window["validation_end"])
    seen = _window_end(champion.metadata.data_window)
    if seen is not None and seen > start:
        start = seen
    trips = _unseen_trips(db, start, pd.Timestamp(window["window_end"]))
    n = len(trips)
    if n < settings.promotion.min_trips:
        return PromotionCheck(
            False,
            f"{n} labelled trips neither version trained on, fewer than the "
            f"{settings.promotion.min_trips} needed: not promoted",
            champion=champion.version,
            trips=n,
            challenger=challenger,
            min_trips=min_trips,
            tolerance=tolerance,
        )
    y = trips["delay"].astype(int).to_numpy()
    diff = paired_f1_difference(
        y,
        _decisions(registry, challenger, trips),
        _decisions(registry, champion.version, trips),
        resamples=settings.bootstrap.resamples,
        confidence=settings.bootstrap.confidence,
        seed=settings.bootstrap.seed,
    )
    passed = diff.low >= -settings.promotion.tolerance
    return PromotionCheck(
        passed,
        _reason(n, diff, champion.version, settings.promotion.tolerance, passed),
        champion=champion.version,
        trips=n,
        difference=diff.to_dict(),
        challenger=challenger,
        min_trips=min_trips,
        tolerance=tolerance,
    )
