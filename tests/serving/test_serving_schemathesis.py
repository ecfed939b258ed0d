"""Property-based requests from the app's own OpenAPI document: none may end in a 5xx.

Each operation gets a bounded number of generated cases (schemathesis + hypothesis), sent through
the ASGI app with its lifespan running.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from conftest import Registry

EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def api_schema(registry: Registry, make_app: Any) -> Iterator[Any]:
    registry.set_alias("staging", registry.versions[0])
    app = make_app("staging")
    with TestClient(app):  # runs the lifespan: capture writer started, flushed at the end
        yield schemathesis.openapi.from_asgi("/openapi.json", app), app


def test_no_generated_request_gets_a_server_error(api_schema: Any) -> None:
    schema, app = api_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    assert {"POST /predict", "POST /predict/features", "POST /feedback"} <= labels
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        check()

    # The run really reached every route: the app's own request counter says so.
    served = {
        sample.labels["route"]
        for family in app.state.metrics.registry.collect()
        for sample in family.samples
        if sample.name == "truckflow_requests_total" and sample.value > 0
    }
    assert {op.path for op in operations} <= served
