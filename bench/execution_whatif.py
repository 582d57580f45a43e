"""What-if for bulk 审核通过: the snapshot receiver reading the roster's columns with Core.

    .venv/bin/python -m bench.execution_whatif sqlite|postgresql

``workflow.execution.keep_snapshots`` (a receiver of ``hooks.execution_moved``) loads every
roster row of the accepted reports as an ORM entity. This builds bench.execution's 2,000-project
set (1,000 reports, 50 learners each), times the audit list's POST of 50 and 500 reports as it
is, then swaps in ``core_keep_snapshots`` (the same snapshot JSON from a Core SELECT of the
columns) and times it again. Figures in bench/results/execution.md; the product is unchanged.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time

from sqlalchemy import insert, select

from bench import execution as bench_execution
from bench.client import Browser
from bench.database import fresh_database, migrate
from bench.datagen import DEMO_ACCOUNTS, generate
from bench.webapp import create_bench_app


def core_keep_snapshots(action, *, session, account, moves, reason) -> None:
    """``keep_snapshots`` with the roster read as rows of columns, not entities."""
    from sqlalchemy.orm import selectinload

    from models import ExecutionReport, ExecutionSnapshot, RosterEntry, rules, utcnow
    from workflow import execution

    if action not in execution.SNAPSHOT_ACTIONS:
        return
    target = {move.project_id: move.target for move in moves}
    reports = session.scalars(
        select(ExecutionReport)
        .where(ExecutionReport.id.in_(list(target)))
        .options(selectinload(ExecutionReport.lecturers))
    ).all()
    rosters: dict[int, list] = {report_id: [] for report_id in target}
    columns = (
        RosterEntry.report_id,
        RosterEntry.id,
        RosterEntry.name,
        RosterEntry.id_number,
        RosterEntry.workplace,
        RosterEntry.title,
        RosterEntry.attended,
        RosterEntry.credits,
    )
    found = session.execute(
        select(*columns)
        .where(RosterEntry.report_id.in_(list(target)))
        .order_by(RosterEntry.report_id, RosterEntry.id)
    )
    for row in found:
        entry = row._asdict()
        report_id = entry.pop("report_id")
        entry["id_number"] = rules.mask_id_number(entry["id_number"])
        rosters[report_id].append(entry)
    now = utcnow()
    rows = []
    for report in reports:
        data = {
            "fields": {n: execution._stored(getattr(report, n)) for n in execution.REPORT_FIELDS},
            "lecturers": execution._lecturer_rows(report.lecturers),
            "roster": rosters[report.id],
        }
        rows.append(
            {
                "report_id": report.id,
                "action": action.value,
                "to_state": target[report.id],
                "data": json.dumps(data, ensure_ascii=False),
                "created_at": now,
            }
        )
    if rows:
        session.execute(insert(ExecutionSnapshot), rows)


def run(app, engine, label: str, reps: int = 5) -> None:
    from models import ExecutionReport

    table = ExecutionReport.__table__
    with engine.connect() as conn:
        candidates = list(conn.scalars(select(table.c.id)))
    rng = random.Random(5)
    committee = next(u for u, key in DEMO_ACCOUNTS.items() if key == "committee")
    browser = Browser(app).login(committee)
    token = browser.token("/admin/execution-audit/")
    for size in (50, 500):
        wall, cpu = [], []
        for index in range(reps + 1):
            ids = rng.sample(candidates, size)
            bench_execution._reset(engine, ids)
            data = {"action": "accept", "rowid": [str(i) for i in ids], "csrf_token": token}
            cpu_start, started = time.process_time(), time.perf_counter()
            browser.post("/admin/execution-audit/action/", data)
            if index:  # the first is a warm-up
                wall.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_start)
            browser.text("/admin/execution-audit/")
        print(
            f"{label} accept {size}: median {statistics.median(wall) * 1000:.0f} ms,"
            f" CPU {statistics.median(cpu) * 1000:.0f} ms",
            flush=True,
        )


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    with fresh_database(kind, "whatif") as url:
        migrate(url)
        dataset = generate(url, 2_000)
        bench_execution.add_executions(url, dataset, 50)
        app = create_bench_app(url)
        from extensions import db

        with app.app_context():
            engine = db.engine
        run(app, engine, f"{kind} as is (ORM entities)")
        from workflow import execution, hooks

        hooks.execution_moved.disconnect(execution.keep_snapshots)
        hooks.execution_moved.connect(core_keep_snapshots)
        run(app, engine, f"{kind} roster read with Core")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
