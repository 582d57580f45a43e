"""Throughput and p95 of the production shape (deploy/) on this machine: the cluster of the
cluster test (tests/cluster/harness.py: HAProxy with TLS, gunicorn instances, two job
workers, PostgreSQL and Redis of its own) with two web instances, and the same with one,
under 64 and then 128 virtual users (tests/cluster/load.py: the test's mix, no pause
between steps, no faults).

    .venv/bin/python -m bench.cluster [--seconds 60] [--warmup 20] [--users 64 128]

Not part of ``make test`` or ``make bench``; results by hand in bench/results/cluster.md.
Each run signs its users in first (a login is ~1 CPU-second of password hashing under
load); only the answers after ``--warmup`` seconds are counted.
"""

from __future__ import annotations

import argparse
import os
import time

from tests.cluster.harness import Cluster
from tests.cluster.load import join_users, run_users


def measure(cluster: Cluster, users: int, warmup: float, seconds: float) -> dict:
    start = time.monotonic()
    threads, stats, _ = run_users(cluster.base, str(cluster.cert), users, warmup + seconds)
    problems = join_users(threads)
    window = [a for a in stats.answers if start + warmup <= a[0] <= start + warmup + seconds]
    ok = sorted(s for _, kind, s in window if kind == "ok")
    other = [kind for _, kind, _ in window if kind != "ok"]

    def rank(q: float) -> float:
        return ok[int(q * (len(ok) - 1))] * 1000 if ok else 0.0

    return {
        "users": users,
        "per_second": len(ok) / seconds,
        "p50": rank(0.50),
        "p95": rank(0.95),
        "not_ok": len(other),
        "problems": len(problems),
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=20)
    parser.add_argument("--users", type=int, nargs="+", default=[64, 128])
    args = parser.parse_args()
    print("| web instances | users | answers/s | p50 ms | p95 ms | not ok | load avg (1 min) |")
    print("|---|---|---|---|---|---|---|")
    for instances in (2, 1):
        with Cluster() as cluster:
            cluster.start(web_count=instances)
            for users in args.users:
                row = measure(cluster, users, args.warmup, args.seconds)
                print(
                    f"| {instances} | {users} | {row['per_second']:.1f} | {row['p50']:.0f} |"
                    f" {row['p95']:.0f} | {row['not_ok']} | {row['load']:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
