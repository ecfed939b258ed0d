"""The feature contract recorded with a model, and a request outside it refused by field."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from truckflow.features.definition import BINARY_FEATURES, CATEGORICAL_FEATURES, FEATURE_COLUMNS
from truckflow.registry.contract import MAGNITUDE_LIMIT, FeatureContract
from truckflow.serving.contract_body import ContractVectors
from truckflow.serving.errors import InvalidFeaturesError
from truckflow.training.contract import UNITS, attach_contract, build_contract
from truckflow.training.data import Split
from truckflow.training.tuning import fit_candidate


@pytest.fixture
def fitted(course_split: Split) -> tuple[Any, FeatureContract]:
    model = fit_candidate("logistic_regression", {"C": 1.0}, course_split.train, seed=0)
    return model, build_contract(course_split.train, model)


def test_the_contract_names_the_feature_columns_in_order_with_their_kinds(
    fitted: tuple[Any, FeatureContract],
) -> None:
    _, contract = fitted
    assert contract.names == tuple(FEATURE_COLUMNS)  # no ids, no label
    for spec in contract.features:
        expected = (
            "categorical"
            if spec.name in CATEGORICAL_FEATURES
            else "binary"
            if spec.name in BINARY_FEATURES
            else "numeric"
        )
        assert spec.kind == expected, spec.name
        assert spec.unit == UNITS.get(spec.name)
    assert contract.spec("distance").unit == "miles"


def test_the_contract_records_the_training_ranges_and_categories(
    fitted: tuple[Any, FeatureContract], course_split: Split
) -> None:
    model, contract = fitted
    train = course_split.train
    load = contract.spec("load_capacity_pounds")
    assert (load.minimum, load.maximum) == (3000.0, train["load_capacity_pounds"].max())
    temp = contract.spec("route_avg_temp")
    assert (temp.minimum, temp.maximum) == (
        train["route_avg_temp"].min(),
        train["route_avg_temp"].max(),
    )
    assert (contract.spec("accident").minimum, contract.spec("accident").maximum) == (0.0, 1.0)
    encoder = model.named_steps["preprocess"].named_transformers_["categorical"]
    learnt = encoder.named_steps["onehot"].categories_
    for name, categories in zip(CATEGORICAL_FEATURES, learnt, strict=True):
        assert contract.spec(name).categories == tuple(categories), name
    # Only the training part counts: a later trip's category is not in the contract.
    assert "Freezing drizzle" in set(course_split.test["route_description"])
    assert "Freezing drizzle" not in contract.spec("route_description").categories


def test_the_contract_travels_inside_the_model(fitted: tuple[Any, FeatureContract]) -> None:
    model, contract = fitted
    attach_contract(model, contract)
    assert FeatureContract.of_model(model) == contract
    assert FeatureContract.from_dict(json.loads(contract.to_json())) == contract


def _body(row: pd.Series, **changes: object) -> bytes:
    values: dict[str, object] = {}
    for name in FEATURE_COLUMNS:
        value = row[name]
        values[name] = None if pd.isna(value) else value
    values.update(changes)
    return json.dumps(values, default=lambda v: v.item()).encode()


def _refused(vectors: ContractVectors, body: bytes) -> list[str]:
    with pytest.raises(InvalidFeaturesError) as caught:
        vectors.read_one(body, vectors.names)
    return [str(e["loc"][-1]) for e in caught.value.errors]


def test_a_value_the_model_cannot_take_is_refused_naming_the_field(
    fitted: tuple[Any, FeatureContract], course_split: Split
) -> None:
    model, contract = fitted
    vectors = ContractVectors(contract)
    row = course_split.test.iloc[0]
    # What the contract admits reaches the model and is scored, an unseen category included.
    accepted = vectors.read_one(_body(row, route_description="Volcanic ash"), vectors.names)
    frame = pd.DataFrame(accepted, columns=list(vectors.names))
    assert 0.0 <= model.predict_proba(frame)[0, 1] <= 1.0
    assert _refused(vectors, _body(row, distance=MAGNITUDE_LIMIT * 10)) == ["distance"]
    assert _refused(vectors, _body(row, accident=2)) == ["accident"]
    assert _refused(vectors, _body(row, ratings="high")) == ["ratings"]
    assert _refused(vectors, _body(row, fuel_type=3)) == ["fuel_type"]
    assert _refused(vectors, _body(row, truck_id=1)) == ["truck_id"]  # ids are not features
    bad = _body(row, age=-np.inf, gender=7)
    assert sorted(_refused(vectors, bad.replace(b"-Infinity", b"-1e400"))) == ["age", "gender"]
