"""Running a nested pipeline in a Python process of its own.

A long-lived process that runs the drift flow (the streaming replay on the local runner, a Dask
worker) would otherwise run the retraining's fit inside itself: the fit's frames and matrices
come on top of what the process already holds, and glibc and Arrow keep the freed pages, so the
process's peak grows with the data the retraining reads. A child process gives all of it back
to the system when it exits.

The child is a plain ``subprocess`` (a Dask worker is a daemonic process, which may not start
``multiprocessing`` children). It gets the ``Runtime`` pickled on its stdin (its settings: it
reopens the database, already migrated), writes the execution id to a file, and leaves its
records in the database, where the caller reads the result. Its stdout and stderr are the
caller's, so its logs and a traceback show where the caller's do.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import truckflow
from truckflow.allocator import with_arena_limit
from truckflow.pipeline import ExecutionResult, PipelineError, get_execution
from truckflow.pipelines.runtime import Runtime
from truckflow.store import Database

__all__ = ["can_run_apart", "run_in_own_process"]


def can_run_apart(db: Database) -> bool:
    """Whether another process can reach ``db`` (not an in-memory SQLite database)."""
    url = db.engine.url
    return url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:")


def run_in_own_process(
    rt: Runtime, pipeline: str, parameters: Mapping[str, Any]
) -> ExecutionResult:
    """Run ``pipeline`` on the local runner in a child process, its notifications left in the
    outbox for the caller's run to deliver; the execution as the database recorded it."""
    payload = pickle.dumps((rt, pipeline, dict(parameters)))
    with tempfile.TemporaryDirectory(prefix="truckflow-child-") as scratch:
        result_file = Path(scratch) / "execution_id"
        args = [sys.executable, "-m", __name__, str(result_file), str(os.getpid())]
        child = subprocess.Popen(args, stdin=subprocess.PIPE, env=_child_env())
        try:
            child.communicate(payload)
        finally:
            if child.poll() is None:  # the caller was interrupted: the child goes with it
                child.kill()
                child.wait()
        if child.returncode != 0 or not result_file.exists():
            raise PipelineError(
                f"the {pipeline!r} run in its own process exited with code {child.returncode}",
                hint="its traceback is in this command's error output, above",
            )
        execution_id = result_file.read_text().strip()
    return get_execution(rt.db, execution_id)


def _child_env() -> dict[str, str]:
    """The caller's environment, with truckflow importable however the caller imported it and
    glibc's arenas limited (``truckflow.allocator``)."""
    env = with_arena_limit(dict(os.environ))
    package_root = str(Path(truckflow.__file__).resolve().parent.parent)
    paths = [package_root, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def _exit_when_orphaned(parent_pid: int, every_s: float = 1.0) -> None:
    """A child whose caller died (killed, out of memory) stops instead of running on alone."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(every_s)
        os._exit(3)

    threading.Thread(target=watch, name="truckflow-orphan-watch", daemon=True).start()


def _main(result_file: str, parent_pid: str) -> None:
    _exit_when_orphaned(int(parent_pid))
    rt, pipeline, parameters = pickle.load(sys.stdin.buffer)
    result = rt.run(pipeline, parameters, runner="local", dispatch=False)
    Path(result_file).write_text(result.execution_id)


if __name__ == "__main__":
    _main(*sys.argv[1:3])
