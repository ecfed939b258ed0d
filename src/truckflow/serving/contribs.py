"""XGBoost's exact tree contributions (TreeSHAP, ``pred_contribs``) without the Python wrapper.

For one row, ``Booster.predict(DMatrix(rows), pred_contribs=True)`` spends about as long in
Python (the DMatrix's type dispatch, feature names, JSON arguments, wrapping the result) as
XGBoost's C++ TreeSHAP takes. The arguments never change for a served model, so they are
encoded once; each call builds the array interface, a DMatrix handle through XGBoost's C entry
point, the contributions, and frees the handle. ``dense_contributions`` checks on probe rows
that the answers are bit for bit those of ``Booster.predict``, and returns None (the caller
keeps the public path) on any difference or error.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["dense_contributions"]

Contribs = Callable[[np.ndarray], np.ndarray]


def _direct(booster: Any) -> Contribs:
    from xgboost import core

    lib, handle, ulong = core._LIB, booster.handle, ctypes.c_uint64  # xgboost c_bst_ulong
    matrix_args = core.make_jcargs(missing=float("nan"), nthread=1, data_split_mode=0)
    predict_args = core.make_jcargs(
        type=2, training=False, iteration_begin=0, iteration_end=0, strict_shape=False
    )

    def contribs(rows: np.ndarray) -> np.ndarray:
        data = np.ascontiguousarray(rows, dtype=np.float32)  # what DMatrix stores
        n, m = data.shape
        interface = (
            f'{{"data": [{data.ctypes.data}, false], "strides": null, '
            f'"typestr": "<f4", "shape": [{n}, {m}], "version": 3}}'
        ).encode()
        matrix = ctypes.c_void_p()
        core._check_call(lib.XGDMatrixCreateFromDense(interface, matrix_args, ctypes.byref(matrix)))
        try:
            shape = ctypes.POINTER(ulong)()
            dims = ulong()
            out = ctypes.POINTER(ctypes.c_float)()
            core._check_call(
                lib.XGBoosterPredictFromDMatrix(
                    handle,
                    matrix,
                    predict_args,
                    ctypes.byref(shape),
                    ctypes.byref(dims),
                    ctypes.byref(out),
                )
            )
            size = n * (m + 1)
            if dims.value != 2 or shape[0] != n or shape[1] != m + 1:
                raise ValueError("unexpected shape of XGBoost's contributions")
            # XGBoost owns the buffer (per thread, reused): copied out at once.
            return np.ctypeslib.as_array(out, shape=(size,)).reshape(n, m + 1).copy()
        finally:
            core._check_call(lib.XGDMatrixFree(matrix))

    return contribs


def dense_contributions(booster: Any, n_features: int) -> Contribs | None:
    """Contributions (n x (features + 1), the bias last, in log-odds, float32) straight from
    the booster; None when they differ from ``Booster.predict(..., pred_contribs=True)``."""
    import xgboost as xgb

    try:
        contribs = _direct(booster)
        rng = np.random.default_rng(1)
        probe = rng.normal(size=(32, n_features))
        probe[::4, :: max(n_features // 5, 1)] = np.nan
        for rows in (probe, probe[:1], probe[5:12]):
            expected = booster.predict(
                xgb.DMatrix(rows), pred_contribs=True, validate_features=False
            )
            if not np.array_equal(contribs(rows), expected, equal_nan=True):
                return None
    except Exception:  # any change in XGBoost's internals: the public path serves
        return None
    return contribs
