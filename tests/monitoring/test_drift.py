from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from truckflow.monitoring.config import DriftConfig
from truckflow.monitoring.drift import detect_drift, prediction_drift
from truckflow.monitoring.errors import MonitoringError
from truckflow.monitoring.stattests import ColumnKind, StatTest

LETTERS = np.array(["a", "b", "c", "d"], dtype=object)


EVIDENTLY = DriftConfig(profile="evidently")  # the tests of Evidently's rules


def _frame(
    rng: np.random.Generator, n: int, *, shift: float = 0.0, mix: bool = False
) -> pd.DataFrame:
    probs = [0.25, 0.25, 0.25, 0.25] if mix else [0.55, 0.25, 0.15, 0.05]
    return pd.DataFrame(
        {
            "temp": rng.normal(40 + shift * 10, 10, n),
            "description": rng.choice(LETTERS, n, p=probs),
            "accident": rng.binomial(1, 0.05, n),
            "flag": rng.choice(np.array(["yes", "no"], dtype=object), n),
            "age": rng.integers(3, 6, n),  # three distinct values: tested as categories
        }
    )


@pytest.mark.parametrize(
    ("n_ref", "expected"),
    [
        (
            500,
            {
                "temp": StatTest.KS,
                "description": StatTest.CHI_SQUARED,
                "accident": StatTest.Z,
                "flag": StatTest.Z,
                "age": StatTest.CHI_SQUARED,
            },
        ),
        (
            5000,
            {
                "temp": StatTest.WASSERSTEIN,
                "description": StatTest.JENSEN_SHANNON,
                "accident": StatTest.JENSEN_SHANNON,
                "flag": StatTest.JENSEN_SHANNON,
                "age": StatTest.JENSEN_SHANNON,
            },
        ),
    ],
)
def test_test_is_chosen_by_type_and_size(n_ref: int, expected: dict[str, StatTest]) -> None:
    rng = np.random.default_rng(0)
    report = detect_drift(_frame(rng, n_ref), _frame(rng, 400), config=EVIDENTLY)
    assert {c.column: c.test for c in report.columns} == expected
    kinds = {c.column: c.kind for c in report.columns}
    assert kinds["temp"] is ColumnKind.NUMERICAL and kinds["description"] is ColumnKind.CATEGORICAL
    assert kinds["age"] is ColumnKind.NUMERICAL


@pytest.mark.parametrize("n", [500, 5000])
def test_known_shifts_are_flagged(n: int) -> None:
    rng = np.random.default_rng(1)
    report = detect_drift(_frame(rng, n), _frame(rng, n, shift=0.5, mix=True), config=EVIDENTLY)
    assert report.column("temp").drifted
    assert report.column("description").drifted
    assert set(report.drifted_columns) == {"temp", "description"}
    assert report.dataset_drift


def test_identical_distributions_rarely_drift_small_samples() -> None:
    # Hypothesis tests at alpha 0.05: about 5% false alarms per column is the design.
    flagged = 0
    seeds = 40
    for seed in range(seeds):
        rng = np.random.default_rng(100 + seed)
        report = detect_drift(_frame(rng, 600), _frame(rng, 300), config=EVIDENTLY)
        flagged += sum(c.drifted for c in report.columns)
    assert flagged / (seeds * 5) <= 0.10


def test_identical_distributions_never_drift_large_samples() -> None:
    for seed in range(15):
        rng = np.random.default_rng(200 + seed)
        report = detect_drift(_frame(rng, 5000), _frame(rng, 2000), config=EVIDENTLY)
        assert report.drifted_columns == [], seed


@pytest.mark.parametrize(
    "draw",
    [
        lambda rng, n: rng.normal(0, 1, n),
        lambda rng, n: rng.lognormal(7, 1, n),  # heavy right tail, like route distance
        lambda rng, n: rng.integers(2, 10, n).astype(float),  # ratings-like integers
        lambda rng, n: np.where(rng.random(n) < 0.9, 0.0, rng.exponential(0.2, n)),  # precip
    ],
)
def test_binned_wasserstein_agrees_with_exact(draw: object) -> None:
    rng = np.random.default_rng(3)
    for shift in (0.0, 0.05, 0.1, 0.3):
        ref = draw(rng, 4000)  # type: ignore[operator]
        cur = draw(rng, 3000) + shift * np.std(ref)  # type: ignore[operator]
        got = detect_drift(
            pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), config=EVIDENTLY
        ).column("x")
        norm = max(np.std(ref), 0.001)
        exact = stats.wasserstein_distance(ref, cur) / norm
        both = np.concatenate([ref, cur])
        bound = 2 * (both.max() - both.min()) / DriftConfig().histogram_bins / norm
        assert got.test is StatTest.WASSERSTEIN
        assert abs(got.statistic - exact) <= bound
        assert got.drifted == (exact >= 0.1)


@pytest.mark.parametrize(("factor", "drifted"), [(1 + 1e-6, True), (1 - 1e-6, False)])
def test_verdict_near_threshold_is_exact(factor: float, drifted: bool) -> None:
    rng = np.random.default_rng(4)
    ref = rng.normal(0, 1, 3000)
    cur = ref + 0.1 * np.std(ref) * factor  # a pure shift: the normed distance is 0.1 * factor
    exact = stats.wasserstein_distance(ref, cur) / np.std(ref)
    got = detect_drift(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), config=EVIDENTLY).column(
        "x"
    )
    assert got.statistic == pytest.approx(exact, rel=1e-9)
    assert got.drifted is drifted


def test_missing_values_are_left_out() -> None:
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 3000), "c": rng.choice(LETTERS, 3000)})
    cur = ref.copy()
    cur.loc[::3, "x"] = np.nan
    cur.loc[::4, "c"] = None
    cur.loc[1, "x"] = np.inf
    report = detect_drift(ref, cur, config=EVIDENTLY)
    assert report.column("x").current_size == 3000 - 1000 - 1
    assert report.column("c").current_size == 3000 - 750
    assert report.drifted_columns == []
    assert np.isinf(cur.loc[1, "x"])  # the caller's frame is not touched


def test_dataset_drift_share_rule() -> None:
    rng = np.random.default_rng(6)
    ref = pd.DataFrame({f"x{i}": rng.normal(0, 1, 2000) for i in range(10)})
    cur = pd.DataFrame({f"x{i}": rng.normal(0, 1, 2000) for i in range(10)})
    cur["x0"] += 1.0
    report = detect_drift(ref, cur, config=EVIDENTLY)
    assert report.drifted_columns == ["x0"]
    assert report.share_drifted == pytest.approx(0.1)
    assert report.dataset_drift  # the course's 0.1: one column in ten is enough
    assert not detect_drift(
        ref, cur, config=DriftConfig(profile="evidently", drift_share=0.5)
    ).dataset_drift


def test_thresholds_are_configurable() -> None:
    rng = np.random.default_rng(7)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 3000)})
    cur = pd.DataFrame({"x": rng.normal(0.2, 1, 3000)})
    assert detect_drift(ref, cur, config=EVIDENTLY).column("x").drifted
    relaxed = detect_drift(
        ref, cur, config=DriftConfig(profile="evidently", wasserstein_threshold=0.5)
    )
    assert not relaxed.column("x").drifted
    assert relaxed.column("x").threshold == 0.5


def test_declared_categorical_numeric_column() -> None:
    rng = np.random.default_rng(8)
    ref = pd.DataFrame({"route_code": rng.integers(0, 30, 2000)})
    report = detect_drift(ref, ref.copy(), categorical=["route_code"], config=EVIDENTLY)
    assert report.column("route_code").kind is ColumnKind.CATEGORICAL
    assert report.column("route_code").test is StatTest.JENSEN_SHANNON


def test_prediction_drift_on_probabilities_and_classes() -> None:
    rng = np.random.default_rng(9)
    ref = pd.DataFrame({"probability": rng.beta(2, 5, 3000)})
    ref["predicted"] = (ref["probability"] > 0.5).astype(int)
    cur = pd.DataFrame({"probability": rng.beta(5, 2, 1500)})
    cur["predicted"] = (cur["probability"] > 0.5).astype(int)
    report = prediction_drift(ref, cur, config=EVIDENTLY)
    assert report.column("probability").test is StatTest.WASSERSTEIN
    assert report.column("predicted").test is StatTest.JENSEN_SHANNON
    assert report.drifted_columns == ["probability", "predicted"]
    same = prediction_drift(
        ref["probability"], ref["probability"].sample(frac=0.5, random_state=1), config=EVIDENTLY
    )
    assert not same.dataset_drift


def test_bad_input_names_the_column() -> None:
    ref = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "c"]})
    with pytest.raises(MonitoringError, match="no column"):
        detect_drift(ref, ref[["x"]], config=EVIDENTLY)
    empty = ref.assign(x=np.nan)
    with pytest.raises(MonitoringError, match="'x' has no values in the current"):
        detect_drift(ref, empty, config=EVIDENTLY)


def test_threads_give_the_same_result() -> None:
    rng = np.random.default_rng(10)
    ref, cur = _frame(rng, 3000), _frame(rng, 2000, shift=0.3, mix=True)
    assert detect_drift(
        ref, cur, config=DriftConfig(profile="evidently", workers=3)
    ) == detect_drift(ref, cur, config=EVIDENTLY)


def test_rare_value_of_a_discrete_numeric_column_is_counted() -> None:
    rng = np.random.default_rng(12)
    ref = pd.DataFrame({"accident": rng.binomial(1, 0.05, 5000).astype(float)})
    cur = pd.DataFrame({"accident": rng.binomial(1, 0.05, 5000).astype(float)})
    cur.loc[1, "accident"] = 2.0  # one value a strided sample would miss
    column = detect_drift(ref, cur, config=EVIDENTLY).column("accident")
    assert column.test is StatTest.JENSEN_SHANNON
    assert column.n_unique == 3
