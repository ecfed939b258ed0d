"""Testers' verdicts on captured predictions, and their summary for the release report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import sqlalchemy as sa

from truckflow.serving.errors import UnknownEntityError
from truckflow.serving.tables import prediction_feedback, predictions
from truckflow.store import Database

__all__ = ["FeedbackSummary", "Verdict", "feedback_summary", "record_feedback"]

Verdict = Literal["right", "wrong", "unsure"]


@dataclass(frozen=True)
class FeedbackSummary:
    """Verdicts on one model version's captured predictions."""

    version: str
    predictions: int
    right: int = 0
    wrong: int = 0
    unsure: int = 0
    comments: list[dict[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.right + self.wrong + self.unsure

    @property
    def right_rate(self) -> float | None:
        """Share of 'right' among the verdicts that are not 'unsure'."""
        decided = self.right + self.wrong
        return None if decided == 0 else self.right / decided


def record_feedback(
    db: Database, prediction_id: str, verdict: Verdict, comment: str | None = None
) -> int:
    """Store one verdict; raises ``UnknownEntityError`` when the prediction was never captured."""
    with db.begin() as conn:
        found = conn.execute(
            sa.select(predictions.c.id).where(predictions.c.id == prediction_id)
        ).first()
        if found is None:
            raise UnknownEntityError("prediction", prediction_id)
        result = conn.execute(
            prediction_feedback.insert().values(
                prediction_id=prediction_id, verdict=verdict, comment=comment
            )
        )
        key = result.inserted_primary_key
        return int(key[0]) if key else 0


def feedback_summary(db: Database, version: str) -> FeedbackSummary:
    """Counts of verdicts on the version's predictions, and the comments with their verdicts."""
    p, f = predictions, prediction_feedback
    with db.engine.connect() as conn:
        served = conn.execute(
            sa.select(sa.func.count()).select_from(p).where(p.c.model_version == version)
        ).scalar_one()
        counts: dict[str, int] = dict(
            conn.execute(
                sa.select(f.c.verdict, sa.func.count())
                .select_from(f.join(p, p.c.id == f.c.prediction_id))
                .where(p.c.model_version == version)
                .group_by(f.c.verdict)
            ).all()
        )
        comments = conn.execute(
            sa.select(f.c.prediction_id, f.c.verdict, f.c.comment)
            .select_from(f.join(p, p.c.id == f.c.prediction_id))
            .where(p.c.model_version == version, f.c.comment.is_not(None))
            .order_by(f.c.id)
        ).all()
    return FeedbackSummary(
        version=version,
        predictions=int(served),
        right=int(counts.get("right", 0)),
        wrong=int(counts.get("wrong", 0)),
        unsure=int(counts.get("unsure", 0)),
        comments=[
            {"prediction_id": r.prediction_id, "verdict": r.verdict, "comment": r.comment}
            for r in comments
        ],
    )
