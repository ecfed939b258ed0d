"""XGBoost's dense prediction called straight, without ``inplace_predict``'s per-call work.

For one row, ``Booster.inplace_predict`` spends about as long in Python (type dispatch, JSON
for the arguments and the array interface, wrapping the result) as XGBoost spends predicting.
The arguments never change for a served model, so they are encoded once; each call builds only
the array interface. This uses XGBoost's C entry point through the handle and library object
its Python package exposes; ``dense_predictor`` checks on probe rows that the answers are
bit for bit those of ``inplace_predict``, and returns None (the caller keeps
``inplace_predict``) on any difference or error, e.g. after a change in XGBoost's internals.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["dense_predictor"]

Predict = Callable[[np.ndarray], np.ndarray]


def _direct(booster: Any) -> Predict:
    from xgboost import core

    # The same library through ``PyDLL``: the call keeps the GIL. A one-row prediction takes
    # tens of microseconds; released, the GIL went to the capture writer's thread, and taking
    # it back cost the request up to the interpreter's switch interval (5 ms), several times
    # the prediction itself under load.
    lib, handle, ulong = ctypes.PyDLL(core._LIB._name), booster.handle, ctypes.c_uint64
    args = core.make_jcargs(
        type=0,
        training=False,
        iteration_begin=0,
        iteration_end=0,
        missing=float("nan"),
        strict_shape=False,
        cache_id=0,
    )
    no_proxy = ctypes.c_void_p()

    def predict(rows: np.ndarray) -> np.ndarray:
        data = np.ascontiguousarray(rows, dtype=np.float64)
        n, m = data.shape
        interface = (
            f'{{"data": [{data.ctypes.data}, false], "strides": null, '
            f'"typestr": "<f8", "shape": [{n}, {m}], "version": 3}}'
        ).encode()
        shape = ctypes.POINTER(ulong)()
        dims = ulong()
        preds = ctypes.POINTER(ctypes.c_float)()
        core._check_call(
            lib.XGBoosterPredictFromDense(
                handle,
                interface,
                args,
                no_proxy,
                ctypes.byref(shape),
                ctypes.byref(dims),
                ctypes.byref(preds),
            )
        )
        size = 1
        for i in range(dims.value):
            size *= shape[i]
        # The result buffer belongs to XGBoost (per thread) and is reused: copied out at once
        # (element by element for a few rows: cheaper than wrapping the buffer as an array).
        if size <= 8:
            return np.array([preds[i] for i in range(size)], dtype=np.float64)
        return np.ctypeslib.as_array(preds, shape=(size,)).astype(np.float64)

    return predict


def dense_predictor(booster: Any, n_features: int) -> Predict | None:
    """P(delay) straight from the booster, or None when it does not match ``inplace_predict``."""
    try:
        predict = _direct(booster)
        rng = np.random.default_rng(0)
        probe = rng.normal(size=(64, n_features))
        probe[::5, :: max(n_features // 4, 1)] = np.nan
        for rows in (probe, probe[:1], probe[7:20]):
            expected = np.asarray(booster.inplace_predict(rows), dtype=np.float64)
            if not np.array_equal(predict(rows), expected, equal_nan=True):
                return None
    except Exception:  # any change in XGBoost's internals: the public path serves
        return None
    return predict
