"""Benchmark of the 统计 page (issue 11): the committee's statistics at 2,000 and 200,000
projects, with this year's figures (the page's default) and with every year.

    .venv/bin/python -m bench.statistics                    # SQLite
    .venv/bin/python -m bench.statistics --db postgresql    # PostgreSQL (BENCH_PG_URL)
    .venv/bin/python -m bench.statistics --sizes 2000 20000 --reps 5

Target: the large set's median ÷ the small set's ≤ 1.5, and the same number of SQL
statements at both sizes. Results are appended to bench/results/statistics.md.
"""

from __future__ import annotations

import os
import platform
import time
from datetime import UTC, datetime

from bench import common
from bench.measure import Sample, SqlRecorder

RESULTS = common.RESULTS_DIR / "statistics.md"
PAGES = {"this year (default)": "/admin/statistics/", "every year": "/admin/statistics/?year=all"}
TARGET_RATIO = 1.5


def measure_size(kind: str, size: int, reps: int) -> dict:
    with common.generated_app(kind, f"stats{size}", size) as (app, engine, _):
        browser = common.signed_in(app)
        results = {}
        with SqlRecorder(engine) as recorder:
            for name, url_path in PAGES.items():
                sample = Sample()
                browser.get(url_path)  # warm-up
                for _ in range(reps):
                    recorder.reset()
                    started = time.perf_counter()
                    browser.get(url_path)
                    sample.add(time.perf_counter() - started, recorder.count, recorder.seconds)
                recorder.reset(keep=True)
                browser.get(url_path)
                slowest = sorted(recorder.statements, key=lambda s: -s[2])[:3]
                results[name] = {
                    **sample.summary(),
                    "slowest": [
                        (round(s[2] * 1000, 1), " ".join(s[0].split())[:140]) for s in slowest
                    ],
                }
                common.log(
                    f"{kind} {size:,} {name}: {results[name]['median_ms']:.0f} ms, "
                    f"{results[name]['statements']} statements"
                )
        return results


def markdown(kind: str, sizes: list[int], figures: dict[int, dict], reps: int) -> str:
    small, large = sizes[0], sizes[-1]
    lines = [
        f"## {kind}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared with other work), "
        f"load {os.getloadavg()[0]:.1f}; {reps} repetitions after one warm-up; median and p95;"
        " SQL: the statements' own time (a lower bound on SQLite). Statements: the most in"
        " a run (a login-session refresh can add one).",
        "",
        "| page | "
        + " | ".join(f"{s:,} projects" for s in sizes)
        + " | ratio | statements | target |",
        "|---|" + "---|" * len(sizes) + "---|---|---|",
    ]
    for name in PAGES:
        cells = [
            f"{figures[s][name]['median_ms']:.0f} ms (p95 {figures[s][name]['p95_ms']:.0f},"
            f" SQL {figures[s][name]['sql_ms']:.0f})"
            for s in sizes
        ]
        ratio = figures[large][name]["median_ms"] / figures[small][name]["median_ms"]
        statements = {figures[s][name]["statements"] for s in sizes}
        met = ratio <= TARGET_RATIO and len(statements) == 1
        lines.append(
            f"| {name} | "
            + " | ".join(cells)
            + f" | {ratio:.2f} | "
            + "/".join(str(figures[s][name]["statements"]) for s in sizes)
            + f" | {'met' if met else 'NOT met'} (≤ {TARGET_RATIO}, constant) |"
        )
    lines += ["", f"Slowest statements at {large:,} projects (ms, SQL):", ""]
    for name in PAGES:
        for ms, sql in figures[large][name]["slowest"]:
            lines.append(f"- {name}: {ms} ms — `{sql}…`")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = common.sizes_parser(__doc__, reps=7).parse_args(argv)
    figures = {size: measure_size(args.db, size, args.reps) for size in args.sizes}
    common.append_report(
        RESULTS,
        markdown(args.db, args.sizes, figures, args.reps),
        header="# The 统计 page at two sizes (issue 11)\n\n"
        "`python -m bench.statistics [--db postgresql]`; see bench/statistics.py.\n\n",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
