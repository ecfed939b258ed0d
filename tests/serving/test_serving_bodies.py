"""Feature bodies read without pydantic objects on the common path: the same answers, and 422
errors that name what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import FEATURES, Registry

URL = "/predict/features/batch"


@pytest.fixture
def client(registry: Registry, make_app: Any) -> Any:
    registry.set_alias("staging", registry.versions[0])
    with TestClient(make_app("staging")) as c:
        yield c


def _post_to(client: TestClient, url: str, content: str) -> Any:
    return client.post(url, content=content, headers={"content-type": "application/json"})


def _post(client: TestClient, content: str) -> Any:
    return _post_to(client, URL, content)


def _locs(answer: Any) -> list[list[Any]]:
    assert answer.status_code == 422, answer.text
    return [e["loc"] for e in answer.json()["detail"]]


def test_compact_and_row_forms_give_the_same_probabilities(client: TestClient) -> None:
    data = [[0.1 * (i + j) for j in range(len(FEATURES))] for i in range(50)]
    rows = [dict(zip(FEATURES, values, strict=True)) for values in data]
    by_rows = client.post(URL, json={"rows": rows}).json()
    compact = client.post(URL, json={"columns": FEATURES, "data": data}).json()
    assert compact["probabilities"] == [p["probability"] for p in by_rows["predictions"]]
    # Integers are numbers too.
    whole = client.post(URL, json={"columns": FEATURES, "data": [[1] * len(FEATURES)]})
    assert whole.status_code == 200, whole.text


def test_a_value_that_is_no_number_is_named_by_row_and_column(client: TestClient) -> None:
    data: list[list[Any]] = [[0.5] * len(FEATURES) for _ in range(3)]
    data[2][1] = "fast"
    answer = client.post(URL, json={"columns": FEATURES, "data": data})
    assert _locs(answer) == [["body", "data", 2, FEATURES[1]]]
    assert "got `str`" in answer.json()["message"]
    data[2][1] = None
    assert _locs(client.post(URL, json={"columns": FEATURES, "data": data})) == [
        ["body", "data", 2, FEATURES[1]]
    ]


def test_values_out_of_range_are_named(client: TestClient) -> None:
    row = ", ".join(["0.5"] * (len(FEATURES) - 1))
    body = f'{{"columns": {FEATURES!r}, "data": [[{row}, 0.5], [{row}, 1e999]]}}'
    answer = _post(client, body.replace("'", '"'))
    assert _locs(answer) == [["body", "data", 1, FEATURES[-1]]]
    assert "out of range" in answer.json()["message"]


def test_malformed_bodies_answer_422(client: TestClient) -> None:
    assert _locs(_post(client, '{"columns": ["a"], "data": [[1.0]')) == [["body"]]
    assert _post(client, "").status_code == 422
    unknown = client.post(URL, json={"columns": FEATURES, "data": [[0.5] * 5], "colour": 1})
    assert unknown.status_code == 422 and "colour" in unknown.json()["message"]
    alone = client.post(URL, json={"columns": FEATURES})
    assert alone.status_code == 422 and "go together" in alone.json()["message"]
    empty = client.post(URL, json={"columns": FEATURES, "data": []})
    assert _locs(empty) == [["body", "data"]]
    too_many = client.post(URL, json={"columns": FEATURES, "data": [[0.5] * 5] * 10_001})
    assert _locs(too_many) == [["body", "data"]]
    twice = client.post(URL, json={"columns": [*FEATURES, FEATURES[0]], "data": [[0.5] * 6]})
    assert _locs(twice) == [["body", "columns"]]
    flat = client.post(URL, json={"columns": FEATURES, "data": [0.5] * 5})
    assert _locs(flat) == [["body", "data", 0]]


def test_a_single_vector_in_any_key_order_gives_one_answer(client: TestClient) -> None:
    vector = {name: 0.1 * i for i, name in enumerate(FEATURES)}
    first = client.post("/predict/features", json=vector).json()["probability"]
    backwards = dict(reversed(list(vector.items())))
    assert client.post("/predict/features", json=backwards).json()["probability"] == first
    whole = client.post("/predict/features", json=dict.fromkeys(FEATURES, 1))
    assert whole.status_code == 200, whole.text
    text = ", ".join(f'"{name}": 0.5' for name in FEATURES[:-1])
    huge = _post_to(client, "/predict/features", f'{{{text}, "{FEATURES[-1]}": 1e999}}')
    assert _locs(huge) == [["body", FEATURES[-1]]]
    assert _locs(_post_to(client, "/predict/features", "[1, 2]")) == [["body"]]


def test_openapi_still_documents_the_bodies(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    def body(path: str) -> dict[str, Any]:
        operation = spec["paths"][path]["post"]
        schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
        return schema

    vector = body("/predict/features")
    assert sorted(vector["properties"]) == sorted(FEATURES)
    assert sorted(vector["required"]) == sorted(FEATURES)
    batch = body(URL)
    assert {"rows", "columns", "data"} <= set(batch["properties"])
    assert "$ref" not in str(batch)
    rows = batch["properties"]["rows"]["anyOf"][0]["items"]
    assert sorted(rows["properties"]) == sorted(FEATURES)
