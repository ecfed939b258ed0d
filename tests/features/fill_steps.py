"""A pipeline whose one step fills features with its runner's partitions (Dask workers import
it by name). The runner's resources are the database: on Dask it pickles as its URL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from truckflow.features.fill import fill_features
from truckflow.pipeline import Parameter, Pipeline, StepContext, step


@step
def fill(start: str, end: str, deadline: str, context: StepContext) -> dict[str, Any]:
    result = fill_features(
        context.resources,
        dt.datetime.fromisoformat(start),
        dt.datetime.fromisoformat(end),
        deadline=dt.datetime.fromisoformat(deadline),
        route_blocks=2,
        partitions=context.partitions,
    )
    return {**result.to_dict(), "width": context.partitions.width}


def fill_pipeline() -> Pipeline:
    names = ("start", "end", "deadline")
    params = {n: Parameter(n, "string") for n in names}
    return Pipeline("fill", parameters=list(params.values()), steps=[fill.as_step(**params)])
