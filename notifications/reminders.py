"""催办: reminders when work waits, and their escalation up the tree of units.

One run (``run``) looks at every committee at once, set-based: a fixed number of SQL
statements whatever the number of committees, units and projects (the settings, the
reminders already sent; per clock one GROUP BY counting each holder's items and one
query naming the first ``NAMED`` items of only the holders reminded or escalated today,
a correlated ``LIMIT`` per holder; the windows of the units with unreported projects;
then one INSERT each for the reminders, the messages and the mails). Each clock gives
every item it concerns a *threshold day* ``t``, the first day the item is worth a
reminder:

- ``WINDOW_CLOSING``: an entry unit's (branch, issuer) projects not yet reported (未上报,
  退回修改) of a year whose 上报 window (``workflow.calendar.windows_for``: the committee's,
  the society's earlier cut-off, a named exception's later day) closes within N days:
  ``t = last day - N``, until the last day;
- ``WAITING_SOCIETY`` / ``WAITING_COMMITTEE``: projects waiting at a society (已上报学会) or at
  the committee for more than N days since they arrived (their last 上报, ``reported_at``,
  the moment 统计 measures queue time from): ``t = day of arrival + N + 1``;
- ``EXECUTION_DUE``: published projects (of this year and last) whose execution report is
  not yet reported by its owner (never opened, 未上报, 退回修改) and due within N days:
  ``t = due date - N``, until the due date;
- ``EXECUTION_OVERDUE``: the same reports more than N days past their due date:
  ``t = due date + N + 1``.

The cadence (one message per unit, clock and day at most):

- the unit holding the items is reminded when an item crosses its threshold (a ``t``
  later than the unit's last reminder of that clock), and then every M days while items
  stay (M: ``ReminderSettings.escalate_after_days``);
- an item still there M days after its threshold (``t + M <= today``) is *escalated*:
  the holder's parent (a branch's society; a society's or an issuer's committee) gets one
  message listing its children with such items, on the same rule (a newly escalated item,
  then every M days). The committee has no parent: its own queue is never escalated.

The cadence reads the reminders already sent, not the days the command ran: after an
outage the next run sends what is due today, once (no backlog). Idempotent: each
reminder row has a unique key (unit, clock, escalation, day), inserted with ``ON
CONFLICT DO NOTHING RETURNING``, and the messages and mails are written only for the
rows this run inserted; two runs at once (two PostgreSQL sessions) send each reminder
once (the second waits on the first's key, then skips it).
"""

from __future__ import annotations

import enum
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app, has_app_context
from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from models import (
    DEFAULT_CLOCKS,
    DEFAULT_ESCALATE_AFTER_DAYS,
    ExecutionDeadline,
    ExecutionReport,
    ExecutionState,
    Project,
    ProjectState,
    Reminder,
    ReminderClock,
    ReminderSettings,
    Unit,
    UnitKind,
    WindowStep,
    utcnow,
)
from models.base import BEIJING_OFFSET_HOURS, beijing_today
from models.execution import due_on_sql
from models.message import (
    Message,
    MessageKind,
)
from notifications import mail, wording
from workflow.calendar import Ask, windows_for

# Items named in one reminder (per holder; the count says how many there are).
NAMED = 10
# Bounds of the settings (the page refuses others).
MAX_DAYS = 365
MAX_ESCALATE_AFTER_DAYS = 90
HELD_REPORT_STATES = (ExecutionState.DRAFT.value, ExecutionState.RETURNED.value)
UNREPORTED = (ProjectState.DRAFT.value, ProjectState.RETURNED.value)
# SQLite's planner prefers (owner, year) for "state IN (…) AND year IN (…)" and reads
# every project of those years; (owner, state, year) answers from the index alone
# (200,000 projects: 2.1 s → 0.2 s for the counts per unit and year). SQLAlchemy has no
# FROM hint for SQLite: the counts are a text() subquery.
OWNER_STATE_YEAR = "INDEXED BY ix_projects_owner_state_year"

# The list each clock's reminder opens: the holder's, and the parent's by its kind.
HOLDER_LIST = {
    ReminderClock.WINDOW_CLOSING: "projects",
    ReminderClock.WAITING_SOCIETY: "review",
    ReminderClock.WAITING_COMMITTEE: "audit",
    ReminderClock.EXECUTION_DUE: "executions",
    ReminderClock.EXECUTION_OVERDUE: "executions",
}
PARENT_LIST = {
    ReminderClock.WINDOW_CLOSING: {UnitKind.SOCIETY: "review", UnitKind.COMMITTEE: "audit"},
    ReminderClock.WAITING_SOCIETY: {UnitKind.COMMITTEE: "audit"},
    ReminderClock.WAITING_COMMITTEE: {},
    ReminderClock.EXECUTION_DUE: {
        UnitKind.SOCIETY: "execution_review",
        UnitKind.COMMITTEE: "execution_audit",
    },
    ReminderClock.EXECUTION_OVERDUE: {
        UnitKind.SOCIETY: "execution_review",
        UnitKind.COMMITTEE: "execution_audit",
    },
}
# The state filter of the list, where the clock's items share one.
LIST_STATE = {
    ReminderClock.WAITING_SOCIETY: ProjectState.AT_SOCIETY.value,
    ReminderClock.WAITING_COMMITTEE: ProjectState.AT_COMMITTEE.value,
}


# -- settings ----------------------------------------------------------------------
@dataclass
class Settings:
    """A committee's 催办 settings: each clock on or off with its N, and M."""

    clocks: dict[ReminderClock, dict]
    escalate_after_days: int = DEFAULT_ESCALATE_AFTER_DAYS

    def on(self, clock: ReminderClock) -> bool:
        return bool(self.clocks[clock]["on"])

    def days(self, clock: ReminderClock) -> int:
        return int(self.clocks[clock]["days"])

    @classmethod
    def of(cls, clocks: dict | None, escalate_after_days: int | None) -> Settings:
        """The stored row's values, a missing clock (or no row) taking ``DEFAULT_CLOCKS``."""
        merged = {}
        for clock, default in DEFAULT_CLOCKS.items():
            stored = (clocks or {}).get(clock.value) or {}
            merged[clock] = {
                "on": bool(stored.get("on", default["on"])),
                "days": int(stored.get("days", default["days"])),
            }
        m = escalate_after_days if escalate_after_days else DEFAULT_ESCALATE_AFTER_DAYS
        return cls(merged, int(m))

    def stored(self) -> dict:
        """The ``clocks`` JSON of the row."""
        return {c.value: dict(v) for c, v in self.clocks.items()}


def settings_for(session: Session, committee_id: int) -> Settings:
    row = session.get(ReminderSettings, committee_id)
    if row is None:
        return Settings.of(None, None)
    return Settings.of(row.clocks, row.escalate_after_days)


def save_settings(session: Session, committee_id: int, settings: Settings) -> None:
    """Store a committee's settings (the caller commits)."""
    row = session.get(ReminderSettings, committee_id)
    if row is None:
        row = ReminderSettings(committee_id=committee_id)
        session.add(row)
    row.clocks = settings.stored()
    row.escalate_after_days = settings.escalate_after_days


def _all_settings(session: Session, committees=None) -> dict[int, Settings]:
    """Every active committee's settings (or those of ``committees``): one statement."""
    stmt = (
        select(Unit.id, ReminderSettings.clocks, ReminderSettings.escalate_after_days)
        .outerjoin(ReminderSettings, ReminderSettings.committee_id == Unit.id)
        .where(Unit.kind == UnitKind.COMMITTEE, Unit.active.is_(True))
    )
    if committees is not None:
        stmt = stmt.where(Unit.id.in_(list(committees)))
    rows = session.connection().execute(stmt)
    return {cid: Settings.of(clocks, m) for cid, clocks, m in rows}


# -- what is held ------------------------------------------------------------------
@dataclass
class Held:
    """One unit's items for one clock: how many, how many escalated (``late``), the
    newest threshold day of each, and up to ``NAMED`` of them (oldest first)."""

    clock: ReminderClock
    unit_id: int
    unit_name: str
    committee_id: int
    parent_id: int | None
    count: int = 0
    late: int = 0
    newest: date | None = None
    newest_late: date | None = None
    items: list[dict] = field(default_factory=list)
    # WINDOW_CLOSING: days left before the last day (the nearest of the unit's years).
    days_left: int | None = None


def day_start(day: date) -> datetime:
    """The naive-UTC moment a Beijing day starts."""
    return datetime.combine(day, time()) - timedelta(hours=BEIJING_OFFSET_HOURS)


def _by_committee(column, values: dict):
    """``CASE committee_id WHEN … THEN value``: each committee's own bound in one
    statement."""
    return case({cid: literal(v) for cid, v in values.items()}, value=column)


def _grouped(session, clock, holder, parent, late_flag, threshold, where, joins=()):
    """Each holder's count of items, of escalated (``late``) items and the newest
    threshold of each: one GROUP BY over the clock's items (``where``), joined to the
    holder's row for its name. No item is named here (see ``_named``)."""
    counts = select(
        holder.label("holder"),
        parent.label("parent"),
        Project.committee_id.label("committee_id"),
        func.count().label("n"),
        func.sum(case((late_flag, 1), else_=0)).label("late"),
        func.max(threshold).label("newest"),
        func.max(case((late_flag, threshold), else_=None)).label("newest_late"),
    ).select_from(Project)
    for target, on in joins:
        counts = counts.outerjoin(target, on)
    counts = counts.where(*where).group_by(holder, parent, Project.committee_id).subquery()
    stmt = (
        select(counts, Unit.name.label("unit_name"))
        .join(Unit, Unit.id == counts.c.holder)
        .where(Unit.active.is_(True))
        .order_by(counts.c.holder)
    )
    found: dict[int, Held] = {}
    for row in session.connection().execute(stmt):
        held = found.get(row.holder)
        if held is None:
            held = found[row.holder] = Held(
                clock=clock,
                unit_id=row.holder,
                unit_name=row.unit_name,
                committee_id=row.committee_id,
                parent_id=row.parent,
            )
        # A holder under two committees (never in practice) keeps the first's.
        held.count += row.n
        held.late += row.late or 0
        held.newest = _max(held.newest, row.newest)
        held.newest_late = _max(held.newest_late, row.newest_late)
    return found


def _max(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _named(session, keys, items_of) -> dict[tuple[int, int], list[dict]]:
    """The first ``NAMED`` items of each ``(holder, year)`` key in ``keys``: one
    statement, a correlated ``LIMIT`` per key (read in the order of an index where one
    serves it) instead of ranking every item. ``items_of(holder, year)`` is the
    clock's SELECT of (id, is_late, ord), or (id, name, is_late, ord), for one key,
    ordered by (ord, id), the key's columns standing for the correlated values. Without a
    name the names are read after the ``LIMIT``, by id, for the ``NAMED`` items only: the
    ``LIMIT`` reads no project row where an index holds its columns (a unit's unreported
    projects, the committee's queue), and no name it drops; a clock whose ``LIMIT`` reads
    the rows anyway (its filter needs them) names them there. The order is the items'
    (ord, id), restored here (an aggregate over a join keeps no order by rule)."""
    if not keys:
        return {}
    dialect = session.get_bind().dialect.name
    document = bindparam("keys", json.dumps(sorted(keys), separators=(",", ":")), type_=String())
    if dialect == "postgresql":
        h = func.json_array_elements(cast(document, JSON)).table_valued("value").alias("h")
        holder = cast(h.c.value.op("->>")(literal_column("0")), Integer)
        year = cast(h.c.value.op("->>")(literal_column("1")), Integer)
    else:
        h = func.json_each(document).table_valued("value").alias("h")
        holder = func.json_extract(h.c.value, "$[0]")
        year = func.json_extract(h.c.value, "$[1]")
    x = items_of(holder, year).limit(NAMED).correlate(h).subquery("x")
    if "name" in x.c:
        name, source = x.c.name, x
    else:
        p = Project.__table__.alias("named")
        name, source = p.c.name, x.join(p, p.c.id == x.c.id)
    if dialect == "postgresql":
        agg = func.json_agg(func.json_build_array(x.c.id, name, x.c.is_late, x.c.ord))
    else:
        agg = func.json_group_array(func.json_array(x.c.id, name, x.c.is_late, x.c.ord))
    names = select(agg).select_from(source).scalar_subquery()
    stmt = select(holder.label("holder"), year.label("year"), names)
    named = {}
    for unit_id, key_year, items in session.connection().execute(stmt):
        if isinstance(items, str):
            items = json.loads(items)
        ordered = sorted(items or [], key=lambda item: (item[3], item[0]))
        named[(int(unit_id), int(key_year))] = [
            {"id": i, "name": n, "unit_id": int(unit_id), "late": bool(late), "year": late}
            for i, n, late, _ord in ordered
        ]
    return named


def _name_each(session, found: dict[int, Held], holders, items_of) -> None:
    """Name the items of ``holders`` (ids of ``found``): one statement."""
    named = _named(session, [(u, 0) for u in holders], lambda holder, _year: items_of(holder))
    for (unit_id, _), items in named.items():
        found[unit_id].items = items


def _waiting(session, clock, on: dict[int, Settings], today: date):
    """Projects waiting at a society (or the committee) for more than N days: the
    holders' counts, and the function that names the items of some holders."""
    at_society = clock is ReminderClock.WAITING_SOCIETY
    state = ProjectState.AT_SOCIETY if at_society else ProjectState.AT_COMMITTEE
    holder = Project.society_id if at_society else Project.committee_id
    parent = Project.committee_id if at_society else literal(None)
    # day(reported_at) + N + 1 <= today  <=>  reported_at < start of (today - N)
    bound = _by_committee(
        Project.committee_id,
        {c: day_start(today - timedelta(days=s.days(clock))) for c, s in on.items()},
    )
    late_bound = {
        c: day_start(today - timedelta(days=s.days(clock) + s.escalate_after_days))
        for c, s in on.items()
    }
    is_late = Project.reported_at < _by_committee(Project.committee_id, late_bound)
    where = (
        Project.state == state,
        Project.committee_id.in_(sorted(on)),
        holder.is_not(None),
        Project.reported_at < bound,
    )
    found = _grouped(session, clock, holder, parent, is_late, Project.reported_at, where)
    days = {c: s.days(clock) for c, s in on.items()}
    for held in found.values():
        n = days[held.committee_id]
        held.newest = _arrival_day(held.newest) + timedelta(days=n + 1)
        if held.newest_late is not None:
            held.newest_late = _arrival_day(held.newest_late) + timedelta(days=n + 1)

    # A society's items are read from the table (their committee, for the late bound);
    # the committee's from its (committee, state, year, reported_at, id) index alone,
    # named after the LIMIT.
    named = (Project.name,) if at_society else ()

    def items_of(unit):
        # The holder's waiting projects, oldest arrival first: a range of the
        # (holder, state, year, reported_at, id) index.
        return (
            select(Project.id, *named, is_late.label("is_late"), Project.reported_at.label("ord"))
            .where(holder == unit, *where)
            .order_by(Project.reported_at, Project.id)
        )

    return found, lambda holders: _name_each(session, found, holders, items_of)


def _arrival_day(value) -> date:
    if isinstance(value, str):  # SQLite returns a window's MAX of a DateTime as text
        value = datetime.fromisoformat(value)
    return beijing_today(value)


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _executions(session, clock, on: dict[int, Settings], today: date) -> dict[int, Held]:
    """Execution reports not yet reported by their owner, due within N days
    (``EXECUTION_DUE``) or more than N days overdue (``EXECUTION_OVERDUE``)."""
    due = func.coalesce(
        ExecutionReport.due_date, due_on_sql(Project.end_date, ExecutionDeadline.days)
    )
    days = {c: s.days(clock) for c, s in on.items()}
    m = {c: s.escalate_after_days for c, s in on.items()}
    if clock is ReminderClock.EXECUTION_DUE:
        # t = due - N: today <= due <= today + N; late when t + M <= today.
        window = and_(
            due >= today,
            due
            <= _by_committee(
                Project.committee_id, {c: today + timedelta(n) for c, n in days.items()}
            ),
        )
        late_bound = {c: today + timedelta(days[c] - m[c]) for c in on}
        is_late = due <= _by_committee(Project.committee_id, late_bound)
        shift = {c: -n for c, n in days.items()}
    else:
        # t = due + N + 1: due < today - N; late when t + M <= today.
        window = due < _by_committee(
            Project.committee_id, {c: today - timedelta(n) for c, n in days.items()}
        )
        late_bound = {c: today - timedelta(days[c] + m[c]) for c in on}
        is_late = due < _by_committee(Project.committee_id, late_bound)
        shift = {c: n + 1 for c, n in days.items()}
    joins = (
        (ExecutionReport, ExecutionReport.project_id == Project.id),
        (
            ExecutionDeadline,
            and_(
                ExecutionDeadline.committee_id == Project.committee_id,
                ExecutionDeadline.year == Project.year,
            ),
        ),
    )
    where = (
        Project.committee_id.in_(sorted(on)),
        Project.year.in_([today.year - 1, today.year]),
        Project.state == ProjectState.PUBLISHED,
        or_(ExecutionReport.id.is_(None), ExecutionReport.state.in_(HELD_REPORT_STATES)),
        window,
    )
    parent = func.coalesce(Project.society_id, Project.committee_id)
    found = _grouped(session, clock, Project.owner_unit_id, parent, is_late, due, where, joins)
    for held in found.values():
        step = timedelta(days=shift[held.committee_id])
        held.newest = _as_date(held.newest) + step
        if held.newest_late is not None:
            held.newest_late = _as_date(held.newest_late) + step

    def items_of(unit):
        # The owner's published projects of the two years (an index range), the
        # nearest due date first.
        # The rows are read for the due date: named here.
        stmt = select(Project.id, Project.name, is_late.label("is_late"), due.label("ord"))
        stmt = stmt.select_from(Project)
        for target, on_ in joins:
            stmt = stmt.outerjoin(target, on_)
        return stmt.where(Project.owner_unit_id == unit, *where).order_by(due, Project.id)

    return found, lambda holders: _name_each(session, found, holders, items_of)


def _window_closing(session, on: dict[int, Settings], today: date):
    """Entry units' unreported projects of a year whose 上报 window closes within N
    days: the (unit, year) groups (one statement), their windows (two); the function
    that names the projects of some units (one)."""
    clock = ReminderClock.WINDOW_CLOSING
    years = [today.year - 1, today.year, today.year + 1]
    # The counts per (owner, year) from the projects' (owner, state, year) index alone;
    # the owner's committee (root), society (a branch's parent) and name from its row.
    sqlite = session.get_bind().dialect.name == "sqlite"
    hint = OWNER_STATE_YEAR if sqlite else ""
    # SQLite's (owner, state, year) index holds the id (its rowid): the LIMIT reads no
    # row and the names come after it; PostgreSQL's reads the rows for the id anyway.
    inline_name = () if sqlite else (Project.name,)
    counts = (
        text(
            f"SELECT owner_unit_id AS owner, year, count(*) AS n FROM projects {hint}"
            " WHERE state IN (:draft, :returned) AND year IN (:y0, :y1, :y2)"
            " GROUP BY owner_unit_id, year"
        )
        .bindparams(
            draft=UNREPORTED[0], returned=UNREPORTED[1], y0=years[0], y1=years[1], y2=years[2]
        )
        .columns(owner=Integer, year=Integer, n=Integer)
        .subquery("counts")
    )
    society = case((Unit.kind == UnitKind.BRANCH, Unit.parent_id), else_=None)
    groups = (
        session.connection()
        .execute(
            select(
                counts.c.owner,
                counts.c.year,
                Unit.root_id,
                society,
                Unit.kind,
                Unit.name,
                counts.c.n,
            )
            .join(Unit, Unit.id == counts.c.owner)
            .where(
                Unit.root_id.in_(sorted(on)),
                Unit.active.is_(True),
                Unit.kind.in_([UnitKind.BRANCH, UnitKind.ISSUER]),
            )
        )
        .all()
    )
    asks = {
        (owner, year): Ask(owner, cid, WindowStep.ENTRY_REPORT, year, society, UnitKind(kind))
        for owner, year, cid, society, kind, _name, _n in groups
    }
    windows = windows_for(session, asks.values(), today)
    found: dict[int, Held] = {}
    late_years: set[tuple[int, int]] = set()
    wanted: set[tuple[int, int]] = set()
    for owner, year, cid, society, _kind, name, n in groups:
        window = windows.get(asks[(owner, year)])
        if window is None:
            continue
        settings = on[cid]
        left = window.days_left(today)
        if not 0 <= left <= settings.days(clock):
            continue
        t = window.last_day - timedelta(days=settings.days(clock))
        late = t + timedelta(days=settings.escalate_after_days) <= today
        held = found.get(owner)
        if held is None:
            held = found[owner] = Held(clock, owner, name, cid, society or cid)
        held.count += n
        held.newest = max(held.newest or t, t)
        held.days_left = left if held.days_left is None else min(held.days_left, left)
        if late:
            held.late += n
            held.newest_late = max(held.newest_late or t, t)
            late_years.add((owner, year))
        wanted.add((owner, year))

    def name(holders) -> None:
        # The unit's first ``NAMED`` projects of its years wanted (oldest year first,
        # then by id), the years as a bit mask per unit: one LIMIT per unit.
        masks: dict[int, int] = defaultdict(int)
        for owner, year in wanted:
            if owner in holders:
                masks[owner] |= 1 << (year - years[0])

        def items_of(unit, mask):
            of_year = or_(
                *(
                    and_(Project.year == year, mask.op("&")(literal_column(str(1 << i))) != 0)
                    for i, year in enumerate(years)
                )
            )
            return (
                select(
                    Project.id,
                    *inline_name,
                    Project.year.label("is_late"),
                    Project.year.label("ord"),
                )
                .where(Project.owner_unit_id == unit, Project.state.in_(UNREPORTED), of_year)
                # ``year + 0``: SQLite would walk (owner, year) in this order, reading
                # every project row of the unit for its state; (owner, state, year) holds
                # all it needs (a covering range, sorted).
                .order_by(Project.year + 0, Project.id)
            )

        named = _named(session, list(masks.items()), items_of)
        for (owner, _), items in named.items():
            # ``is_late`` carries the project's year here: late is per (unit, year).
            found[owner].items = [
                {**item, "late": (owner, item["year"]) in late_years} for item in items
            ]

    return found, name


COLLECTORS = {
    ReminderClock.WINDOW_CLOSING: _window_closing,
    ReminderClock.WAITING_SOCIETY: lambda s, on, today: _waiting(
        s, ReminderClock.WAITING_SOCIETY, on, today
    ),
    ReminderClock.WAITING_COMMITTEE: lambda s, on, today: _waiting(
        s, ReminderClock.WAITING_COMMITTEE, on, today
    ),
    ReminderClock.EXECUTION_DUE: lambda s, on, today: _executions(
        s, ReminderClock.EXECUTION_DUE, on, today
    ),
    ReminderClock.EXECUTION_OVERDUE: lambda s, on, today: _executions(
        s, ReminderClock.EXECUTION_OVERDUE, on, today
    ),
}


# -- the run -----------------------------------------------------------------------
@dataclass
class Summary:
    """What one run did."""

    day: date
    reminders: int = 0
    escalations: int = 0
    mails: int = 0
    skipped: int = 0  # due today but already sent (by an earlier or concurrent run)
    by_clock: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return (
            f"{self.day}: {self.reminders} reminder(s), {self.escalations} escalation(s),"
            f" {self.mails} mail(s) queued, {self.skipped} already sent"
        )


def _last_sent(session, today: date, horizon: int) -> dict:
    """(unit, clock, escalation) → the last day a reminder was sent, within the
    horizon (the largest M): one statement."""
    rows = session.connection().execute(
        select(Reminder.unit_id, Reminder.clock, Reminder.escalation, func.max(Reminder.day))
        .where(Reminder.day > today - timedelta(days=horizon))
        .group_by(Reminder.unit_id, Reminder.clock, Reminder.escalation)
    )
    return {(u, ReminderClock(c), bool(e)): _as_date(d) for u, c, e, d in rows}


def _due(last: date | None, newest: date | None, today: date, m: int) -> bool:
    """The cadence: a first reminder, an item newer than the last reminder, or M days
    since it."""
    return last is None or (newest is not None and newest > last) or last <= today - timedelta(m)


def _escalations(clock, found: dict[int, Held], on: dict[int, Settings]) -> dict[int, dict]:
    """Each parent's escalation of ``clock``: its children holding late items, how
    many, the newest late threshold (the items are named later)."""
    escalations: dict[int, dict] = {}
    if not PARENT_LIST.get(clock):
        return escalations
    for held in found.values():
        if not held.late or not held.parent_id or held.parent_id == held.unit_id:
            continue
        up = escalations.setdefault(
            held.parent_id,
            {
                "committee_id": held.committee_id,
                "count": 0,
                "children": [],
                "held": [],
                "newest": None,
                "m": on[held.committee_id].escalate_after_days,
            },
        )
        up["count"] += held.late
        up["children"].append({"unit_id": held.unit_id, "name": held.unit_name, "count": held.late})
        up["held"].append(held)
        if held.newest_late and (up["newest"] is None or held.newest_late > up["newest"]):
            up["newest"] = held.newest_late
    return escalations


def plan(session: Session, today: date, committees=None) -> list[dict]:
    """The reminder rows due on ``today`` (before the ones already sent are skipped
    by the unique key), of every committee or of ``committees``: a fixed number of
    statements."""
    settings = _all_settings(session, committees)
    if not settings:
        return []
    horizon = max(s.escalate_after_days for s in settings.values()) + 1
    last = _last_sent(session, today, horizon)
    rows = []
    for clock in ReminderClock:
        on = {c: s for c, s in settings.items() if s.on(clock)}
        if on:
            rows += _clock_rows(session, clock, on, last, today)
    for r in rows:
        r["n"] = settings[r["committee_id"]].days(r["clock"])
    return sorted(rows, key=lambda r: (r["unit_id"], r["clock"].value, r["escalation"]))


def _clock_rows(session, clock, on: dict[int, Settings], last: dict, today: date) -> list[dict]:
    """One clock's rows due today: the counts of every holder (no item read beyond its
    index entry), then the cadence, then the names of the items of the reminders due
    today only."""
    found, name = COLLECTORS[clock](session, on, today)
    due = [
        held
        for held in found.values()
        if _due(
            last.get((held.unit_id, clock, False)),
            held.newest,
            today,
            on[held.committee_id].escalate_after_days,
        )
    ]
    escalated = {
        parent_id: up
        for parent_id, up in _escalations(clock, found, on).items()
        if _due(last.get((parent_id, clock, True)), up["newest"], today, up["m"])
    }
    wanted = {held.unit_id for held in due}
    wanted.update(h.unit_id for up in escalated.values() for h in up["held"])
    if wanted:
        name(wanted)
    rows = [_row(held, clock, today, False, held.count, held.items) for held in due]
    rows += [_escalation_row(parent_id, up, clock, today) for parent_id, up in escalated.items()]
    return rows


def _escalation_row(parent_id: int, up: dict, clock, today: date) -> dict:
    """A parent's row listing its children's late items."""
    items = [
        {**item, "unit_name": held.unit_name}
        for held in up["held"]
        for item in held.items
        if item["late"]
    ]
    return {
        "unit_id": parent_id,
        "committee_id": up["committee_id"],
        "clock": clock,
        "day": today,
        "escalation": True,
        "item_count": up["count"],
        "items": sorted(items, key=lambda i: (i["unit_id"], i["id"])),
        "children": up["children"],
    }


def _row(held: Held, clock, today, escalation, count, items) -> dict:
    return {
        "unit_id": held.unit_id,
        "committee_id": held.committee_id,
        "clock": clock,
        "day": today,
        "escalation": escalation,
        "item_count": count,
        "items": [{k: i[k] for k in ("id", "name", "unit_id")} for i in items],
        "days_left": held.days_left,
    }


# The rows of a run go to the database as one JSON document, expanded there (PostgreSQL's
# json_to_recordset, SQLite's json_each): one statement whatever the number of rows (no
# driver-side batches of parameters), and no per-row parameter work in Python.
MESSAGE_COLUMNS = (
    "unit_id",
    "user_id",
    "kind",
    "actor_unit_id",
    "actor_name",
    "count",
    "reason",
    "list_endpoint",
    "list_filters",
    "projects",
    "created_at",
)
INSERT_MESSAGES = {
    "postgresql": """
        INSERT INTO messages ({columns})
        SELECT x.unit_id, NULL, x.kind, x.actor_unit_id, x.actor_name, x.count, NULL,
               x.list_endpoint, x.list_filters, x.projects, :now
        FROM json_to_recordset(CAST(:rows AS json)) AS x(
            unit_id int, kind text, actor_unit_id int, actor_name text, count int,
            list_endpoint text, list_filters json, projects json)
        RETURNING id, unit_id, actor_name
    """,
    "sqlite": """
        INSERT INTO messages ({columns})
        SELECT json_extract(value, '$.unit_id'), NULL, json_extract(value, '$.kind'),
               json_extract(value, '$.actor_unit_id'), json_extract(value, '$.actor_name'),
               json_extract(value, '$.count'), NULL, json_extract(value, '$.list_endpoint'),
               json_extract(value, '$.list_filters'), json_extract(value, '$.projects'), :now
        FROM json_each(:rows)
        RETURNING id, unit_id, actor_name
    """,
}
REMINDER_COLUMNS = (
    "unit_id",
    "committee_id",
    "clock",
    "day",
    "escalation",
    "item_count",
    "items",
    "message_id",
    "run_id",
    "created_at",
)
INSERT_REMINDERS = {
    "postgresql": """
        INSERT INTO reminders ({columns})
        SELECT x.unit_id, x.committee_id, x.clock, :day, x.escalation, x.item_count, x.items,
               x.message_id, :run_id, :now
        FROM json_to_recordset(CAST(:rows AS json)) AS x(
            unit_id int, committee_id int, clock text, escalation boolean, item_count int,
            items json, message_id int)
        ON CONFLICT (unit_id, clock, escalation, day) DO NOTHING
        RETURNING unit_id, clock, escalation
    """,
    # ``WHERE true``: SQLite's parser needs it between a SELECT and ON CONFLICT.
    "sqlite": """
        INSERT INTO reminders ({columns})
        SELECT json_extract(value, '$.unit_id'), json_extract(value, '$.committee_id'),
               json_extract(value, '$.clock'), :day, json_extract(value, '$.escalation'),
               json_extract(value, '$.item_count'), json_extract(value, '$.items'),
               json_extract(value, '$.message_id'), :run_id, :now
        FROM json_each(:rows) WHERE true
        ON CONFLICT (unit_id, clock, escalation, day) DO NOTHING
        RETURNING unit_id, clock, escalation
    """,
}


MAIL_COLUMNS = ("user_id", "recipient", "subject", "body", "attempts", "created_at")
INSERT_MAILS = {
    "postgresql": """
        INSERT INTO mail_outbox ({columns})
        SELECT x.user_id, x.recipient, x.subject, x.body, 0, :now
        FROM json_to_recordset(CAST(:rows AS json)) AS x(
            user_id int, recipient text, subject text, body text)
    """,
    "sqlite": """
        INSERT INTO mail_outbox ({columns})
        SELECT json_extract(value, '$.user_id'), json_extract(value, '$.recipient'),
               json_extract(value, '$.subject'), json_extract(value, '$.body'), 0, :now
        FROM json_each(:rows)
    """,
}


def _bulk(session: Session, sql: dict, columns: tuple, rows: list[dict], **values):
    """Run one of the JSON-expanding INSERTs above with ``rows``: its RETURNING rows."""
    dialect = session.get_bind().dialect.name
    params = [bindparam("rows", type_=String()), bindparam("now", type_=DateTime())]
    if "day" in values:
        params.append(bindparam("day", type_=Date()))
    stmt = text(sql[dialect].format(columns=", ".join(columns))).bindparams(*params)
    document = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    result = session.connection().execute(stmt, {"rows": document, **values})
    return result.all() if result.returns_rows else []


def _insert_messages(session: Session, rows: list[dict], now) -> dict:
    """The bell's messages: their ids by (unit, actor_name), unique within a run."""
    payload = [
        {
            k: (v.value if isinstance(v, enum.Enum) else v)
            for k, v in r.items()
            if k not in ("user_id", "reason", "created_at")
        }
        for r in rows
    ]
    found = _bulk(session, INSERT_MESSAGES, MESSAGE_COLUMNS, payload, now=now)
    return {(unit_id, actor): mid for mid, unit_id, actor in found}


def _insert_reminders(session: Session, rows: list[dict], run_id: str, now) -> set:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the keys this run inserted."""
    days = {r["day"] for r in rows}
    assert len(days) == 1, "one day per run"
    payload = [
        {
            "unit_id": r["unit_id"],
            "committee_id": r["committee_id"],
            "clock": r["clock"].value,
            "escalation": bool(r["escalation"]),
            "item_count": r["item_count"],
            "items": _stored_items(r),
            "message_id": r.get("message_id"),
        }
        for r in rows
    ]
    found = _bulk(
        session, INSERT_REMINDERS, REMINDER_COLUMNS, payload, day=days.pop(), run_id=run_id, now=now
    )
    return {(u, ReminderClock(c), bool(e)) for u, c, e in found}


def _stored_items(row: dict) -> list[dict]:
    return [{k: i[k] for k in ("id", "name", "unit_id")} for i in row["items"]]


def _message_row(row: dict, kinds: dict, now) -> dict:
    clock = row["clock"]
    if row["escalation"]:
        endpoint = PARENT_LIST[clock][kinds.get(row["unit_id"], UnitKind.COMMITTEE)]
        children = row["children"]
        projects = [
            {"id": i["id"], "name": wording.escalated_item(i["unit_name"], i["name"])}
            for i in row["items"]
        ]
        filters = {"unit": children[0]["unit_id"]} if len(children) == 1 else {}
        units = len(children)
    else:
        endpoint = HOLDER_LIST[clock]
        projects = [{"id": i["id"], "name": i["name"]} for i in row["items"]]
        filters, units = {}, 0
    if clock in LIST_STATE:
        filters["state"] = LIST_STATE[clock]
    return {
        "unit_id": row["unit_id"],
        "user_id": None,
        "kind": MessageKind.REMINDER,
        "actor_unit_id": row["committee_id"],
        "actor_name": wording.reminder_key(clock, _sentence_days(row), row["escalation"], units),
        "count": row["item_count"],
        "reason": None,
        "list_endpoint": endpoint,
        "list_filters": filters,
        "projects": projects,
        "created_at": now,
    }


def _sentence_days(row: dict) -> int:
    """The number the sentence names: days left for a closing window, else the clock's N."""
    if row["clock"] is ReminderClock.WINDOW_CLOSING and row.get("days_left") is not None:
        return row["days_left"]
    return row.get("n", 0)


def run(
    session: Session, now: datetime | None = None, commit: bool = True, committees=None
) -> Summary:
    """One reminder run over every committee (or those of ``committees``: the panel's
    立即催办), for the Beijing ``today`` of ``now``; commits (``commit`` False: the caller
    does, in the same transaction).

    Writes the Reminder rows due today that no run wrote before, a bell message to
    each, and the mails of their units' accounts who take each message at once (the
    daily digest lists the messages for the others); the mail is sent after the commit
    (``notifications.mail``). Safe to run again, at once, or after days without a run."""
    now = now or utcnow()
    today = beijing_today(now)
    summary = Summary(today)
    rows = plan(session, today, committees)
    if not rows:
        if commit:
            session.commit()
        return summary
    # The bell's messages first (their ids go on the reminder rows), for the active units.
    found = _receivers(session, {r["committee_id"] for r in rows})
    kinds = {uid: UnitKind(rcv.unit.kind) for uid, rcv in found.items()}
    told = [r for r in rows if r["unit_id"] in found]
    messages = Message.__table__
    message_rows = [_message_row(r, kinds, now) for r in told]
    if message_rows:
        id_of = _insert_messages(session, message_rows, now)
        for r, m in zip(told, message_rows, strict=True):
            r["message_id"] = id_of[(m["unit_id"], m["actor_name"])]
            r["message"] = m
    inserted = _insert_reminders(session, rows, str(uuid.uuid4()), now)
    mine, taken = [], []
    for r in rows:
        if (r["unit_id"], r["clock"], r["escalation"]) in inserted:
            mine.append(r)
        elif r.get("message_id"):
            taken.append(r["message_id"])
    summary.skipped = len(rows) - len(mine)
    # Another run sent those first (today, or at this very moment): their messages go.
    if taken:
        session.connection().execute(delete(messages).where(messages.c.id.in_(taken)))
    for r in mine:
        summary.by_clock[r["clock"].value] = summary.by_clock.get(r["clock"].value, 0) + 1
        if r["escalation"]:
            summary.escalations += 1
        else:
            summary.reminders += 1
    _mail(session, [r for r in mine if r.get("message_id")], found, now, summary)
    if commit:
        session.commit()
    return summary


def _receivers(session: Session, committees: set[int]) -> dict:
    """Every active unit of ``committees`` with its accounts mailed at once
    (``notifications.store``'s rule): one statement, selected by committee (a list of
    thousands of unit ids would cost more to compile than to run)."""
    from notifications.store import receivers_where

    units, ids = Unit.__table__, sorted(committees)
    return receivers_where(session, or_(units.c.id.in_(ids), units.c.root_id.in_(ids)))


def _mail(session: Session, rows: list[dict], found: dict, now, summary: Summary) -> None:
    """The mails of the accounts that take each message at once: one INSERT, sent after
    the commit (only by an app that has a mail server)."""
    if not rows or not (has_app_context() and current_app.config.get("MAIL_SERVER")):
        return
    letters = [
        {
            "user_id": user_id,
            "recipient": address,
            **wording.in_mail_language(_compose, r, r["message"], r["message_id"]),
        }
        for r in rows
        for user_id, address in found[r["unit_id"]].mailed
    ]
    if letters:
        _bulk(session, INSERT_MAILS, MAIL_COLUMNS, letters, now=now)
        mail.send_after_commit(session)
        summary.mails = len(letters)


def _compose(row: dict, message: dict, message_id: int) -> dict:
    """A reminder's mail (Chinese): the sentence, the items (by child unit for an
    escalation), the link."""
    from flask_babel import gettext

    text = wording.sentence(MessageKind.REMINDER, message["actor_name"], message["count"])
    lines = [text, ""]
    if row["escalation"]:
        by_child = defaultdict(list)
        for item in row["items"]:
            by_child[item["unit_id"]].append(item["name"])
        for child in row["children"]:
            lines.append(wording.child_line(row["clock"], child["name"], child["count"]))
            lines += [f"  - {name}" for name in by_child.get(child["unit_id"], [])]
    else:
        lines.append(wording.items_heading(row["clock"]))
        lines += [f"- {item['name']}" for item in row["items"]]
        if row["item_count"] > len(row["items"]):
            lines.append(wording.items_in_all(row["clock"], row["item_count"]))
    lines += ["", gettext("Open: %(link)s", link=mail.message_link(message_id)), ""]
    lines.append(mail.footer())
    return {"subject": mail.subject(text), "body": "\n".join(lines)}


def send_reminders_job() -> None:
    """The job RQ's cron scheduler puts on the worker's queue (``deploy/rq_cron.py``);
    ``python -m worker`` runs it in its application context. The mail it queues is handed
    to the worker after the commit like any other (``notifications.mail``)."""
    from extensions import db

    summary = run(db.session)
    current_app.logger.info("reminders: %s", summary)


# -- what the committee reads ------------------------------------------------------
def counts_by_unit(session: Session, committee_id: int, year: int | None = None) -> dict:
    """How many reminders each unit of a committee received (escalations included),
    in ``year`` (Beijing days) or in all: one statement."""
    stmt = (
        select(Reminder.unit_id, func.count())
        .where(Reminder.committee_id == committee_id)
        .group_by(Reminder.unit_id)
    )
    if year is not None:
        stmt = stmt.where(Reminder.day >= date(year, 1, 1), Reminder.day <= date(year, 12, 31))
    return dict(session.connection().execute(stmt).all())


__all__ = [
    "Held",
    "Settings",
    "Summary",
    "counts_by_unit",
    "plan",
    "run",
    "save_settings",
    "send_reminders_job",
    "settings_for",
]
