"""The serving benchmark's tools: servers in subprocesses, load generators, timed requests."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import shutil
import socket
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

__all__ = [
    "Load",
    "batch_times",
    "capture_pending",
    "load",
    "median_load",
    "port",
    "refusal",
    "server",
    "wait_for_capture",
]


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(
    command: list[str], env: dict[str, str], url: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
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
            yield process
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
        # wrk's default 2 s would count the slowest peer's answers as errors, not requests.
        "--timeout",
        "30s",
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


def median_load(loads: list[Load]) -> Load:
    return Load(
        statistics.median(r.rps for r in loads),
        statistics.median(r.p50_ms for r in loads),
        statistics.median(r.p99_ms for r in loads),
        sum(r.errors for r in loads),
    )


def capture_pending(base: str) -> float:
    """The server's predictions queued for the database (its ``/metrics`` gauge)."""
    text = httpx.get(base + "/metrics", timeout=10).text
    found = re.search(r"^truckflow_capture_pending (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def wait_for_capture(base: str, timeout: float = 120.0) -> float:
    """Seconds until the server has written every captured prediction."""
    start = time.perf_counter()
    while capture_pending(base) > 0 and time.perf_counter() - start < timeout:
        time.sleep(0.02)
    return time.perf_counter() - start


def batch_times(
    url: str, body: str, repeats: int = 7, settle: Callable[[], object] | None = None
) -> list[float]:
    """Milliseconds per request; ``settle`` runs before each (untimed), e.g. to let the
    server finish writing what the previous request captured."""
    times = []
    with httpx.Client(timeout=120) as client:
        client.post(url, content=body, headers={"content-type": "application/json"})
        for _ in range(repeats):
            if settle is not None:
                settle()
            start = time.perf_counter()
            response = client.post(url, content=body, headers={"content-type": "application/json"})
            times.append((time.perf_counter() - start) * 1e3)
            response.raise_for_status()
    return times


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rows_body(columns: list[str], row: list[object], n: int) -> tuple[bytes, bytes, bytes, int]:
    """A compact body of ``n`` copies of ``row``, as head, one row, tail, and its length."""
    head = b'{"columns": ' + json.dumps(columns).encode() + b', "data": ['
    one = json.dumps(row).encode() + b","
    tail = json.dumps(row).encode() + b"]}"
    return head, one, tail, len(head) + len(one) * (n - 1) + len(tail)


def refusal(url: str, pid: int, columns: list[str], row: list[object], n: int) -> dict[str, float]:
    """Send an ``n``-row body (streamed from a generator, never held whole by the client), with
    its Content-Length and then without (chunked): seconds to the answer, the server's RSS
    growth, its status code."""
    head, one, tail, size = _rows_body(columns, row, n)

    def chunks() -> Iterator[bytes]:
        yield head
        block = one * 4096
        for _ in range((n - 1) // 4096):
            yield block
        yield one * ((n - 1) % 4096)
        yield tail

    out: dict[str, float] = {"body_mb": size / 1e6}
    for label, headers in (
        ("announced", {"content-type": "application/json", "content-length": str(size)}),
        ("chunked", {"content-type": "application/json"}),
    ):
        before = _rss_mb(pid)
        start = time.perf_counter()
        try:
            answer = httpx.post(url, content=chunks(), headers=headers, timeout=120)
            status = answer.status_code
        except httpx.HTTPError:  # the server closed the connection after answering 413
            status = -1
        out[f"{label}_s"] = time.perf_counter() - start
        out[f"{label}_status"] = status
        out[f"{label}_rss_growth_mb"] = _rss_mb(pid) - before
    return out
