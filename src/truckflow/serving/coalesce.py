"""Single-row predictions that are ready in the same turn of the event loop share one call.

A one-row XGBoost prediction is almost all fixed cost: about 65 microseconds per call, under
one more per row. Under concurrent load several requests reach the model in the same turn of
the event loop; each adds its row and waits, and the first schedules one flush with
``loop.call_soon``, which runs right after the requests already ready have had their turn: no
request waits for a timer, and a lone request is predicted on the next turn. Rows are grouped
by the served model object, so a request is always answered by the version it started with.

Rows that ask for reasons are explained off the event loop, in one thread of their own:
XGBoost's exact contributions (its C++ TreeSHAP, a few hundred microseconds a row) run without
the GIL, so the loop keeps answering other requests meanwhile, on another core; rows asking for
reasons while one call is running wait for it and then go together in the next call.

Only models whose rows are predicted independently, bit for bit (tree ensembles, and the
training pipeline replayed over a booster) are coalesced: a row's answer never depends on
which other requests came at the same time.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from truckflow.serving.holder import ServedModel

__all__ = ["RowCoalescer"]

# The served model, the row, how many reasons (0: none) and the request's future.
_Waiting = tuple[ServedModel, np.ndarray, int, "asyncio.Future[Any]"]


class RowCoalescer:
    def __init__(self) -> None:
        self._waiting: list[_Waiting] = []
        self._held: list[_Waiting] = []  # rows asking for reasons while a call runs
        self._explaining = False
        self._pool: ThreadPoolExecutor | None = None
        self.calls = 0  # model calls made (tests and operators can see the sharing)

    def company(self) -> bool:
        """Whether waiting could pay: rows are already waiting, or other work (the requests
        that arrived with this one) is ready to run in this turn of the loop.

        A lone request (concurrency 1) is then predicted at once, without the extra turn.
        The ready queue is asyncio's own (``_ready``); a loop without one always coalesces.
        """
        if self._waiting or self._explaining:
            return True
        ready = getattr(asyncio.get_running_loop(), "_ready", None)
        return ready is None or len(ready) > 0

    def predict(self, served: ServedModel, row: np.ndarray) -> asyncio.Future[float]:
        """P(delay) of one row (shape (1, n)), predicted with the rows ready beside it."""
        return self._enqueue(served, row, 0)

    def predict_explained(
        self, served: ServedModel, row: np.ndarray, k: int
    ) -> asyncio.Future[tuple[float, list[dict[str, Any]]]]:
        """P(delay) of one row and its top ``k`` reasons (k >= 1), computed with the rows that
        ask for reasons beside it: XGBoost's contributions cost a fixed part per call too."""
        return self._enqueue(served, row, max(k, 1))

    def _enqueue(self, served: ServedModel, row: np.ndarray, k: int) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._flush)
        self._waiting.append((served, row, k, future))
        return future

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        groups: dict[int, list[_Waiting]] = {}
        for item in waiting:
            if item[2] > 0:
                self._held.append(item)
            else:
                groups.setdefault(id(item[0]), []).append(item)
        for items in groups.values():
            self.calls += 1
            try:
                answers = _answers(items, False)
            except Exception as exc:  # each request answers it as it would alone
                _settle(items, exc)
                continue
            _settle(items, answers)
        if self._held and not self._explaining:
            self._explain()

    def _explain(self) -> None:
        """Start one call in the reasons thread for the rows held (of the first model among
        them; those of another version go in the next call)."""
        first = id(self._held[0][0])
        items = [item for item in self._held if id(item[0]) == first]
        self._held = [item for item in self._held if id(item[0]) != first]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="truckflow-reasons")
        self._explaining = True
        self.calls += 1
        job = asyncio.get_running_loop().run_in_executor(self._pool, _answers, items, True)
        job.add_done_callback(lambda done: self._explained(items, done))

    def _explained(self, items: list[_Waiting], done: asyncio.Future[list[Any]]) -> None:
        self._explaining = False
        exc = asyncio.CancelledError() if done.cancelled() else done.exception()
        _settle(items, exc if exc is not None else done.result())
        if self._held:
            self._explain()


def _settle(items: list[_Waiting], answers: list[Any] | BaseException) -> None:
    """Each request's answer, or the error that each answers as it would alone."""
    for i, (*_, future) in enumerate(items):
        if future.done():  # a client that went away leaves a cancelled future
            continue
        if isinstance(answers, BaseException):
            future.set_exception(answers)
        else:
            future.set_result(answers[i])


def _answers(items: list[_Waiting], explained: bool) -> list[Any]:
    """One model call for the group: probabilities, with each request's own reasons (the top
    of the largest k asked for: the first k of a list sorted by size are the top k)."""
    served = items[0][0]
    rows = np.vstack([item[1] for item in items])
    if not explained:
        return served.predict(rows).tolist()  # type: ignore[no-any-return]
    proba, reasons = served.predict_explained(rows, max(item[2] for item in items))
    return [
        (p, why[: item[2]]) for item, p, why in zip(items, proba.tolist(), reasons, strict=True)
    ]
