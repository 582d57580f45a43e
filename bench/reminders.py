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

Like for like (issue 22, item 11): on ``bench.datagen``'s sets the large run tells far more
than the small one (every entry unit holds unreported projects and overdue reports at
200,000 projects, a quarter of them at 2,000), so the ratio of the two would measure the
growth of the output. The small set is therefore measured twice: as ``bench.datagen`` makes
it (information, the comparison of earlier sections), and topped up (``top_up``) with a copy
of one of the large set's projects for every (clock, unit) that the large set's run reminds
and the small set does not hold (an escalated one where the large set's unit holds escalated
items): the same units are reminded and escalated, of the same clocks, at both sizes; what
still grows is the projects each count reads and the items each reminder names (up to 10).
The three sets are generated side by side and their runs alternated.

Target: the large set's median ÷ the like-for-like small set's ≤ 3, and the same number of
SQL statements at both sizes. Results are appended to bench/results/reminders.md.
"""

from __future__ import annotations

import contextlib
import os
import platform
import time
from collections import defaultdict
from dataclasses import dataclass, field
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


# -- like for like (issue 22, item 11) ----------------------------------------------------------
def holders(session, today: date, *, named: bool) -> dict:
    """(clock, unit) → ``reminders.Held`` of every unit holding items of a clock on ``today``
    (the run's own collectors, every committee's settings), its items named when ``named``."""
    from models import ReminderClock
    from notifications import reminders

    settings = reminders._all_settings(session)
    found_all = {}
    for clock in ReminderClock:
        on = {c: s for c, s in settings.items() if s.on(clock)}
        if not on:
            continue
        found, name = reminders.COLLECTORS[clock](session, on, today)
        if named and found:
            name(set(found))
        found_all.update({(clock, unit): held for unit, held in found.items()})
    session.rollback()
    return found_all


def spec_of(session, today: date) -> dict:
    """What the large set's run tells, per (clock, unit): whether the unit's items include
    escalated ones, and one project standing for them (an escalated one if any), as a row
    of ``projects`` to copy into the small set."""
    from models import Project

    chosen = {}
    for key, held in holders(session, today, named=True).items():
        items = [i for i in held.items if i["late"]] if held.late else held.items
        if items:
            chosen[key] = (bool(held.late), items[0]["id"])
    table = Project.__table__
    ids = sorted({pid for _, pid in chosen.values()})
    rows = {}
    for start in range(0, len(ids), 5_000):
        part = ids[start : start + 5_000]
        rows |= {
            r.id: dict(r._mapping)
            for r in session.execute(select(table).where(table.c.id.in_(part)))
        }
    session.rollback()
    return {key: (late, rows[pid]) for key, (late, pid) in chosen.items()}


def top_up(session, spec: dict, today: date) -> dict:
    """Make the small set tell what the large one tells: for each (clock, unit) of ``spec``
    the small set does not hold (or holds without an escalated item where the large set
    has one), a copy of the large set's project standing for it. Returns how many were
    added and what still differs (units holding escalated items only in the small set,
    units holding items only in the small set)."""
    from models import Project

    have = holders(session, today, named=False)
    copies = []
    for key, (late, row) in sorted(spec.items(), key=lambda kv: (kv[0][0].value, kv[0][1])):
        held = have.get(key)
        if held is not None and (held.late or not late):
            continue
        copy = {k: v for k, v in row.items() if k != "id"}
        if copy.get("project_no"):
            copy["project_no"] = f"{copy['year']}-LL-{len(copies) + 1:05d}"
        copies.append(copy)
    if copies:
        session.execute(insert(Project.__table__), copies)
    session.commit()
    set_aside = _set_aside(session, spec, today)
    have = holders(session, today, named=False)
    return {
        "added": len(copies),
        "set_aside": set_aside,
        "late_only_here": sum(
            1 for key, held in have.items() if held.late and key in spec and not spec[key][0]
        ),
        "held_only_here": sum(1 for key in have if key not in spec),
    }


def _set_aside(session, spec: dict, today: date) -> int:
    """The small set's items of a (clock, unit) the large set's run does not remind, moved
    out of every clock's reach (a year five years back; a waiting project arrived today):
    their reminders would be output the large run does not send. Returns how many."""
    from models import Project, ReminderClock

    waiting = {ReminderClock.WAITING_SOCIETY, ReminderClock.WAITING_COMMITTEE}
    moved = 0
    for _ in range(20):
        extra = [(k, h) for k, h in holders(session, today, named=True).items() if k not in spec]
        if not extra:
            break
        by_year = [i["id"] for (clock, _), h in extra if clock not in waiting for i in h.items]
        arrived = [i["id"] for (clock, _), h in extra if clock in waiting for i in h.items]
        table = Project.__table__
        if by_year:
            session.execute(
                table.update().where(table.c.id.in_(by_year)).values(year=today.year - 5)
            )
        if arrived:
            session.execute(
                table.update()
                .where(table.c.id.in_(arrived))
                .values(reported_at=datetime.combine(today, datetime.min.time()))
            )
        session.commit()
        moved += len(by_year) + len(arrived)
    return moved


@dataclass
class Target:
    """One generated database measured: the large set, datagen's small set as it is, or the
    small set topped up to tell what the large one tells (``like``)."""

    label: str
    size: int
    app: object
    engine: object
    recorder: SqlRecorder = None
    sample: Sample = field(default_factory=Sample)
    summaries: list = field(default_factory=list)
    statements: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def run_once(target: Target, now: datetime, timed: bool) -> None:
    from extensions import db
    from notifications import reminders

    with target.app.app_context():
        session = db.session
        clean(session)
        target.recorder.reset(keep=True)
        started = time.perf_counter()
        cpu = time.process_time()
        summary = reminders.run(session, now=now)
        elapsed = time.perf_counter() - started
        cpu_s = time.process_time() - cpu
        if timed:
            target.sample.add(elapsed, target.recorder.count, target.recorder.seconds, cpu=cpu_s)
            target.summaries.append(summary)
        target.statements = [list(s) for s in target.recorder.statements]


def figures_of(target: Target) -> dict:
    """The target's summary after its last run: the rows sent, by clock, the items."""
    from extensions import db
    from models import Project, Reminder, ReminderClock

    with target.app.app_context():
        session = db.session
        sent = session.execute(
            select(
                Reminder.unit_id,
                Reminder.clock,
                Reminder.escalation,
                Reminder.item_count,
                Reminder.items,
            )
        ).all()
        total = session.scalar(select(func.count()).select_from(Project))
        session.rollback()
    by_clock = defaultdict(int)
    for row in sent:
        by_clock[ReminderClock(row.clock).value] += 1
    last = target.summaries[-1]
    slowest = sorted(target.statements, key=lambda s: -s[2])[:4]
    return {
        **target.sample.summary(),
        "projects": total,
        "reminders": last.reminders,
        "escalations": last.escalations,
        "mails": last.mails,
        "items": sum(r.item_count for r in sent),
        "named": sum(len(r.items or []) for r in sent),
        "by_clock": dict(by_clock),
        "keys": {(r.unit_id, ReminderClock(r.clock).value, bool(r.escalation)) for r in sent},
        "slowest": [(round(s[2] * 1000, 1), " ".join(s[0].split())[:150]) for s in slowest],
        **target.extra,
    }


def measure(kind: str, small: int, large: int, reps: int, now: datetime) -> dict[str, dict]:
    """The three sets, their runs alternated (each round in a rotated order)."""
    from bench.datagen import analyze
    from extensions import db
    from models.base import beijing_today

    today = beijing_today(now)
    with contextlib.ExitStack() as stack:
        targets = {}
        for label, size in (("large", large), ("datagen", small), ("like", small)):
            app, engine, _ = stack.enter_context(
                common.generated_app(kind, f"remind_{label}{size}", size)
            )
            app.config.update(MAIL_SERVER="127.0.0.1", SITE_URL="https://cme.example.org")
            target = targets[label] = Target(label, size, app, engine)
            with app.app_context():
                target.extra = add_windows(db.session, today)
            target.recorder = stack.enter_context(SqlRecorder(engine))
        with targets["large"].app.app_context():
            spec = spec_of(db.session, today)
        with targets["like"].app.app_context():
            targets["like"].extra |= top_up(db.session, spec, today)
        analyze(targets["like"].engine)
        log(f"{kind}: like-for-like set topped up: {targets['like'].extra}")
        order = list(targets.values())
        for rep in range(reps + 1):  # the first round is a warm-up
            for target in order[rep % 3 :] + order[: rep % 3]:
                run_once(target, now, timed=bool(rep))
        figures = {label: figures_of(t) for label, t in targets.items()}
    for label, f in figures.items():
        log(
            f"{kind} {label} ({f['projects']:,} projects): {f['median_ms']:.0f} ms,"
            f" CPU {f.get('cpu_ms', 0):.0f} ms, {f['statements']} statements,"
            f" {f['reminders']} reminders, {f['escalations']} escalations"
        )
    return figures


def per_message(figures: dict, key: str = "median_ms") -> float:
    """A run's median time (or CPU time) divided by the messages it sent (reminders and
    escalations): what a run costs for what it has to tell."""
    return figures.get(key, 0) / max(1, figures["reminders"] + figures["escalations"])


LABELS = {
    "large": "{size:,} (bench.datagen)",
    "datagen": "{size:,} (bench.datagen, as it is)",
    "like": "{size:,} + top-up (like for like)",
}


def markdown(kind: str, figures: dict[str, dict], reps: int, now) -> str:
    large, like, plain = figures["large"], figures["like"], figures["datagen"]
    ratio = large["median_ms"] / like["median_ms"]
    cpu_ratio = large.get("cpu_ms", 0) / max(1e-9, like.get("cpu_ms", 0))
    plain_ratio = large["median_ms"] / plain["median_ms"]
    statements = {large["statements"], like["statements"]}
    met = ratio <= TARGET_RATIO and len(statements) == 1
    same = large["keys"] == like["keys"]
    load = os.getloadavg()
    lines = [
        f"## {kind}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (like for like)",
        "",
        f"Python {platform.python_version()}, {reps} rounds after a warm-up round, the three"
        " sets alternated (each round in a rotated order), the run's day"
        f" {now.date()} (Beijing), load average {load[0]:.1f} at the end. The like-for-like"
        " set is bench.datagen's small set plus, for every (clock, unit) the large set's run"
        " reminds and that the small set does not hold (or holds without an escalated item"
        " where the large set has one), a copy of one of the large set's projects standing"
        f" for it: {like['added']:,} added; {like['set_aside']:,} of its projects moved out"
        " of every clock's reach (a year five years back, or arrived today) because they made"
        " it remind a (clock, unit) the large run does not.",
        "",
        "| set | projects | median ms | p95 ms | CPU ms (ours) | SQL ms | statements |"
        " reminders | escalations | ms per message | CPU ms per message | mails |"
        " items counted | items named | by clock |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label in ("datagen", "like", "large"):
        f = figures[label]
        clocks = ", ".join(f"{k} {v}" for k, v in sorted(f["by_clock"].items()))
        size = f["projects"] if label != "like" else figures["datagen"]["projects"]
        lines.append(
            f"| {LABELS[label].format(size=size)} | {f['projects']:,} | {f['median_ms']:.0f} |"
            f" {f['p95_ms']:.0f} | {f.get('cpu_ms', 0):.0f} | {f.get('sql_ms', 0):.0f} |"
            f" {f['statements']} | {f['reminders']} | {f['escalations']} |"
            f" {per_message(f):.3f} | {per_message(f, 'cpu_ms'):.3f} | {f['mails']} |"
            f" {f['items']:,} | {f['named']:,} | {clocks} |"
        )
    diff = len(large["keys"] ^ like["keys"])
    lines += [
        "",
        f"**Like for like, {large['projects']:,} ÷ {like['projects']:,}: {ratio:.2f}** wall,"
        f" {cpu_ratio:.2f} CPU (target ≤ {TARGET_RATIO}); statements "
        + "/".join(str(figures[k]["statements"]) for k in ("datagen", "like", "large"))
        + f" — {'met' if met else 'NOT met'}. The reminder rows sent (unit, clock, escalation):"
        + (" the same in both runs." if same else f" {diff} differ between the two runs.")
        + f" Units holding escalated items only in the small set: {like['late_only_here']};"
        f" holding items only there: {like['held_only_here']}.",
        "",
        f"As before (information): {large['projects']:,} ÷ {plain['projects']:,} as"
        f" bench.datagen makes them: {plain_ratio:.2f} wall; per message sent"
        f" {per_message(large) / per_message(plain):.2f}.",
        "",
        f"Slowest statements at {large['projects']:,} projects (ms, SQL):",
        "",
    ]
    for ms, sql in large["slowest"]:
        lines.append(f"- {ms} ms — `{sql}…`")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = common.sizes_parser(__doc__, reps=5).parse_args(argv)
    # 10:00 in Beijing today: the run's day.
    today = date.today()
    now = datetime(today.year, today.month, today.day, 2)
    figures = measure(args.db, args.sizes[0], args.sizes[-1], args.reps, now)
    common.append_report(
        RESULTS,
        markdown(args.db, figures, args.reps, now),
        header="# One 催办 run at two sizes (issue 25)\n\n"
        "`python -m bench.reminders [--db postgresql]`; see bench/reminders.py.\n\n",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
