"""Scale benchmark (issue 18): the whole loop at several scales, each stage its own CLI process.

For each scale, in a fresh temporary home: ``data generate``, ``init``, ``data ingest
--history-only``, ``features fill`` (history up to the streaming boundary), ``pipeline run
training``, ``release --auto-approve`` and ``stream replay``. Each stage is a separate
``truckflow`` process; the script records its wall time and its peak RSS: the kernel's
``ru_maxrss`` from ``wait4`` (the largest of the process and the children it waited for, exact),
and the largest total of the process tree seen by polling every 0.2 s. On PostgreSQL every
stage runs with ``TRUCKFLOW_PIPELINE__RUNNER=dask`` on a LocalCluster of two worker processes
that the script starts (the fill's partitions, the training's steps, the replay's daily and
drift pipelines are tasks there), whose peak RSS is polled too (with the processes a
worker starts: a retraining runs in one of its own); a scratch database is created
per scale and dropped afterwards.

Then each stage at each scale against scale 1 (the issue's targets: time at most the scale
ratio, peak RSS at most 1.5x). ``--results FILE`` keeps the figures in a JSON file and merges
with what is there, so scale 10 can run later than scales 1 and 3 and still be compared.

    python -m benchmarks.scale --scales 1 3 --engine sqlite --results /tmp/scale-sqlite.json
    python -m benchmarks.scale --scales 10 --engine postgres --results /tmp/scale-pg.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RSS_TARGET = 1.5
STAGES = ("generate", "init", "ingest", "features", "training", "release", "replay")


@dataclass
class Stage:
    name: str
    seconds: float
    maxrss_mb: float  # ru_maxrss: the largest single process of the stage
    tree_mb: float  # largest polled sum over the process tree
    workers_mb: float = 0.0  # largest polled Dask worker or process it started (PostgreSQL + dask)
    rows: int = 0  # ingest: rows read


@dataclass
class ScaleRun:
    engine: str
    scale: float
    stages: list[Stage] = field(default_factory=list)
    started: str = ""


class _Poller:
    """Polls the RSS of a process tree (and of extra pids) until stopped; keeps the peaks."""

    def __init__(self, pid: int, extra: list[int]) -> None:
        self.pid, self.extra = pid, extra
        self.tree = 0
        self.workers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _rss(self, proc: psutil.Process) -> int:
        try:
            return int(proc.memory_info().rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                procs = []
            self.tree = max(self.tree, sum(self._rss(p) for p in procs))
            for pid in self.extra:  # a worker, and the processes it started (a retraining)
                with suppress(psutil.NoSuchProcess):
                    worker = psutil.Process(pid)
                    for proc in [worker, *worker.children(recursive=True)]:
                        self.workers = max(self.workers, self._rss(proc))
            self._stop.wait(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("truckflow")
    return [str(script)] if script.exists() else [sys.executable, "-m", "truckflow.cli.app"]


def run_stage(
    name: str, args: list[str], env: dict[str, str], log: Path, workers: list[int]
) -> tuple[Stage, str]:
    """Run one CLI stage as its own process, with nice; its time, peaks and stdout."""
    started = time.perf_counter()
    with log.open("ab") as err:
        proc = subprocess.Popen(
            [*_cli(), *args], env=env, stdout=subprocess.PIPE, stderr=err, text=True
        )
        poller = _Poller(proc.pid, workers)
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        poller.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{name} exited {proc.returncode}; see {log}\n{out[-2000:]}")
    stage = Stage(
        name,
        round(seconds, 2),
        round(usage.ru_maxrss / 1024, 1),
        round(poller.tree / 2**20, 1),
        round(poller.workers / 2**20, 1),
    )
    return stage, out


@contextmanager
def _pg_database(admin_url: str, keep: bool = False) -> Iterator[str]:
    """A scratch PostgreSQL database for one scale, dropped afterwards unless ``keep``."""
    import sqlalchemy as sa

    name = f"tf_scale_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        if keep:
            print(f"  kept the database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@contextmanager
def _dask_cluster(env: dict[str, str]) -> Iterator[tuple[str, list[int]]]:
    """A LocalCluster of two single-threaded worker processes that see the run's settings,
    started as truckflow starts its own (glibc arenas limited, scratch space in the home)."""
    from distributed import Client

    from truckflow.pipeline.local_cluster import start_local_cluster

    saved = dict(os.environ)
    os.environ.update(env)  # the worker processes inherit the home and database URL
    try:
        cluster = start_local_cluster(2, Path(env["TRUCKFLOW_HOME"]) / "dask-scratch")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    client = Client(cluster)  # type: ignore[no-untyped-call]
    try:
        pids = [int(p) for p in client.run(os.getpid).values()]
        yield cluster.scheduler_address, pids
    finally:
        client.close()  # type: ignore[no-untyped-call]
        cluster.close()


def _ingest_rows(out: str) -> int:
    """Rows read by the ingest, from its JSON report (every source of the run)."""
    doc = json.loads(out[out.index("{") :])
    sources = doc.get("sources") or doc.get("report", {}).get("sources") or []
    return int(sum(int(s.get("read", 0)) for s in sources))


def _boundary(env: dict[str, str]) -> str:
    from truckflow.settings import Settings

    return str(Settings(home=Path(env["TRUCKFLOW_HOME"])).streaming.boundary)


def _training_parameters(opts: argparse.Namespace) -> list[str]:
    pairs = {"n_trials": opts.trials, "families": opts.families, "seed": 0}
    return [arg for key, value in pairs.items() for arg in ("-p", f"{key}={value}")]


def _stage_args(name: str, data: Path, env: dict[str, str], opts: argparse.Namespace) -> list[str]:
    args = {
        "generate": ["data", "generate", "--out", str(data), "--scale", str(opts.scale_now)],
        "init": ["init"],
        "ingest": ["data", "ingest", str(data), "--history-only", "--json"],
        "features": ["features", "fill", "--end", _boundary(env)]
        + (["--parallel", str(opts.fill_parallel)] if opts.fill_parallel > 1 else []),
        "training": ["pipeline", "run", "training", *_training_parameters(opts)],
        "release": ["release", "--auto-approve"],
        "replay": ["stream", "replay", "--data", str(data), "--auto-approve"],
    }
    return args[name]


def _stages(run: ScaleRun, home: Path, env: dict[str, str], opts: argparse.Namespace) -> None:
    workers = [int(p) for p in env.pop("_TF_WORKER_PIDS", "").split(",") if p]
    data = home / "world"
    for name in opts.stages:
        print(f"  {run.engine} scale {run.scale:g}: {name} ...", end="", flush=True)
        stage, out = run_stage(
            name, _stage_args(name, data, env, opts), env, home / "stderr.log", workers
        )
        if name == "ingest":
            stage.rows = _ingest_rows(out)
        run.stages.append(stage)
        print(f" {stage.seconds:.1f} s, {stage.maxrss_mb:,.0f} MB", flush=True)


def run_scale(engine: str, scale: float, opts: argparse.Namespace) -> ScaleRun:
    """The whole loop at one scale in a temporary home (and database), removed afterwards."""
    run = ScaleRun(engine, scale, started=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
    opts.scale_now = scale
    home = Path(tempfile.mkdtemp(prefix=f"tf-scale-{engine}-"))
    env = {
        **os.environ,
        "TRUCKFLOW_HOME": str(home),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        # The replay's retraining trains what the first training trained (as the demo does).
        "TRUCKFLOW_RETRAIN__TRIALS": str(opts.trials),
        "TRUCKFLOW_RETRAIN__FAMILIES": opts.families,
    }
    env.pop("TRUCKFLOW_DATABASE_URL", None)
    try:
        if engine == "sqlite":
            _stages(run, home, env, opts)
            return run
        with _pg_database(opts.pg, opts.keep) as url:
            env["TRUCKFLOW_DATABASE_URL"] = url
            with _dask_cluster(env) as (address, pids):
                env["TRUCKFLOW_PIPELINE__DASK_SCHEDULER"] = address
                env["TRUCKFLOW_PIPELINE__RUNNER"] = "dask"
                env["_TF_WORKER_PIDS"] = ",".join(map(str, pids))
                _stages(run, home, env, opts)
        return run
    finally:
        if opts.keep:
            print(f"  kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}" if base > 0 else "-"


def table(runs: list[ScaleRun]) -> str:
    """A Markdown table per engine: each stage, each scale, and its ratios to scale 1."""
    lines = []
    for engine in sorted({r.engine for r in runs}):
        mine = sorted((r for r in runs if r.engine == engine), key=lambda r: r.scale)
        base = {s.name: s for r in mine if r.scale == 1 for s in r.stages}
        lines += [
            f"\n{engine}"
            + (" (every stage on a Dask LocalCluster of 2 workers)" if engine != "sqlite" else ""),
            "",
            "| scale | stage | seconds | time / scale 1 (target <= scale) | peak RSS MB (largest process) "
            "| RSS / scale 1 (target <= 1.5) | tree peak MB | Dask worker peak MB | rows/s |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for run in mine:
            for s in run.stages:
                b = base.get(s.name)
                t_ratio = _ratio(s.seconds, b.seconds) if b else "-"
                r_ratio = _ratio(s.maxrss_mb, b.maxrss_mb) if b else "-"
                rate = f"{s.rows / s.seconds:,.0f}" if s.rows else ""
                lines.append(
                    f"| {run.scale:g} | {s.name} | {s.seconds:.1f} | {t_ratio} | "
                    f"{s.maxrss_mb:,.0f} | {r_ratio} | {s.tree_mb:,.0f} | "
                    f"{s.workers_mb:,.0f} | {rate} |"
                )
            total = sum(s.seconds for s in run.stages)
            lines.append(f"| {run.scale:g} | **total** | {total:.1f} | | | | | | |")
    return "\n".join(lines)


def _load(path: Path | None) -> list[ScaleRun]:
    if path is None or not path.is_file():
        return []
    runs = []
    for doc in json.loads(path.read_text(encoding="utf-8")):
        stages = [Stage(**s) for s in doc.pop("stages")]
        runs.append(ScaleRun(**doc, stages=stages))
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 3.0, 10.0])
    parser.add_argument("--engine", choices=("sqlite", "postgres"), nargs="+", default=["sqlite"])
    parser.add_argument("--pg", default=PG_ADMIN, help="an admin URL of the PostgreSQL server")
    parser.add_argument("--trials", type=int, default=1)
    parser.add_argument("--families", default="logistic_regression")
    parser.add_argument("--results", type=Path, help="JSON file to merge the figures into")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary homes (and databases)"
    )
    parser.add_argument(
        "--stages",
        nargs="+",
        choices=STAGES,
        default=list(STAGES),
        help="the first stages only (each needs those before it), e.g. generate init ingest",
    )
    parser.add_argument(
        "--fill-parallel",
        type=int,
        default=1,
        help="features fill --parallel N: its partitions N at once on threads (default serial)",
    )
    opts = parser.parse_args(argv)
    runs = _load(opts.results)
    for engine in opts.engine:
        for scale in opts.scales:
            run = run_scale(engine, scale, opts)
            runs = [r for r in runs if (r.engine, r.scale) != (engine, scale)] + [run]
            if opts.results:
                opts.results.write_text(json.dumps([asdict(r) for r in runs], indent=1))
    print(table(runs))


if __name__ == "__main__":
    main()
