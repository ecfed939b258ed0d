"""The training pipeline's model as plain numpy: same probabilities, without pandas per request.

The registered model is a scikit-learn ``Pipeline``: ``model_input`` (a ``FunctionTransformer``),
a ``ColumnTransformer`` of imputers, scalers and one-hot encoders, then the classifier. Called on
one row, it builds DataFrames at every step and spends milliseconds on what is a few array
operations. ``compile_pipeline`` reads the fitted parameters once and applies them to a row
array in the served feature order; it refuses (returns None) any step it does not reproduce
exactly, and the caller then uses the pipeline itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from truckflow.features.definition import BINARY_FEATURES, CATEGORICAL_FEATURES, NUMERIC_FEATURES
from truckflow.training.booster import dense_predictor

__all__ = ["CompiledPipeline", "compile_pipeline"]

Step = Callable[[np.ndarray], np.ndarray]
Reader = Callable[[np.ndarray], np.ndarray]


# Up to this many values a block is converted value by value in Python (one request's row):
# cheaper than pandas' vectorised missing-value test, which costs tens of microseconds a call.
_SMALL = 64
_NUMBER_TYPES = (float, int)


def _floats(block: np.ndarray) -> np.ndarray:
    """``pd.to_numeric(errors="coerce")`` per column, fast when the values are already numbers."""
    try:
        return block.astype(np.float64)
    except (TypeError, ValueError):  # blanks (None) or text somewhere
        pass
    if block.size <= _SMALL:
        values = block.tolist()
        if all(v is None or type(v) in _NUMBER_TYPES for row in values for v in row):
            # Numbers and blanks only: None becomes NaN, as the coercion below makes it.
            return np.array(values, dtype=np.float64).reshape(block.shape)
    values = block.copy()
    values[pd.isna(values)] = np.nan
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError):  # text: pandas' own coercion, column by column
        out = np.empty(values.shape, dtype=np.float64)
        for j in range(values.shape[1]):
            out[:, j] = pd.to_numeric(pd.Series(values[:, j]), errors="coerce").to_numpy(np.float64)
        return out


def _flags(block: np.ndarray) -> np.ndarray:
    values = _floats(block)
    return np.where(np.isnan(values), 0.0, values)


def _texts(block: np.ndarray) -> np.ndarray:
    words = block.astype(object)  # a copy
    if block.size <= _SMALL and all(type(v) is str for v in words.flat):
        return words  # text only: nothing is missing
    missing = pd.isna(words)
    if missing.any():
        words[missing] = np.nan
    return words


def _reader(names: Sequence[str], positions: dict[str, int]) -> Reader | None:
    """``training.data.model_input`` for one block of columns of one kind, from the rows."""
    index = [positions[n] for n in names]
    for kind, convert in (
        (NUMERIC_FEATURES, _floats),
        (BINARY_FEATURES, _flags),
        (CATEGORICAL_FEATURES, _texts),
    ):
        if all(n in kind for n in names):
            return lambda rows: convert(rows[:, index])
    return None  # a block mixing kinds: not what the training pipeline builds


def _imputer(step: Any) -> Step | None:
    if step.add_indicator or not _is_nan(step.missing_values):
        return None
    stats = np.asarray(step.statistics_)
    if stats.dtype != object and np.isnan(stats).any():
        return None  # all-blank training column: scikit-learn drops it from the output

    def impute(x: np.ndarray) -> np.ndarray:
        # Objects: model_input has turned every blank into NaN, and NaN != NaN marks it.
        missing = np.isnan(x) if x.dtype != object else x != x
        if not missing.any():
            return x
        out = x.copy()
        out[missing] = np.broadcast_to(stats, x.shape)[missing]
        return out

    return impute


def _scaler(step: Any) -> Step:
    mean = step.mean_ if step.with_mean else None
    scale = step.scale_ if step.with_std else None

    def standardise(x: np.ndarray) -> np.ndarray:
        out = np.array(x, dtype=np.float64)  # a copy, as scikit-learn's transform makes
        if mean is not None:
            out -= mean
        if scale is not None:
            out /= scale
        return out

    return standardise


def _one_hot(step: Any) -> Step | None:
    infrequent = getattr(step, "infrequent_categories_", None)
    if (
        step.drop is not None
        or step.handle_unknown != "ignore"
        or getattr(step, "sparse_output", False)
        or (infrequent is not None and any(i is not None for i in infrequent))
    ):
        return None
    # Every row's category by a dict lookup driven from C (``map``): equal values match, -1 for
    # a category never seen. About three times faster than pandas' hash table on a
    # 10,000-row column, whose target Index is built (and its type inferred) per call.
    lookups = [{value: i for i, value in enumerate(cats.tolist())} for cats in step.categories_]
    widths = [len(cats) for cats in step.categories_]
    offsets = np.concatenate(([0], np.cumsum(widths)))
    dtype = step.dtype

    def encode(x: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        out = np.zeros((n, int(offsets[-1])), dtype=dtype)
        for j, lookup in enumerate(lookups):
            if n == 1:
                hit = lookup.get(x[0, j])
                if hit is not None:  # unknown categories stay all zero (handle_unknown="ignore")
                    out[0, offsets[j] + hit] = 1
                continue
            # ``map`` calls the dict's ``get`` from C: no Python frame per row.
            column = x[:, j].tolist()
            hits = np.fromiter(map(lookup.get, column, repeat(-1, n)), dtype=np.intp, count=n)
            rows = np.flatnonzero(hits >= 0)  # unknown categories stay all zero, as above
            out[rows, offsets[j] + hits[rows]] = 1
        return out

    return encode


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and value != value


def _chain(transformer: Any) -> list[Step] | None:
    """A transformer (or a Pipeline of them) as a list of array steps; None if not reproducible."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    if isinstance(transformer, str):
        return [] if transformer == "passthrough" else None
    if type(transformer) is FunctionTransformer and transformer.func is None:
        return []  # what a fitted ColumnTransformer keeps for "passthrough"
    parts = (
        [s for _, s in transformer.steps] if isinstance(transformer, Pipeline) else [transformer]
    )
    steps: list[Step] = []
    for part in parts:
        step: Step | None
        if type(part) is SimpleImputer:
            step = _imputer(part)
        elif type(part) is StandardScaler:
            step = _scaler(part)
        elif type(part) is OneHotEncoder:
            step = _one_hot(part)
        else:
            step = None
        if step is None:
            return None
        steps.append(step)
    return steps


def _column_blocks(ct: Any) -> list[tuple[list[str], list[Step]]] | None:
    blocks: list[tuple[list[str], list[Step]]] = []
    for _, transformer, columns in ct.transformers_:
        if transformer == "drop":
            continue
        if not (isinstance(columns, list) and all(isinstance(c, str) for c in columns)):
            return None
        if not columns:
            continue
        chain = _chain(transformer)
        if chain is None:
            return None
        blocks.append((list(columns), chain))
    return blocks


def _probabilities(estimator: Any) -> tuple[Step, bool]:
    """P(delay) from the classifier (an XGBoost booster directly), and whether it is one."""
    if hasattr(estimator, "get_booster"):
        booster = estimator.get_booster()
        objective = str(estimator.get_params().get("objective") or "binary:logistic")
        if objective == "binary:logistic" and booster.attr("best_iteration") is None:
            # One thread per prediction: see MlflowLoadedModel.
            booster.set_param({"nthread": 1})
            direct = dense_predictor(booster, booster.num_features())
            if direct is not None:
                return direct, True

            def boosted(x: np.ndarray) -> np.ndarray:
                return np.asarray(booster.inplace_predict(x), dtype=np.float64)

            return boosted, True

    def sklearn(x: np.ndarray) -> np.ndarray:
        proba = np.asarray(estimator.predict_proba(x), dtype=np.float64)
        return proba[:, 1] if proba.ndim == 2 else proba

    return sklearn, False


@dataclass(frozen=True)
class CompiledPipeline:
    """``pipeline.predict_proba(frame)[:, 1]`` as array operations, for rows in served order."""

    blocks: list[tuple[Reader, list[Step]]]
    predict: Step
    boosted: bool  # the classifier is an XGBoost booster, called directly
    final: Any = None  # the fitted classifier (for its contributions)
    preprocess: Any = None  # the fitted ColumnTransformer (for its output layout)

    def encode(self, rows: np.ndarray) -> np.ndarray:
        """The rows as the classifier sees them (imputed, scaled, one-hot encoded)."""
        parts = []
        for read, steps in self.blocks:
            block = read(rows)
            for step in steps:
                block = step(block)
            parts.append(block.astype(np.float64, copy=False))
        return np.hstack(parts)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        return self.predict(self.encode(rows))


def compile_pipeline(estimator: Any, feature_names: Sequence[str]) -> CompiledPipeline | None:
    """The fitted training pipeline as a ``CompiledPipeline``, or None for any other shape."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    from truckflow.training.data import model_input

    if type(estimator) is not Pipeline or len(estimator.steps) != 3:
        return None
    (_, first), (_, ct), (_, final) = estimator.steps
    if not (
        type(first) is FunctionTransformer
        and first.func is model_input
        and not first.kw_args
        and type(ct) is ColumnTransformer
    ):
        return None
    positions = {name: i for i, name in enumerate(feature_names)}
    # model_input reads every feature column, used or not; without one the pipeline fails too.
    if any(
        name not in positions
        for name in (*NUMERIC_FEATURES, *BINARY_FEATURES, *CATEGORICAL_FEATURES)
    ):
        return None
    blocks = _column_blocks(ct)
    if blocks is None or not blocks:
        return None
    readers = [_reader(names, positions) for names, _ in blocks]
    if any(read is None for read in readers):
        return None
    compiled = [(read, steps) for read, (_, steps) in zip(readers, blocks, strict=True) if read]
    return CompiledPipeline(compiled, *_probabilities(final), final=final, preprocess=ct)
