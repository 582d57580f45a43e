"""Bulk actions alone: the POST of the list's bulk action for 5, 50 and 500 ticked rows.

    .venv/bin/python -m bench.bulk --db sqlite --projects 20000
    .venv/bin/python -m bench.bulk --db postgresql --projects 20000 --profile 500

Builds a fresh data set (``bench.datagen``), logs in through the real login form and posts
the real bulk action of each role (上报所选项目 by the branch and by the society, 公布 by the
committee), the rows reset to their source state before each repetition exactly as
``bench.scenarios.run_bulk`` does. Only the POST is timed (not the reset, nor the list page
that shows the flashed result). Prints, per role and size, the median and p95 of the POST,
its statements and their time, this process's CPU time of the POST, the same writes by
hand on the same rows right after it (``references.bulk_write``, the ratio engine ÷ reference
with the target ≤ 2) and the ratio 500 ÷ 50 (information; statements constant).

``--profile N`` also prints a pyinstrument call tree of the POSTs of N rows per role;
``--statements N`` each statement of one POST of N rows with its time.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path

from bench import common, references, scenarios
from bench.measure import Sample, SqlRecorder

ROOT = str(Path(__file__).resolve().parent.parent)


def _profiled(run, browser, role, candidates, token, size, rng, repeat) -> str:
    """The call tree of ``repeat`` POSTs of ``size`` rows (the resets not profiled)."""
    from pyinstrument import Profiler

    action, source, _ = scenarios.BULK[role]
    view, _ = scenarios.ROLES[role]
    profiler = Profiler(interval=0.0005)
    for _ in range(repeat):
        ids = rng.sample(candidates, size)
        scenarios._reset(run, ids, source)
        data = {"action": action, "rowid": [str(i) for i in ids], "csrf_token": token}
        profiler.start()
        browser.post(f"/admin/{view}/action/", data)
        profiler.stop()
        browser.text(f"/admin/{view}/?page_size=20")
    tree = profiler.output_text(unicode=True, color=False, show_all=False)
    return tree.replace(f"{ROOT}/", "")


def _rep(run, browser, role: str, ids: list[int], token: str):
    """As ``scenarios._bulk_rep``, with this process's CPU time of the POST too
    (less sensitive than the wall time to a busy machine; with SQLite it holds the
    database's work, with PostgreSQL only ours)."""
    action, source, target = scenarios.BULK[role]
    view, _ = scenarios.ROLES[role]
    scenarios._reset(run, ids, source)
    data = {"action": action, "rowid": [str(i) for i in ids], "csrf_token": token}
    run.recorder.reset()
    cpu, started = time.process_time(), time.perf_counter()
    browser.post(f"/admin/{view}/action/", data)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    figures = (elapsed, run.recorder.count, run.recorder.seconds, cpu)
    scenarios._check_moved(run, ids, target)
    browser.text(f"/admin/{view}/?page_size=20")  # shows (and so drops) the flashed result
    return figures


def _statements(run, browser, role, candidates, token, size, rng) -> str:
    """Each statement of one POST of ``size`` rows with its time (SQLite: a lower
    bound, its rows are stepped through later), then those of the SQL reference on the
    same rows."""
    action, source, _ = scenarios.BULK[role]
    view, _ = scenarios.ROLES[role]
    ids = rng.sample(candidates, size)
    scenarios._reset(run, ids, source)
    data = {"action": action, "rowid": [str(i) for i in ids], "csrf_token": token}
    run.recorder.reset(keep=True)
    browser.post(f"/admin/{view}/action/", data)
    lines = [f"\n## {role}: statements of a POST of {size} rows"]
    for statement, _params, seconds in run.recorder.statements:
        text = " ".join(statement.split())
        lines.append(f"{seconds * 1000:8.1f} ms  {text[:110]}")
    run.recorder.reset()
    browser.text(f"/admin/{view}/?page_size=20")
    scenarios._reset(run, ids, source)
    run.recorder.reset(keep=True)
    seconds, _ = references.bulk_write(run.engine, scenarios.bulk_reference(run, role), ids)
    lines.append(f"\n## {role}: the SQL reference on the same rows ({seconds * 1000:.1f} ms)")
    for statement, _params, seconds in run.recorder.statements:
        text = " ".join(statement.split())
        lines.append(f"{seconds * 1000:8.1f} ms  {text[:110]}")
    run.recorder.reset()
    return "\n".join(lines)


def measure(run, roles, sizes, profile: int | None, statements_of: int | None = None) -> dict:
    results = {}
    rng = random.Random(6)
    for role in roles:
        view, _ = scenarios.ROLES[role]
        browser = run.browser(role)
        token = browser.token(f"/admin/{view}/")
        candidates = scenarios._candidates(run, role)
        for size in (s for s in sizes if s <= len(candidates)):
            sample, reference = Sample(), Sample()
            cpu = []
            write = scenarios.bulk_reference(run, role)
            for index in range(-1, run.reps):
                ids = rng.sample(candidates, size)
                figures = _rep(run, browser, role, ids, token)
                written = scenarios._reference_rep(run, role, write, ids)
                if index >= 0:
                    sample.add(*figures[:3])
                    cpu.append(figures[3])
                    reference.add(*written)
            results[(role, size)] = sample.summary() | {
                "cpu_ms": round(statistics.median(cpu) * 1000, 1),
                "reference_ms": reference.summary()["median_ms"],
            }
            print(_line(role, size, results[(role, size)]), flush=True)
        if statements_of and statements_of <= len(candidates):
            print(_statements(run, browser, role, candidates, token, statements_of, rng))
        if profile and profile <= len(candidates):
            tree = _profiled(run, browser, role, candidates, token, profile, rng, 3)
            print(f"\n## {role}: POST of {profile} rows (3 runs)\n{tree}", flush=True)
    return results


def _line(role, size, s) -> str:
    return (
        f"{role:10} {size:4} rows: median {s['median_ms']:8.1f} ms  p95 {s['p95_ms']:8.1f} ms"
        f"  statements {s['statements_min']}-{s['statements']}  SQL {s['sql_ms']:7.1f} ms"
        f"  CPU {s['cpu_ms']:7.1f} ms  SQL reference {s['reference_ms']:7.1f} ms"
        f" ({s['median_ms'] / s['reference_ms']:.2f}×)"
    )


def summary(results: dict, roles, sizes) -> str:
    """Median wall time (and CPU time) per role and size, the ratios 500 ÷ 50."""
    head = "".join(f"{s:>16}" for s in sizes)
    lines = ["", f"{'role':12}{head}   500÷50 wall (cpu)  statements"]
    for role in roles:
        row = [results.get((role, s)) for s in sizes]
        cells = "".join(
            f"{r['median_ms']:>8.1f} ({r['cpu_ms']:>5.0f})" if r else f"{'-':>16}" for r in row
        )
        big, small = results.get((role, 500)), results.get((role, 50))
        ratio = (
            f"{big['median_ms'] / small['median_ms']:6.2f} ({big['cpu_ms'] / small['cpu_ms']:.2f})"
            if big and small
            else "     -"
        )
        stmts = sorted({n for r in row if r for n in (r["statements"], r["statements_min"])})
        lines.append(f"{role:12}{cells}   {ratio:18} {stmts}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bulk", description=__doc__)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--projects", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--sizes", default="5,50,500")
    parser.add_argument("--roles", default=",".join(scenarios.BULK))
    parser.add_argument("--profile", type=int, default=None, metavar="N")
    parser.add_argument("--statements", type=int, default=None, metavar="N")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    roles = args.roles.split(",")
    print(f"load average before: {os.getloadavg()}", flush=True)
    with (
        common.generated_app(args.db, "bulk", args.projects) as (app, engine, dataset),
        SqlRecorder(engine) as recorder,
    ):
        run = scenarios.Run(app, engine, dataset, args.reps, recorder)
        results = measure(run, roles, sizes, args.profile, args.statements)
    print(summary(results, roles, sizes))
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
