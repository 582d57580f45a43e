"""Benchmark of one 催办 run (issue 25): ``notifications.reminders.run`` over the benchmark
tree (1 committee, 30 societies, 1,500 branches, 500 issuers: 2,031 units) at 2,000 and
200,000 projects, with a year of windows.

    .venv/bin/python -m bench.reminders                    # SQLite
    .venv/bin/python -m bench.reminders --db postgresql    # PostgreSQL (BENCH_PG_URL)
    .venv/bin/python -m bench.reminders --sizes 2000 20000 --reps 3

The data set is ``bench.datagen``'s (ten years, the queues mostly in the last two, half
published, no execution report opened: every published project of this year and last is
an overdue report), plus the windows: the committee's three steps of last year, this year
and next year, the entry step closing in 5 days (so that every entry unit with an
unreported project of those years is reminded), each society's earlier cut-off for its
branches (3 days), and 50 named exceptions. Each repetition starts from no reminder sent
(the previous repetition's reminders, their messages and mails are deleted, untimed), so
each one sends the day's reminders in full: the bell messages and the reminder rows of
every unit holding items. Mail is on (``MAIL_SERVER`` set, nothing sent): the accounts'
mails are queued in the outbox as in production.

Target: the large set's median ÷ the small set's ≤ 3, and the same number of SQL
statements at both sizes. Results are appended to bench/results/reminders.md.
"""

from __future__ import annotations

import os
import platform
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, insert, select

from bench import common
from bench.common import log
from bench.measure import Sample, SqlRecorder

RESULTS = common.RESULTS_DIR / "reminders.md"
TARGET_RATIO = 3.0


def add_windows(session, today: date) -> dict:
    """A year of windows around ``today``: the committee's, the societies' cut-offs, and
    50 exceptions."""
    from models import FilingWindow, Unit, UnitKind, WindowException, WindowStep

    committee = session.scalar(select(Unit.id).where(Unit.kind == UnitKind.COMMITTEE))
    societies = session.scalars(select(Unit.id).where(Unit.kind == UnitKind.SOCIETY)).all()
    branches = session.scalars(
        select(Unit.id).where(Unit.kind == UnitKind.BRANCH).order_by(Unit.id).limit(50)
    ).all()
    closes = {
        WindowStep.ENTRY_REPORT: today + timedelta(days=5),
        WindowStep.SOCIETY_REPORT: today + timedelta(days=15),
        WindowStep.AUDIT: today + timedelta(days=25),
    }
    rows = []
    for year in (today.year - 1, today.year, today.year + 1):
        for step, day in closes.items():
            rows.append(
                {
                    "unit_id": committee,
                    "committee_id": committee,
                    "year": year,
                    "step": step.value,
                    "opens_on": date(today.year, 1, 1),
                    "closes_on": day,
                }
            )
        for society in societies:
            rows.append(
                {
                    "unit_id": society,
                    "committee_id": committee,
                    "year": year,
                    "step": WindowStep.ENTRY_REPORT.value,
                    "opens_on": None,
                    "closes_on": today + timedelta(days=3),
                }
            )
    session.execute(insert(FilingWindow), rows)
    session.execute(
        insert(WindowException),
        [
            {
                "unit_id": branch,
                "committee_id": committee,
                "granted_by_unit_id": committee,
                "year": today.year,
                "step": WindowStep.ENTRY_REPORT.value,
                "until": today + timedelta(days=6),
                "reason": "基准测试",
            }
            for branch in branches
        ],
    )
    session.commit()
    return {"windows": len(rows), "exceptions": len(branches)}


def clean(session) -> None:
    """Forget the reminders sent (and their messages and mails): the next run sends all."""
    from models import Message, MessageKind, OutboxMail, Reminder

    session.execute(delete(Reminder))
    session.execute(delete(Message).where(Message.kind == MessageKind.REMINDER))
    session.execute(delete(OutboxMail))
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        # Production never deletes reminders: without this, each repetition's INSERTs
        # would step over the dead index entries of the ones before (same keys).
        with session.get_bind().connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("VACUUM ANALYZE reminders, messages, mail_outbox")


def measure_size(kind: str, size: int, reps: int, now: datetime) -> dict:
    from notifications import reminders

    with common.generated_app(kind, f"remind{size}", size) as (app, engine, _):
        app.config.update(MAIL_SERVER="127.0.0.1", SITE_URL="https://cme.example.org")
        from extensions import db
        from models import Project, Reminder, ReminderClock

        with app.app_context():
            session = db.session
            extra = add_windows(session, now.date())
            sample = Sample()
            summaries = []
            with SqlRecorder(engine) as recorder:
                for rep in range(reps + 1):  # the first is a warm-up
                    clean(session)
                    recorder.reset(keep=True)
                    started = time.perf_counter()
                    cpu = time.process_time()
                    summary = reminders.run(session, now=now)
                    elapsed = time.perf_counter() - started
                    cpu_s = time.process_time() - cpu
                    if rep:
                        sample.add(elapsed, recorder.count, recorder.seconds, cpu=cpu_s)
                        summaries.append(summary)
                    statements = [list(s) for s in recorder.statements]
            by_clock = dict(
                session.execute(select(Reminder.clock, func.count()).group_by(Reminder.clock)).all()
            )
            items = session.scalar(select(func.sum(Reminder.item_count))) or 0
            total = session.scalar(select(func.count()).select_from(Project))
            slowest = sorted(statements, key=lambda s: -s[2])[:4]
        last = summaries[-1]
        result = {
            **sample.summary(),
            "projects": total,
            "reminders": last.reminders,
            "escalations": last.escalations,
            "mails": last.mails,
            "items": items,
            "by_clock": {ReminderClock(k).value: v for k, v in by_clock.items()},
            "slowest": [(round(s[2] * 1000, 1), " ".join(s[0].split())[:150]) for s in slowest],
            **extra,
        }
        log(
            f"{kind} {size:,}: {result['median_ms']:.0f} ms, {result['statements']} statements,"
            f" {last.reminders} reminders, {last.escalations} escalations, {last.mails} mails"
        )
        return result


def per_message(figures: dict) -> float:
    """The run's median time divided by the messages it sent (reminders + escalations):
    what a run costs for what it has to tell, at each size."""
    return figures["median_ms"] / max(1, figures["reminders"] + figures["escalations"])


def markdown(kind: str, sizes: list[int], figures: dict[int, dict], reps: int, now) -> str:
    small, large = sizes[0], sizes[-1]
    ratio = figures[large]["median_ms"] / figures[small]["median_ms"]
    statements = {figures[s]["statements"] for s in sizes}
    met = ratio <= TARGET_RATIO and len(statements) == 1
    load = os.getloadavg()
    lines = [
        f"## {kind}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Python {platform.python_version()}, {reps} repetitions after a warm-up, the run's"
        f" day {now.date()} (Beijing), load average {load[0]:.1f} at the end.",
        "",
        "| projects | median ms | p95 ms | CPU ms (ours) | SQL ms | statements | reminders |"
        " escalations | ms per message | mails | items named in all | by clock |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        f = figures[size]
        clocks = ", ".join(f"{k} {v}" for k, v in sorted(f["by_clock"].items()))
        lines.append(
            f"| {f['projects']:,} | {f['median_ms']:.0f} | {f['p95_ms']:.0f} |"
            f" {f.get('cpu_ms', 0):.0f} | {f.get('sql_ms', 0):.0f} | {f['statements']} |"
            f" {f['reminders']} | {f['escalations']} | {per_message(f):.2f} | {f['mails']} |"
            f" {f['items']} | {clocks} |"
        )
    lines += [
        "",
        f"**{large:,} ÷ {small:,}: {ratio:.2f}** (target ≤ {TARGET_RATIO}); statements "
        + "/".join(str(figures[s]["statements"]) for s in sizes)
        + f" — {'met' if met else 'NOT met'}. Per message sent (reminders and escalations):"
        + f" {per_message(figures[large]) / per_message(figures[small]):.2f}.",
        "",
        f"Slowest statements at {large:,} projects (ms, SQL):",
        "",
    ]
    for ms, sql in figures[large]["slowest"]:
        lines.append(f"- {ms} ms — `{sql}…`")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = common.sizes_parser(__doc__, reps=5).parse_args(argv)
    # 10:00 in Beijing today: the run's day.
    today = date.today()
    now = datetime(today.year, today.month, today.day, 2)
    figures = {size: measure_size(args.db, size, args.reps, now) for size in args.sizes}
    common.append_report(
        RESULTS,
        markdown(args.db, args.sizes, figures, args.reps, now),
        header="# One 催办 run at two sizes (issue 25)\n\n"
        "`python -m bench.reminders [--db postgresql]`; see bench/reminders.py.\n\n",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
