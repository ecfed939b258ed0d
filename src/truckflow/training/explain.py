"""Why a model says what it says: each feature's contribution to one prediction.

Per family, on the columns the classifier sees (after imputing, scaling and one-hot encoding):
- XGBoost and LightGBM: the exact tree contributions (SHAP values, ``pred_contribs`` /
  ``pred_contrib``) in log-odds;
- logistic regression: coefficient times the standardised value, in log-odds;
- random forest: path contributions: along each tree's decision path, the change of the node's
  share of delayed trips is credited to the feature split on; averaged over the trees this sums
  exactly to the forest's probability minus the share at the roots (treeinterpreter's method).
Contributions of a categorical's one-hot columns are summed back to the categorical. Log-odds
contributions are reported in probability points: scaled so that they add up to the probability
minus the probability of the bias alone (the model's output with no feature information).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "by_feature",
    "contributions",
    "encoded_owners",
    "explain_frame",
    "probability_points",
    "reason_text",
    "top_reasons",
]


def encoded_owners(preprocess: Any, names: Sequence[str]) -> np.ndarray | None:
    """For each column a fitted ``ColumnTransformer`` outputs, the input feature it comes from
    (as a position in ``names``); None for a layout this does not know."""
    position = {n: i for i, n in enumerate(names)}
    owners: list[int] = []
    for _, transformer, columns in preprocess.transformers_:
        if transformer == "drop" or not len(columns):
            continue
        last = transformer.steps[-1][1] if hasattr(transformer, "steps") else transformer
        widths = [len(c) for c in getattr(last, "categories_", [])] or [1] * len(columns)
        if len(widths) != len(columns) or any(c not in position for c in columns):
            return None
        for column, width in zip(columns, widths, strict=True):
            owners.extend([position[column]] * width)
    return np.asarray(owners, dtype=np.intp)


def _forest_paths(forest: Any, n_encoded: int) -> Any:
    """One sparse matrix (all trees' nodes x encoded columns): each node's change of the
    delayed share against its parent, on the parent's split feature, divided by the tree count."""
    from scipy import sparse

    blocks = []
    for tree in forest.estimators_:
        t = tree.tree_
        values = t.value[:, 0, :]
        share = values[:, 1] / np.maximum(values.sum(axis=1), 1e-300)
        parent = np.full(t.node_count, -1)
        for side in (t.children_left, t.children_right):
            inner = side >= 0
            parent[side[inner]] = np.nonzero(inner)[0]
        child = np.nonzero(parent >= 0)[0]
        delta = (share[child] - share[parent[child]]) / len(forest.estimators_)
        blocks.append(
            sparse.csr_matrix(
                (delta, (child, t.feature[parent[child]])), shape=(t.node_count, n_encoded)
            )
        )
    roots = np.mean(
        [tree.tree_.value[0, 0, 1] / tree.tree_.value[0, 0].sum() for tree in forest.estimators_]
    )
    return sparse.vstack(blocks).tocsr(), float(roots)


def _logit(estimator: Any, encoded: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Log-odds contributions and bias, for the families that have them."""
    if hasattr(estimator, "get_booster"):
        import xgboost as xgb

        booster = estimator.get_booster()
        dm = xgb.DMatrix(encoded)
        out = booster.predict(dm, pred_contribs=True, validate_features=False)
        return out[:, :-1], out[:, -1]
    if hasattr(estimator, "booster_"):  # LightGBM
        out = np.asarray(estimator.predict(encoded, pred_contrib=True), dtype=np.float64)
        return out[:, :-1], out[:, -1]
    if hasattr(estimator, "coef_") and np.ndim(estimator.coef_) == 2:
        coef = np.asarray(estimator.coef_, dtype=np.float64)[0]
        bias = np.full(len(encoded), float(np.ravel(estimator.intercept_)[0]))
        return encoded * coef, bias
    return None


def probability_points(phi: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Log-odds contributions (n x columns) and bias (n) in probability points: scaled so that
    each row's add up to its probability minus the probability of the bias alone. Computed in
    the dtype given (XGBoost's float32), so the served and the batch reasons agree bit for bit."""
    total = phi.sum(axis=1)
    p = 1.0 / (1.0 + np.exp(-(bias + total)))
    p0 = 1.0 / (1.0 + np.exp(-bias))
    small = np.abs(total) < 1e-12
    factor = np.where(small, p * (1 - p), (p - p0) / np.where(small, 1.0, total))
    return np.asarray(phi * factor[:, None], dtype=np.float64)


def contributions(estimator: Any, encoded: np.ndarray) -> np.ndarray | None:
    """Each encoded column's contribution to P(delay), in probability points (n x columns);
    None for a classifier this does not explain."""
    encoded = np.asarray(encoded, dtype=np.float64)
    logit = _logit(estimator, encoded)
    if logit is not None:
        return probability_points(*logit)
    if hasattr(estimator, "estimators_") and hasattr(estimator, "decision_path"):
        cache = estimator.__dict__.get("_truckflow_paths")
        if cache is None or cache[0].shape[1] != encoded.shape[1]:
            cache = _forest_paths(estimator, encoded.shape[1])
            estimator.__dict__["_truckflow_paths"] = cache
        indicator, _ = estimator.decision_path(encoded)
        return np.asarray((indicator @ cache[0]).toarray(), dtype=np.float64)
    return None


def by_feature(encoded_contrib: np.ndarray, owners: np.ndarray, n_features: int) -> np.ndarray:
    """Encoded columns' contributions summed back to the input features."""
    out = np.zeros((encoded_contrib.shape[0], n_features), dtype=np.float64)
    np.add.at(out.T, owners, encoded_contrib.T)
    return out


def _shown(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "missing"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def reason_text(name: str, value: object, contribution: float, unit: str | None = None) -> str:
    shown = _shown(value)
    if unit and shown != "missing":
        shown = f"{shown} {unit}"
    verb = "raises" if contribution >= 0 else "lowers"
    return f"{name} = {shown} {verb} the risk by {abs(contribution):.2f}"


def top_reasons(
    names: Sequence[str],
    values: Sequence[object],
    contrib: np.ndarray,
    k: int,
    units: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The ``k`` largest contributions of one row (by size), in the user's terms."""
    order = np.argsort(-np.abs(contrib), kind="stable")[:k]
    out = []
    for j in order.tolist():
        value = values[j]
        if isinstance(value, np.generic):
            value = value.item()
        c = float(contrib[j])
        out.append(
            {
                "feature": names[j],
                "value": None if isinstance(value, float) and value != value else value,
                "contribution": round(c, 6),
                "text": reason_text(names[j], value, c, (units or {}).get(names[j])),
            }
        )
    return out


def explain_frame(model: Any, frame: Any, k: int = 3) -> list[list[dict[str, Any]]] | None:
    """The top ``k`` reasons of each row of a feature frame, for the training pipeline's model
    (input step, preprocessing, classifier); None for a model of another shape."""
    from truckflow.features.definition import FEATURE_COLUMNS
    from truckflow.training.contract import UNITS
    from truckflow.training.data import model_input

    steps = getattr(model, "steps", None)
    if steps is None or len(steps) != 3 or len(frame) == 0:
        return None if steps is None or len(steps) != 3 else []
    names = list(FEATURE_COLUMNS)
    owners = encoded_owners(steps[1][1], names)
    if owners is None:
        return None
    inputs = model_input(frame)
    encoded = np.asarray(steps[1][1].transform(inputs), dtype=np.float64)
    contrib = contributions(steps[2][1], encoded)
    if contrib is None:
        return None
    per_feature = by_feature(contrib, owners, len(names))
    values = inputs[names].to_numpy(dtype=object)
    return [top_reasons(names, values[i], per_feature[i], k, UNITS) for i in range(len(frame))]
