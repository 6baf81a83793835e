"""Blocking runs of `hello` through the local HTTP API: latency percentiles and throughput.

    python bench/run_latency.py                 # starts its own local cloud
    python bench/run_latency.py --runs 100 --concurrency 4
    python bench/run_latency.py --url http://127.0.0.1:8080 --key sk_...   # an already running one

Prints one table. The figures are for this machine and the local cloud (moto executing the state
machine, the node functions in-process), not for AWS: compare runs made in one sitting.
`server_cpu_ms_per_run` (when the bench starts its own local cloud, on Linux) is the CPU time the
local cloud's process spent per run: on a machine shared with other work it moves far less than
the latencies do.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from signoff.local.process import DevServer


def one_run(client: httpx.Client, index: int) -> tuple[float, str]:
    body = {"inputs": {"name": f"bench-{index}"}, "response_mode": "blocking", "user": "bench"}
    started = time.perf_counter()
    response = client.post("/workflows/hello/runs", json=body)
    elapsed = time.perf_counter() - started
    status = response.json().get("status", str(response.status_code))
    return elapsed, status


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = max(0, min(len(ordered) - 1, round(fraction * (len(ordered) - 1))))
    return ordered[position]


def process_cpu_seconds(pid: int) -> Callable[[], float | None]:
    """The CPU time (user + system) process `pid` has used so far; None where /proc is missing."""
    stat = Path(f"/proc/{pid}/stat")
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def read() -> float | None:
        try:
            # The fields after the command name (which may hold spaces) closing with ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / ticks

    return read


def measure(
    url: str,
    key: str,
    runs: int,
    concurrency: int,
    warmup: int,
    cpu_seconds: Callable[[], float | None] = lambda: None,
) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for index in range(warmup):
            one_run(client, -1 - index)
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            results = list(pool.map(lambda i: one_run(client, i), range(runs)))
        wall = time.perf_counter() - started
        cpu_after = cpu_seconds()
    latencies = [elapsed for elapsed, _ in results]
    succeeded = sum(1 for _, status in results if status == "succeeded")
    row: dict[str, float] = {
        "runs": runs,
        "succeeded": succeeded,
        "concurrency": concurrency,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "runs_per_minute": runs / wall * 60,
    }
    if cpu_before is not None and cpu_after is not None:
        row["server_cpu_ms_per_run"] = (cpu_after - cpu_before) / runs * 1000
    return row


def print_table(rows: list[dict[str, float]]) -> None:
    columns = ["runs", "succeeded", "concurrency", "p50_ms", "p95_ms", "mean_ms", "runs_per_minute"]
    columns += [name for name in rows[0] if name not in columns]
    print(" | ".join(f"{name:>15}" for name in columns))
    print(" | ".join("-" * 15 for _ in columns))
    for row in rows:
        cells = [
            f"{row[name]:>15.1f}" if isinstance(row[name], float) else f"{row[name]:>15}"
            for name in columns
        ]
        print(" | ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--url", help="an already running local cloud (else one is started)")
    parser.add_argument("--key", help="its admin key (with --url)")
    args = parser.parse_args()

    if args.url:
        rows = [measure(args.url, args.key, args.runs, c, args.warmup) for c in args.concurrency]
    else:
        with DevServer.start() as server:
            cpu = process_cpu_seconds(server.process.pid)
            rows = [
                measure(server.base_url, server.admin_key, args.runs, c, args.warmup, cpu)
                for c in args.concurrency
            ]
    print_table(rows)


if __name__ == "__main__":
    main()
