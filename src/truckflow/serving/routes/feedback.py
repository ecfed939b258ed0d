"""Testers' verdicts on captured predictions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from truckflow.serving.capture import CaptureWriter
from truckflow.serving.errors import UnknownEntityError
from truckflow.serving.feedback import record_feedback
from truckflow.serving.handlers import BODY_RESPONSES
from truckflow.serving.schemas import FeedbackIn, FeedbackOut
from truckflow.store import Database

__all__ = ["feedback_router"]


def feedback_router(db: Database, writer: CaptureWriter) -> APIRouter:
    router = APIRouter(tags=["feedback"])

    @router.post(
        "/feedback",
        response_model=FeedbackOut,
        responses={404: {"description": "No prediction has that id."}, **BODY_RESPONSES},
    )
    def feedback(body: FeedbackIn) -> dict[str, Any]:
        """Attach a tester's verdict (right, wrong, unsure) and a comment to a prediction."""
        try:
            feedback_id = record_feedback(db, body.prediction_id, body.verdict, body.comment)
        except UnknownEntityError:
            # It may still sit in the capture queue: write what is queued, then look again.
            writer.flush()
            feedback_id = record_feedback(db, body.prediction_id, body.verdict, body.comment)
        return {
            "feedback_id": feedback_id,
            "prediction_id": body.prediction_id,
            "verdict": body.verdict,
        }

    return router
