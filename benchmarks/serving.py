"""Serving benchmark: truckflow's /predict/features against `mlflow models serve` and an empty
FastAPI endpoint, on one registered 40-feature XGBoost model, all on loopback, same load generator;
and /predict (trip -> features from the database) on a generated world with a real model.

Run: ``python -m benchmarks.serving [--seconds 5] [--rounds 3] [--scale 0.1]``. Uses ``wrk`` when
it is on PATH (Debian package ``wrk``), else a small asyncio/httpx load generator (slower, so lower
ceilings). Each server runs one uvicorn worker. Prints throughput and p50/p99 latency at
concurrency 1, 8 and 32, the 10,000-row batch time on the features path, /predict at concurrency
8 (stored features, and computed on demand), and the ratios against the issue's targets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from benchmarks._trip_world import build_world

N_FEATURES = 40
NAME = "bench-truck-delay"
CONCURRENCY = (1, 8, 32)
TRIP_CONCURRENCY = 8


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def register_model(tracking_uri: str) -> list[str]:
    """Train a 40-feature XGBoost classifier, register it, point `production` at it."""
    import mlflow
    import pandas as pd
    import xgboost as xgb
    from mlflow.models import infer_signature

    mlflow.set_tracking_uri(tracking_uri)
    rng = np.random.default_rng(0)
    names = [f"f{i:02d}" for i in range(N_FEATURES)]
    frame = pd.DataFrame(rng.random((5000, N_FEATURES)), columns=names)
    label = ((frame["f00"] + frame["f01"] + rng.normal(0, 0.3, 5000)) > 1.0).astype(int)
    model = xgb.XGBClassifier(n_estimators=100, max_depth=6).fit(frame, label)
    with mlflow.start_run():
        info = mlflow.xgboost.log_model(
            model,
            name="model",
            signature=infer_signature(frame, label.astype(float)),
            registered_model_name=NAME,
            pip_requirements=["xgboost"],
        )
    mlflow.MlflowClient(tracking_uri).set_registered_model_alias(
        NAME, "production", info.registered_model_version
    )
    return names


@contextmanager
def server(command: list[str], env: dict[str, str], url: str, log: Path) -> Iterator[None]:
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            while True:
                if process.poll() is not None:
                    tail = log.read_text()[-3000:]
                    raise RuntimeError(f"{command[:4]} exited:\n{tail}")
                try:
                    httpx.get(url, timeout=2)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{command[:4]} did not start: see {log}") from None
                    time.sleep(0.5)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def _wrk_script(bodies: list[str]) -> str:
    """POST the bodies in turn (one body: wrk's own fixed request)."""
    if len(bodies) == 1:
        return (
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(bodies[0])}\n"
        )
    listed = ",\n".join(json.dumps(b) for b in bodies)
    return (
        f"bodies = {{\n{listed}\n}}\n"
        "i = 0\n"
        "request = function()\n"
        "  i = i % #bodies + 1\n"
        '  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[i])\n'
        "end\n"
    )


def run_wrk(url: str, bodies: list[str], concurrency: int, seconds: float, workdir: Path) -> Load:
    script = workdir / "post.lua"
    script.write_text(_wrk_script(bodies))
    threads = min(concurrency, 2)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return Load(rps, p50, p99, errors)


async def _py_load(url: str, bodies: list[str], concurrency: int, seconds: float) -> Load:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency)
    turns = itertools.cycle(bodies)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        end = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < end:
                start = time.perf_counter()
                response = await client.post(
                    url, content=next(turns), headers={"content-type": "application/json"}
                )
                latencies.append((time.perf_counter() - start) * 1e3)
                errors += response.status_code >= 300

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    q = np.percentile(latencies, [50, 99])
    return Load(len(latencies) / elapsed, float(q[0]), float(q[1]), errors)


def load(url: str, body: str | list[str], concurrency: int, seconds: float, workdir: Path) -> Load:
    bodies = [body] if isinstance(body, str) else body
    # A short warm-up first, so that first-request costs do not land in the percentiles.
    if shutil.which("wrk"):
        run_wrk(url, bodies, concurrency, 1, workdir)
        return run_wrk(url, bodies, concurrency, seconds, workdir)
    asyncio.run(_py_load(url, bodies, concurrency, 1))
    return asyncio.run(_py_load(url, bodies, concurrency, seconds))


def _median(loads: list[Load]) -> Load:
    return Load(
        statistics.median(r.rps for r in loads),
        statistics.median(r.p50_ms for r in loads),
        statistics.median(r.p99_ms for r in loads),
        sum(r.errors for r in loads),
    )


def batch_times(url: str, body: str, repeats: int = 7) -> list[float]:
    times = []
    with httpx.Client(timeout=120) as client:
        client.post(url, content=body, headers={"content-type": "application/json"})
        for _ in range(repeats):
            start = time.perf_counter()
            response = client.post(url, content=body, headers={"content-type": "application/json"})
            times.append((time.perf_counter() - start) * 1e3)
            response.raise_for_status()
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are reported")
    parser.add_argument(
        "--scale", type=float, default=0.1, help="generated world of the /predict runs"
    )
    args = parser.parse_args(argv)
    os.environ.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1")
    tool = "wrk" if shutil.which("wrk") else "python asyncio/httpx"
    with tempfile.TemporaryDirectory(prefix="tf-bench-") as tmp:
        work = Path(tmp)
        tracking = f"sqlite:///{work / 'mlflow.db'}"
        print(
            f"registering a {N_FEATURES}-feature XGBoost model in a temporary MLflow store ...",
            flush=True,
        )
        names = register_model(tracking)
        rng = np.random.default_rng(1)
        row = rng.random(N_FEATURES).round(6).tolist()
        ours_body = json.dumps(dict(zip(names, row, strict=True)))
        mlflow_body = json.dumps({"dataframe_split": {"columns": names, "data": [row]}})
        big = rng.random((10_000, N_FEATURES)).round(6).tolist()
        ours_rows = json.dumps({"rows": [dict(zip(names, r, strict=True)) for r in big]})
        ours_batch = json.dumps({"columns": names, "data": big})
        mlflow_batch = json.dumps({"dataframe_split": {"columns": names, "data": big}})

        # `mlflow models serve` starts `uvicorn` by name: the environment's scripts must be on PATH.
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        env = os.environ | {
            "PATH": path,
            "MLFLOW_TRACKING_URI": tracking,
            "TRUCKFLOW_HOME": str(work / "home"),
            "TRUCKFLOW_MLFLOW_TRACKING_URI": tracking,
            "TRUCKFLOW_MODEL_NAME": NAME,
        }
        print(f"building a generated world (scale {args.scale}) for /predict ...", flush=True)
        world = build_world(work, env, args.scale)
        ports = {"truckflow": _port(), "mlflow": _port(), "empty": _port(), "trips": _port()}
        base = {k: f"http://127.0.0.1:{p}" for k, p in ports.items()}
        commands = {
            "truckflow": [
                sys.executable,
                "-c",
                "from truckflow.cli.app import main; main()",
                "serve",
                "--stage",
                "production",
                "--port",
                str(ports["truckflow"]),
            ],
            "mlflow": [
                sys.executable,
                "-m",
                "mlflow",
                "models",
                "serve",
                "-m",
                f"models:/{NAME}@production",
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(ports["mlflow"]),
                "-w",
                "1",
            ],
            "empty": [
                sys.executable,
                "-m",
                "uvicorn",
                "benchmarks._empty_app:app",
                "--no-access-log",
                "--host",
                "127.0.0.1",
                "--port",
                str(ports["empty"]),
            ],
        }
        commands["trips"] = [*commands["truckflow"][:-1], str(ports["trips"])]
        envs = {"truckflow": env, "mlflow": env, "empty": env, "trips": world.env}
        ready = {"truckflow": "/health", "mlflow": "/ping", "empty": "/health", "trips": "/health"}
        targets = {
            "truckflow": (base["truckflow"] + "/predict/features", ours_body),
            "mlflow": (base["mlflow"] + "/invocations", mlflow_body),
            "empty": (base["empty"] + "/empty", ours_body),
        }
        trip_runs = {
            "predict stored": world.stored,
            "predict computed": world.computed,
        }
        print("starting the four servers ...", flush=True)
        with contextlib.ExitStack() as stack:
            for name in ("truckflow", "mlflow", "empty", "trips"):
                log = work / f"{name}.log"
                stack.enter_context(
                    server(commands[name], envs[name], base[name] + ready[name], log)
                )
            # Rounds interleave the servers, so that a busy spell of the machine hits all alike.
            runs: dict[tuple[str, int], list[Load]] = {}
            for round_no in range(1, args.rounds + 1):
                for c in CONCURRENCY:
                    for name in ("truckflow", "mlflow", "empty"):
                        url, body = targets[name]
                        r = load(url, body, c, args.seconds, work)
                        runs.setdefault((name, c), []).append(r)
                        _progress(round_no, name, c, r)
                # /predict: one trip per request, the trips in turn (each a new key).
                for name, bodies in trip_runs.items():
                    r = load(
                        base["trips"] + "/predict", bodies, TRIP_CONCURRENCY, args.seconds, work
                    )
                    runs.setdefault((name, TRIP_CONCURRENCY), []).append(r)
                    _progress(round_no, name, TRIP_CONCURRENCY, r)
            batches = {
                "truckflow": batch_times(base["truckflow"] + "/predict/features/batch", ours_batch),
                "truckflow rows": batch_times(
                    base["truckflow"] + "/predict/features/batch", ours_rows, repeats=3
                ),
                "mlflow": batch_times(base["mlflow"] + "/invocations", mlflow_batch, repeats=3),
            }
        results = {key: _median(loads) for key, loads in runs.items()}
        report(results, batches, tool, args.seconds)
        per_round(runs)


def _progress(round_no: int, name: str, c: int, r: Load) -> None:
    print(
        f"  round {round_no} {name:16s} c={c:<3d} {r.rps:9.1f} req/s"
        f"  p50 {r.p50_ms:8.2f} ms  p99 {r.p99_ms:8.2f} ms  errors {r.errors}",
        flush=True,
    )


def per_round(runs: dict[tuple[str, int], list[Load]]) -> None:
    """Throughput against the empty endpoint round by round (the two ran seconds apart): on a
    machine whose load moves, these show the spread behind the ratio of the medians."""
    print("\nthroughput vs empty endpoint, round by round")
    for c in CONCURRENCY:
        ratios = [
            ours.rps / empty.rps
            for ours, empty in zip(runs["truckflow", c], runs["empty", c], strict=True)
        ]
        print(f"  c={c:<3d} " + "  ".join(f"{r:.2f}" for r in ratios))


def report(
    results: dict[tuple[str, int], Load], batches: dict[str, list[float]], tool: str, seconds: float
) -> None:
    print(
        f"\nload generator: {tool}, {seconds:g} s per run, one uvicorn worker per server, loopback\n"
    )
    print(
        f"{'server':16s} {'conc':>4s} {'req/s':>10s} {'p50 ms':>9s} {'p99 ms':>9s} {'errors':>7s}"
    )
    for (name, c), r in results.items():
        print(f"{name:16s} {c:4d} {r.rps:10.1f} {r.p50_ms:9.2f} {r.p99_ms:9.2f} {r.errors:7d}")
    print("\ntargets (issue 5)                          measured      target   met")

    def line(label: str, value: float, target: str, ok: bool) -> None:
        print(f"{label:42s} {value:9.2f}  {target:>10s}   {'yes' if ok else 'NO'}")

    for c in CONCURRENCY:
        ours, peer, empty = results["truckflow", c], results["mlflow", c], results["empty", c]
        if c != 1:
            line(
                f"throughput vs MLflow, c={c}",
                ours.rps / peer.rps,
                ">= 15x",
                ours.rps >= 15 * peer.rps,
            )
        line(
            f"p99 vs MLflow p99, c={c}",
            ours.p99_ms / peer.p99_ms,
            "<= 0.25",
            ours.p99_ms <= 0.25 * peer.p99_ms,
        )
        line(
            f"throughput vs empty endpoint, c={c}",
            ours.rps / empty.rps,
            ">= 0.40",
            ours.rps >= 0.4 * empty.rps,
        )
    ours_batch = statistics.median(batches["truckflow"])
    line("10,000-row batch, compact form (ms, median)", ours_batch, "<= 200", ours_batch <= 200)
    print(
        f"{'  same batch as row objects (ms, median)':42s} {statistics.median(batches['truckflow rows']):9.2f}"
    )
    print(
        f"{'  same batch on MLflow /invocations (ms, median)':42s} {statistics.median(batches['mlflow']):9.2f}"
    )
    stored = results["predict stored", TRIP_CONCURRENCY]
    line("/predict, stored features, p99 c=8 (ms)", stored.p99_ms, "<= 20", stored.p99_ms <= 20)
    computed = results["predict computed", TRIP_CONCURRENCY]
    print(f"{'  /predict computed on demand, p99 c=8 (ms)':42s} {computed.p99_ms:9.2f}")


if __name__ == "__main__":
    main()
