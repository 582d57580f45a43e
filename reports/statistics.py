"""统计分析: figures of the projects an account may see, each one GROUP BY query.

Every query starts from ``permissions.project_visibility(account)`` (the committee:
its tree without drafts; a society: its branches' projects without drafts) and the
filters (年度, 级别, 学科). Rows are aggregated by the database; Python only names
the groups and fills in the members of an enum that have no projects. The number of
statements is the same whatever the number of projects.

API::

    filters = Filters(year=2026, level=None, discipline_id=None)
    report = build_report(session, account, filters)
    report.tables["by_state"].rows        # [(label, count, credits), ...]
    filter_options(session, account)      # {"years": [...], "levels": [...], "disciplines": [...]}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, select, union_all
from sqlalchemy.orm import Session

import permissions
from models import (
    Discipline,
    Project,
    ProjectEvent,
    ProjectLevel,
    ProjectMode,
    ProjectState,
    Unit,
    UnitKind,
    utcnow,
)
from models.vocabulary import label
from reports.sql import days, month_of
from workflow import Action

# How many of the oldest waiting projects and of the most frequent reasons are listed.
OLDEST_WAITING = 5
TOP_REASONS = 10
# The states in which a project waits for a reviewer, and who that reviewer is.
QUEUES = {
    ProjectState.AT_SOCIETY: UnitKind.SOCIETY,
    ProjectState.AT_COMMITTEE: UnitKind.COMMITTEE,
}
# The percentiles of time in queue shown (computed as PostgreSQL's percentile_cont).
MEDIAN, P90 = (1, 2), (9, 10)

COUNT = _l("Number of projects")
CREDITS = _l("Credits")


@dataclass(frozen=True)
class Filters:
    """年度 (None: every year), 级别 and 学科 (None: all)."""

    year: int | None = None
    level: ProjectLevel | None = None
    discipline_id: int | None = None

    def condition(self, *, with_year: bool = True) -> ColumnElement[bool]:
        parts = []
        if with_year and self.year is not None:
            parts.append(Project.year == self.year)
        if self.level is not None:
            parts.append(Project.level == self.level)
        if self.discipline_id is not None:
            parts.append(Project.discipline_id == self.discipline_id)
        return and_(True, *parts)


@dataclass
class Table:
    """One table of the page, one sheet of the workbook and (when ``chart`` is set)
    one chart drawn from the columns ``series`` of the same rows."""

    key: str
    title: Any
    headers: Sequence[Any]
    rows: list[tuple]
    chart: str | None = None  # "bar", "hbar" or "line"
    series: tuple[int, ...] = ()
    note: Any = None


@dataclass
class Report:
    filters: Filters
    tables: dict[str, Table] = field(default_factory=dict)

    def add(self, table: Table) -> None:
        self.tables[table.key] = table


def scope(account, filters: Filters, *, with_year: bool = True) -> ColumnElement[bool]:
    return and_(permissions.project_visibility(account), filters.condition(with_year=with_year))


def _totals(*keys):
    return (*keys, func.count(Project.id), func.coalesce(func.sum(Project.credits), 0.0))


def _number(value) -> float:
    """Credits as a number with at most one decimal (a sum of floats, e.g. 4.5 + 3)."""
    return round(float(value or 0), 1)


def _by_enum(session, where, column, members, title, header) -> Table:
    counts = {
        key: (count, credits)
        for key, count, credits in session.execute(
            select(*_totals(column)).where(where).group_by(column)
        )
    }
    rows = [
        (
            member.title,
            *((counts[member][0], _number(counts[member][1])) if member in counts else (0, 0.0)),
        )
        for member in members
    ]
    return Table("", title, (header, COUNT, CREDITS), rows, "bar", (1, 2))


def by_year(session: Session, account, filters: Filters) -> Table:
    """Every year of the scope (the year filter does not apply: this is the trend)."""
    where = scope(account, filters, with_year=False)
    rows = session.execute(
        select(*_totals(Project.year)).where(where).group_by(Project.year).order_by(Project.year)
    )
    return Table(
        "by_year",
        _l("By year"),
        (label("year"), COUNT, CREDITS),
        [(str(year), count, _number(credits)) for year, count, credits in rows],
        "bar",
        (1, 2),
        _l("Every year, with the other filters."),
    )


def by_state(session, account, filters) -> Table:
    members = [s for s in ProjectState if s is not ProjectState.DRAFT]
    table = _by_enum(
        session, scope(account, filters), Project.state, members, _l("By status"), label("state")
    )
    table.key = "by_state"
    return table


def by_level(session, account, filters) -> Table:
    table = _by_enum(
        session,
        scope(account, filters),
        Project.level,
        list(ProjectLevel),
        _l("By level"),
        label("level"),
    )
    table.key = "by_level"
    return table


def by_mode(session, account, filters) -> Table:
    table = _by_enum(
        session,
        scope(account, filters),
        Project.mode,
        list(ProjectMode),
        _l("By mode"),
        label("mode"),
    )
    table.key = "by_mode"
    return table


def unit_column(account):
    """The unit a project is counted under: for the committee its society (an
    issuer's project has none: the issuer itself); for a society its branch."""
    if account.unit.kind is UnitKind.COMMITTEE:
        return func.coalesce(Project.society_id, Project.owner_unit_id)
    return Project.owner_unit_id


def unit_header(account):
    if account.unit.kind is UnitKind.COMMITTEE:
        return _l("Society or certificate-issuing unit")
    return UnitKind.BRANCH.title


def _named_totals(session, where, key, names):
    """Totals grouped by ``key`` over the projects alone, then named: joining the names
    first lets the planner walk the projects per name (one index probe per discipline
    across every year), which is slower by far on a large table."""
    grouped = select(*_totals(key.label("key"))).where(where).group_by(key).subquery("grouped")
    count, credits = grouped.c[1], grouped.c[2]
    return session.execute(
        select(names.name, count, credits)
        .join(names, names.id == grouped.c.key)
        .order_by(count.desc(), names.name)
    )


def by_unit(session, account, filters) -> Table:
    rows = _named_totals(session, scope(account, filters), unit_column(account), Unit)
    return Table(
        "by_unit",
        _l("By unit"),
        (unit_header(account), COUNT, CREDITS),
        [(name, count, _number(credits)) for name, count, credits in rows],
        "hbar",
        (1, 2),
    )


def by_discipline(session, account, filters) -> Table:
    # "+ 0": without table statistics SQLite prefers walking ix_projects_discipline_id
    # (rows already in group order) over every year to the year's range of
    # ix_projects_committee_stats; an expression key cannot use the former.
    key = Project.discipline_id + 0
    rows = _named_totals(session, scope(account, filters), key, Discipline)
    return Table(
        "by_discipline",
        _l("By discipline"),
        (label("discipline"), COUNT, CREDITS),
        [(name, count, _number(credits)) for name, count, credits in rows],
        "hbar",
        (1, 2),
    )


def published_per_month(session, account, filters) -> Table:
    month = month_of(Project.published_at).label("month")
    rows = session.execute(
        select(*_totals(month))
        .where(
            scope(account, filters),
            Project.state == ProjectState.PUBLISHED,
            Project.published_at.is_not(None),
        )
        .group_by(month)
        .order_by(month)
    )
    return Table(
        "published_per_month",
        _l("Published per month"),
        (_l("Month"), COUNT, CREDITS),
        [(month, count, _number(credits)) for month, count, credits in rows],
        "line",
        (1,),
        _l("Projects now published, by the month (Beijing time) they were published."),
    )


# -- time in queue ---------------------------------------------------------------


def _durations(account, filters):
    """(queue state, days) of every report that has been decided: the time from the
    上报 event to the next move of the same project out of that state."""
    moves = (Action.REPORT, Action.UNLOCK, Action.PUBLISH, Action.WITHDRAW)
    order = {"partition_by": ProjectEvent.project_id, "order_by": ProjectEvent.id}
    events = (
        select(
            ProjectEvent.action,
            ProjectEvent.to_state,
            ProjectEvent.created_at,
            func.lead(ProjectEvent.created_at).over(**order).label("next_at"),
            func.lead(ProjectEvent.from_state).over(**order).label("next_from"),
        )
        .join(Project, Project.id == ProjectEvent.project_id)
        .where(scope(account, filters), ProjectEvent.action.in_([m.value for m in moves]))
        .subquery("moves")
    )
    return (
        select(
            events.c.to_state.label("queue"),
            days(events.c.created_at, events.c.next_at).label("days"),
        )
        .where(
            events.c.action == Action.REPORT.value,
            events.c.next_at.is_not(None),
            events.c.next_from == events.c.to_state,
        )
        .subquery("durations")
    )


def _percentiles_postgresql(session, durations) -> dict[str, tuple[int, float, float]]:
    d = durations.c
    rows = session.execute(
        select(
            d.queue,
            func.count(),
            func.percentile_cont(MEDIAN[0] / MEDIAN[1]).within_group(d.days),
            func.percentile_cont(P90[0] / P90[1]).within_group(d.days),
        ).group_by(d.queue)
    )
    return {queue: (n, float(median), float(p90)) for queue, n, median, p90 in rows}


def _interpolate(values: dict[int, float], n: int, share: tuple[int, int]) -> float:
    """percentile_cont: linear interpolation between the two ranks around share·(n−1),
    in integers (as the query picks the ranks) so that no rounding picks another rank."""
    numerator, denominator = share
    low, remainder = divmod(numerator * (n - 1), denominator)
    if remainder == 0:
        return values[low]
    return values[low] + remainder / denominator * (values[low + 1] - values[low])


def _percentiles_portable(session, durations) -> dict[str, tuple[int, float, float]]:
    """The same figures with window functions: only the (at most four) ranks each
    percentile needs come back, whatever the number of events."""
    d = durations.c
    ranked = select(
        d.queue,
        d.days,
        (func.row_number().over(partition_by=d.queue, order_by=d.days) - 1).label("rank"),
        func.count().over(partition_by=d.queue).label("n"),
    ).subquery("ranked")
    r = ranked.c
    # Integer division is floor in both databases: the ranks around 0.5(n-1) and 0.9(n-1).
    wanted = (
        (r.n - 1) // 2,
        r.n // 2,
        (9 * (r.n - 1)) // 10,
        (9 * (r.n - 1) + 9) // 10,
    )
    rows = session.execute(select(r.queue, r.n, r.rank, r.days).where(r.rank.in_(wanted)))
    found: dict[str, tuple[int, dict[int, float]]] = {}
    for queue, n, rank, value in rows:
        found.setdefault(queue, (n, {}))[1][rank] = float(value)
    return {
        queue: (n, _interpolate(values, n, MEDIAN), _interpolate(values, n, P90))
        for queue, (n, values) in found.items()
    }


def time_in_queue(session, account, filters) -> Table:
    durations = _durations(account, filters)
    if session.get_bind().dialect.name == "postgresql":
        figures = _percentiles_postgresql(session, durations)
    else:
        figures = _percentiles_portable(session, durations)
    rows = []
    for state, kind in QUEUES.items():
        n, median, p90 = figures.get(state.value, (0, 0.0, 0.0))
        rows.append((kind.title, n, round(median, 1), round(p90, 1)))
    return Table(
        "time_in_queue",
        _l("Time in queue"),
        (_l("Reviewed by"), _l("Decisions"), _l("Median (days)"), _l("90th percentile (days)")),
        rows,
        "bar",
        (2, 3),
        _l("Days from reporting to the next decision (reported on, sent back or published)."),
    )


def oldest_waiting(session, account, filters, now: datetime | None = None) -> Table:
    """The projects waiting longest for a reviewer. One query: per queue the oldest few
    (each an index range in reported_at order), then the oldest of those."""
    columns = (
        Project.id.label("id"),
        Project.name.label("name"),
        Project.owner_unit_id.label("owner_unit_id"),
        Project.state.label("state"),
        Project.reported_at.label("reported_at"),
    )
    parts = [
        select(
            *select(*columns)
            .where(scope(account, filters), Project.state == state)
            .order_by(Project.reported_at, Project.id)
            .limit(OLDEST_WAITING)
            .subquery()
            .c
        )
        for state in QUEUES
    ]
    waiting = union_all(*parts).subquery("waiting")
    rows = session.execute(
        select(waiting.c.name, Unit.name, waiting.c.state, waiting.c.reported_at)
        .join(Unit, Unit.id == waiting.c.owner_unit_id)
        .order_by(waiting.c.reported_at, waiting.c.id)
        .limit(OLDEST_WAITING)
    )
    now = now or utcnow()
    table_rows = [
        (
            name,
            unit,
            QUEUES[ProjectState(state)].title,
            reported_at,
            round((now - reported_at).total_seconds() / 86400, 1),
        )
        for name, unit, state, reported_at in rows
    ]
    return Table(
        "oldest_waiting",
        _l("Oldest waiting"),
        (
            label("name"),
            label("owner_unit"),
            _l("Waiting for"),
            label("reported_at"),
            _l("Days waiting"),
        ),
        table_rows,
    )


# -- send-backs --------------------------------------------------------------------


def _unlocks(account, filters):
    return and_(scope(account, filters), ProjectEvent.action == Action.UNLOCK.value)


def send_backs_per_unit(session, account, filters) -> Table:
    key = unit_column(account)
    rows = session.execute(
        select(Unit.name, func.count(ProjectEvent.id))
        .select_from(ProjectEvent)
        .join(Project, Project.id == ProjectEvent.project_id)
        .join(Unit, Unit.id == key)
        .where(_unlocks(account, filters))
        .group_by(Unit.id, Unit.name)
        .order_by(func.count(ProjectEvent.id).desc(), Unit.name)
    )
    return Table(
        "send_backs",
        _l("Sent back for changes"),
        (unit_header(account), _l("Times sent back")),
        [tuple(row) for row in rows],
        "hbar",
        (1,),
        _l("Each time a reviewer set a project back to modifiable."),
    )


def send_back_reasons(session, account, filters) -> Table:
    count = func.count(ProjectEvent.id)
    rows = session.execute(
        select(ProjectEvent.reason, count)
        .join(Project, Project.id == ProjectEvent.project_id)
        .where(_unlocks(account, filters), ProjectEvent.reason.is_not(None))
        .group_by(ProjectEvent.reason)
        .order_by(count.desc(), ProjectEvent.reason)
        .limit(TOP_REASONS)
    )
    return Table(
        "reasons",
        _l("Most frequent reasons"),
        (label("return_reason"), _l("Times")),
        [tuple(row) for row in rows],
    )


BUILDERS: tuple[Callable[..., Table], ...] = (
    by_year,
    by_state,
    by_unit,
    by_level,
    by_discipline,
    by_mode,
    published_per_month,
    time_in_queue,
    oldest_waiting,
    send_backs_per_unit,
    send_back_reasons,
)


def build_report(session: Session, account, filters: Filters) -> Report:
    report = Report(filters)
    for build in BUILDERS:
        report.add(build(session, account, filters))
    return report


def filter_options(session: Session, account) -> dict[str, list[tuple[Any, Any]]]:
    """The values the filters offer: the scope's years, the levels, the disciplines."""
    years = session.scalars(
        select(Project.year)
        .where(permissions.project_visibility(account))
        .group_by(Project.year)
        .order_by(Project.year.desc())
    )
    # The account's own committee's list (each tree keeps its own).
    disciplines = session.execute(
        permissions.committee_disciplines(account, active_only=False).with_only_columns(
            Discipline.id, Discipline.name
        )
    )
    return {
        "years": [(year, str(year)) for year in years],
        "levels": [(level.value, level.title) for level in ProjectLevel],
        "disciplines": [tuple(row) for row in disciplines],
    }
