"""Request and response bodies of the serving API."""

from __future__ import annotations

import keyword
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, create_model, field_validator

from truckflow.registry.contract import MAGNITUDE_LIMIT

__all__ = [
    "BatchPredictionOut",
    "CompactPredictionOut",
    "FeedbackIn",
    "FeedbackOut",
    "HealthOut",
    "ModelOut",
    "PredictionOut",
    "ReasonOut",
    "ReloadOut",
    "TripBatchIn",
    "TripIn",
    "feature_vector_model",
]

MAX_BATCH = 10_000


# What the API documents for a departure: ISO 8601 in the years trips can have (1900-2199), as
# a pattern, so that the document says what is accepted. The parser is the judge (days 29-31
# are accepted too); a year outside is refused: it would overflow time arithmetic further down.
_DEPARTURE_PATTERN = (
    r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])?$"
)
_DEPARTURE_SCHEMA = {"type": "string", "pattern": _DEPARTURE_PATTERN}


class TripIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # JSON numbers past 2**53 are not exact in a double: the bound is one every client can hold.
    truck_id: int = Field(ge=0, le=2**53 - 1, description="The truck's id (trucks.truck_id).")
    route_id: str = Field(
        min_length=1, max_length=32, description="The route's id, e.g. R-ada2a391."
    )
    departure: Annotated[datetime, WithJsonSchema(_DEPARTURE_SCHEMA)] = Field(
        description="Planned departure (ISO 8601; a time without a zone is taken as UTC)."
    )

    @field_validator("departure")
    @classmethod
    def _plausible_year(cls, value: datetime) -> datetime:
        # Far-off years cannot be trips, and would overflow time arithmetic further down.
        if not 1900 <= value.year <= 2200:
            raise ValueError("departure must lie between the years 1900 and 2200")
        return value


class TripBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trips: list[TripIn] = Field(min_length=1, max_length=MAX_BATCH)


class ReasonOut(BaseModel):
    feature: str = Field(description="The feature, as the contract names it.")
    value: float | str | None = Field(description="Its value in this request (null: missing).")
    contribution: float = Field(
        description="How much it moves the probability of delay (probability points)."
    )
    text: str = Field(description="e.g. 'destination_precip = 0.31 in raises the risk by 0.12'")


class PredictionOut(BaseModel):
    prediction_id: str = Field(description="Id of the captured prediction; quote it in /feedback.")
    probability: float = Field(description="Predicted probability that the trip is delayed.")
    delayed: bool = Field(description="The decision: probability at or above the threshold.")
    model_version: str
    stage: str
    request_id: str
    reasons: list[ReasonOut] | None = Field(
        default=None, description="Top contributions, largest first (3 by default on /predict)."
    )
    features_complete: bool | None = Field(
        default=None,
        description="For a trip (/predict): false when its stored features were computed "
        "without some inputs (a forecast past its deadline); the model imputed those.",
    )
    missing_groups: list[str] | None = Field(
        default=None,
        description="For a trip: the input groups its features lacked ([] when complete), "
        "e.g. route_weather, traffic, origin_weather, destination_weather, entities.",
    )


class BatchItemOut(BaseModel):
    prediction_id: str
    probability: float
    delayed: bool
    reasons: list[ReasonOut] | None = None
    features_complete: bool | None = None
    missing_groups: list[str] | None = None


class BatchPredictionOut(BaseModel):
    model_version: str
    stage: str
    request_id: str
    predictions: list[BatchItemOut]


class CompactPredictionOut(BaseModel):
    model_version: str
    stage: str
    request_id: str
    prediction_ids: list[str]
    probabilities: list[float]
    delayed: list[bool]
    reasons: list[list[ReasonOut]] | None = None


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prediction_id: str = Field(min_length=1, max_length=32)
    verdict: Literal["right", "wrong", "unsure"]
    comment: str | None = Field(default=None, max_length=4000)


class FeedbackOut(BaseModel):
    feedback_id: int
    prediction_id: str
    verdict: str


class HealthOut(BaseModel):
    status: Literal["ok"]
    stage: str
    model_version: str


class ModelOut(BaseModel):
    model_name: str
    model_version: str
    stage: str
    threshold: float
    feature_names: list[str]
    metrics: dict[str, float]
    data_window: dict[str, str | None]
    loaded_at: datetime


class ReloadOut(BaseModel):
    stage: str
    previous_version: str | None
    model_version: str | None
    changed: bool


def _field_name(name: str) -> str:
    if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_"):
        return name
    return "f_" + "".join(c if c.isalnum() else "_" for c in name)


def feature_vector_model(names: Sequence[str] | None) -> type[BaseModel]:
    """A body model with one required number per feature (any feature names when unknown)."""
    if not names:
        return create_model(
            "FeatureVector",
            __config__=ConfigDict(extra="allow"),
            __doc__="Feature values by name; the served model's feature names are required.",
        )
    fields: dict[str, Any] = {
        _field_name(n): (
            float,
            Field(
                alias=n,
                strict=True,  # `true` is not a number
                allow_inf_nan=False,
                ge=-MAGNITUDE_LIMIT,
                le=MAGNITUDE_LIMIT,
            ),
        )
        for n in names
    }
    return create_model(
        "FeatureVector",
        __config__=ConfigDict(extra="forbid", populate_by_name=False),
        __doc__="One trip's feature values, by the served model's feature names.",
        **fields,
    )
