"""The serving API's fast paths: requests answered before FastAPI's routing and validation,
with the same contract checks, answers and errors as the routes they stand in front of."""

from __future__ import annotations

from truckflow.serving.fast.features import FeaturesFastPath

__all__ = ["FeaturesFastPath"]
