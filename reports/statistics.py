"""统计分析: figures of the projects an account may see, each one GROUP BY query.

Two sources, the same figures:

- The summary table ``project_tallies`` (``models.tally``), kept by database triggers:
  when the only filter is 年度 (or none), every table but the oldest waiting projects is
  one ``SUM … GROUP BY`` over the account's own tally rows
  (``permissions.tally_visibility``: the committee its committee's rows, a society its
  own) for the year or every year. What it reads is bounded by the number of distinct
  values (states, levels, units, disciplines, months, hours), not by the projects: the
  page costs the same at 2,000 and 200,000 projects.
- The projects and events themselves, when 级别 or 学科 is filtered (the tallies do not
  cross dimensions): each query starts from ``permissions.project_visibility(account)``
  (the committee: its tree without drafts; a society: its branches' projects without
  drafts) and the filters; the covering indexes of migration 0013 serve them. The oldest
  waiting projects always come from the projects (a few rows of an index range).

Rows are aggregated by the database; Python only names the groups, fills in the members
of an enum that have no projects, and reads the two percentiles of time in queue off the
histogram of whole hours (at most a few thousand rows, whatever the number of projects).
Durations are counted in whole hours (rounded half up) from both sources, so the
percentiles are exact to the hour. The number of statements is the same whatever the
number of projects.

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
from sqlalchemy import ColumnElement, Integer, and_, cast, func, select, true, union_all
from sqlalchemy.orm import Session

import permissions
from models import (
    Discipline,
    Project,
    ProjectEvent,
    ProjectLevel,
    ProjectMode,
    ProjectState,
    ProjectTally,
    Unit,
    UnitKind,
    utcnow,
)
from models import tally as tallies
from models.vocabulary import label
from reports.sql import hours, month_of
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
HOURS_PER_DAY = 24

COUNT = _l("Number of projects")
CREDITS = _l("Credits")
T = ProjectTally


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

    @property
    def crosses_dimensions(self) -> bool:
        """级别 or 学科 is set: a figure of one dimension within another, which the
        tallies (one dimension each) do not hold."""
        return self.level is not None or self.discipline_id is not None


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
    # Columns of ``series`` drawn against a second axis of their own (on the right; on top of a
    # horizontal bar chart), headed by their column's title: 学分 run ten times the 项目数, and on
    # one axis the counts were flat bars under the credits.
    secondary: tuple[int, ...] = ()


@dataclass
class Report:
    filters: Filters
    tables: dict[str, Table] = field(default_factory=dict)

    def add(self, table: Table) -> None:
        self.tables[table.key] = table


def scope(account, filters: Filters, *, with_year: bool = True) -> ColumnElement[bool]:
    return and_(permissions.project_visibility(account), filters.condition(with_year=with_year))


def tallied(account, filters: Filters) -> ColumnElement[bool] | None:
    """The tally rows the figures come from, or None when they come from the projects
    (级别 or 学科 filtered, or an account without tallies of its own)."""
    if filters.crosses_dimensions:
        return None
    return permissions.tally_visibility(account)


def _tally_where(where, filters: Filters, dimensions, *, with_year: bool = True):
    parts = [where, T.dimension.in_(dimensions)]
    if with_year and filters.year is not None:
        parts.append(T.year == filters.year)
    return and_(*parts)


def _totals(*keys):
    return (*keys, func.count(Project.id), func.coalesce(func.sum(Project.credits), 0.0))


def _tally_totals(*keys):
    return (*keys, func.sum(T.projects), func.coalesce(func.sum(T.credits), 0.0))


# Rows whose projects came back to zero stay in the table: never a group of them.
_COUNTED = func.sum(T.projects) != 0


def _number(value) -> float:
    """Credits as a number with at most one decimal (a sum of floats, e.g. 4.5 + 3)."""
    return round(float(value or 0), 1)


def _enum_totals(session, account, filters, column, dimension):
    """{member value: (count, credits)} of one enum column."""
    where = tallied(account, filters)
    if where is not None:
        rows = session.execute(
            select(*_tally_totals(T.value))
            .where(_tally_where(where, filters, [dimension]))
            .group_by(T.value)
            .having(_COUNTED)
        )
    else:
        rows = session.execute(
            select(*_totals(column)).where(scope(account, filters)).group_by(column)
        )
    return {str(key): (count, credits) for key, count, credits in rows}


def _by_enum(session, account, filters, name: str, members, title) -> Table:
    """The table ``by_<name>``: a row (headed ``label(name)``) for each of ``members``,
    counted from the tally's dimension of that name (``tallies.<NAME>``) or the projects'
    column (``Project.<name>``)."""
    column, dimension = getattr(Project, name), getattr(tallies, name.upper())
    counts = _enum_totals(session, account, filters, column, dimension)
    rows = [
        (
            member.title,
            *(
                (counts[member.value][0], _number(counts[member.value][1]))
                if member.value in counts
                else (0, 0.0)
            ),
        )
        for member in members
    ]
    return Table(
        f"by_{name}", title, (label(name), COUNT, CREDITS), rows, "bar", (1, 2), secondary=(2,)
    )


def by_year(session: Session, account, filters: Filters) -> Table:
    """Every year of the scope (the year filter does not apply: this is the trend)."""
    where = tallied(account, filters)
    if where is not None:
        # Each project counts once per dimension: the trend is the sum over the states.
        query = (
            select(*_tally_totals(T.year))
            .where(_tally_where(where, filters, [tallies.STATE], with_year=False))
            .group_by(T.year)
            .having(_COUNTED)
            .order_by(T.year)
        )
    else:
        query = (
            select(*_totals(Project.year))
            .where(scope(account, filters, with_year=False))
            .group_by(Project.year)
            .order_by(Project.year)
        )
    return Table(
        "by_year",
        _l("By year"),
        (label("year"), COUNT, CREDITS),
        [(str(year), count, _number(credits)) for year, count, credits in session.execute(query)],
        "bar",
        (1, 2),
        _l("Every year, with the other filters."),
        secondary=(2,),
    )


def by_state(session, account, filters) -> Table:
    members = [s for s in ProjectState if s is not ProjectState.DRAFT]
    return _by_enum(session, account, filters, "state", members, _l("By status"))


def by_level(session, account, filters) -> Table:
    return _by_enum(session, account, filters, "level", list(ProjectLevel), _l("By level"))


def by_mode(session, account, filters) -> Table:
    return _by_enum(session, account, filters, "mode", list(ProjectMode), _l("By mode"))


def unit_column(account):
    """The unit a project is counted under: for the committee its society (an
    issuer's project has none: the issuer itself); for a society its branch.
    (``models.tally`` counts the ``unit`` and ``send_back_unit`` rows the same way.)"""
    if account.unit.kind is UnitKind.COMMITTEE:
        return func.coalesce(Project.society_id, Project.owner_unit_id)
    return Project.owner_unit_id


def unit_header(account):
    if account.unit.kind is UnitKind.COMMITTEE:
        return _l("Society or certificate-issuing unit")
    return UnitKind.BRANCH.title


def _named(session, grouped, names):
    """The grouped (key, count, credits) rows with the name of each key, most first.
    Grouping before joining the names lets the planner walk the rows once, then probe
    each name by key."""
    count, credits = grouped.c[1], grouped.c[2]
    return session.execute(
        select(names.name, count, credits)
        .join(names, names.id == grouped.c.key)
        .order_by(count.desc(), names.name)
    )


def _named_totals(session, account, filters, key, dimension, names):
    """Totals grouped by ``key`` (projects) or by the tally ``dimension``, then named."""
    where = tallied(account, filters)
    if where is not None:
        grouped = (
            select(*_tally_totals(cast(T.value, Integer).label("key")))
            .where(_tally_where(where, filters, [dimension]))
            .group_by(T.value)
            .having(_COUNTED)
            .subquery("grouped")
        )
    else:
        grouped = (
            select(*_totals(key.label("key")))
            .where(scope(account, filters))
            .group_by(key)
            .subquery("grouped")
        )
    return _named(session, grouped, names)


def by_unit(session, account, filters) -> Table:
    rows = _named_totals(session, account, filters, unit_column(account), tallies.UNIT, Unit)
    return Table(
        "by_unit",
        _l("By unit"),
        (unit_header(account), COUNT, CREDITS),
        [(name, count, _number(credits)) for name, count, credits in rows],
        "hbar",
        (1, 2),
        secondary=(2,),
    )


def by_discipline(session, account, filters) -> Table:
    # "+ 0": without table statistics SQLite prefers walking ix_projects_discipline_id
    # (rows already in group order) over every year to the year's range of
    # ix_projects_committee_stats; an expression key cannot use the former.
    key = Project.discipline_id + 0
    rows = _named_totals(session, account, filters, key, tallies.DISCIPLINE, Discipline)
    return Table(
        "by_discipline",
        _l("By discipline"),
        (label("discipline"), COUNT, CREDITS),
        [(name, count, _number(credits)) for name, count, credits in rows],
        "hbar",
        (1, 2),
        secondary=(2,),
    )


def published_per_month(session, account, filters) -> Table:
    where = tallied(account, filters)
    if where is not None:
        query = (
            select(*_tally_totals(T.value))
            .where(_tally_where(where, filters, [tallies.MONTH]))
            .group_by(T.value)
            .having(_COUNTED)
            .order_by(T.value)
        )
    else:
        month = month_of(Project.published_at).label("month")
        query = (
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
        [(month, count, _number(credits)) for month, count, credits in session.execute(query)],
        "line",
        (1,),
        _l("Projects now published, by the month (Beijing time) they were published."),
    )


# -- time in queue ---------------------------------------------------------------


def _durations(account, filters):
    """(queue state, hours) of every report that has been decided: the time from the
    上报 event to the next move of the same project out of that state, in whole hours
    (as ``models.tally`` counts them)."""
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
            hours(events.c.created_at, events.c.next_at).label("hours"),
        )
        .where(
            events.c.action == Action.REPORT.value,
            events.c.next_at.is_not(None),
            events.c.next_from == events.c.to_state,
        )
        .subquery("durations")
    )


def _histogram(session, account, filters) -> dict[str, dict[int, int]]:
    """{queue state: {hours: decisions}}, one GROUP BY of the tallies or the events."""
    where = tallied(account, filters)
    found: dict[str, dict[int, int]] = {}
    if where is not None:
        by_dimension = {tallies.queue_dimension(state.value): state.value for state in QUEUES}
        rows = session.execute(
            select(T.dimension, T.value, func.sum(T.projects))
            .where(_tally_where(where, filters, list(by_dimension)))
            .group_by(T.dimension, T.value)
            .having(_COUNTED)
        )
        for dimension, value, n in rows:
            found.setdefault(by_dimension[dimension], {})[int(value)] = int(n)
        return found
    d = _durations(account, filters).c
    for queue, value, n in session.execute(
        select(d.queue, d.hours, func.count()).group_by(d.queue, d.hours)
    ):
        found.setdefault(queue, {})[int(value)] = int(n)
    return found


def _interpolate(values: dict[int, float], n: int, share: tuple[int, int]) -> float:
    """percentile_cont: linear interpolation between the two ranks around share·(n−1),
    in integers so that no rounding picks another rank."""
    numerator, denominator = share
    low, remainder = divmod(numerator * (n - 1), denominator)
    if remainder == 0:
        return values[low]
    return values[low] + remainder / denominator * (values[low + 1] - values[low])


def percentiles(histogram: dict[int, int]) -> tuple[int, float, float]:
    """(decisions, median, 90th percentile) in days, as percentile_cont over every
    decision's hours: the ranks each percentile needs are read off the cumulative
    counts of the (at most a few thousand) distinct hours."""
    n = sum(histogram.values())
    if n == 0:
        return 0, 0.0, 0.0
    wanted = set()
    for numerator, denominator in (MEDIAN, P90):
        low = numerator * (n - 1) // denominator
        wanted |= {low, min(low + 1, n - 1)}
    values: dict[int, float] = {}
    first = 0
    for value in sorted(histogram):
        last = first + histogram[value]
        for rank in wanted:
            if first <= rank < last:
                values[rank] = value / HOURS_PER_DAY
        first = last
    return n, _interpolate(values, n, MEDIAN), _interpolate(values, n, P90)


def time_in_queue(session, account, filters) -> Table:
    histogram = _histogram(session, account, filters)
    rows = []
    for state, kind in QUEUES.items():
        n, median, p90 = percentiles(histogram.get(state.value, {}))
        rows.append((kind.title, n, round(median, 1), round(p90, 1)))
    return Table(
        "time_in_queue",
        _l("Time in queue"),
        (_l("Reviewed by"), _l("Decisions"), _l("Median (days)"), _l("90th percentile (days)")),
        rows,
        "bar",
        (2, 3),
        _l(
            "Days from reporting to the next decision (reported on, sent back or published),"
            " each counted in whole hours."
        ),
    )


def _waiting_years(session, account, filters) -> list[int | None]:
    """The years whose oldest waiting projects are looked at: the filtered year, or every
    year in which the scope's tallies count a waiting project (a statement over the
    tallies, whatever the number of projects); ``[None]`` (no split by year) for an
    account without tallies."""
    if filters.year is not None:
        return [filters.year]
    where = permissions.tally_visibility(account)
    if where is None:
        return [None]
    waiting = [state.value for state in QUEUES]
    return list(
        session.scalars(
            select(T.year)
            .where(where, T.dimension == tallies.STATE, T.value.in_(waiting))
            .group_by(T.year)
            .having(_COUNTED)
            .order_by(T.year)
        )
    )


def oldest_waiting(session, account, filters, now: datetime | None = None) -> Table:
    """The projects waiting longest for a reviewer. One query: per queue and year the
    oldest few (each the first rows of an ``ix_projects_<scope>_state_year_reported``
    range, not a sort of every waiting project), then the oldest of those."""
    columns = (
        Project.id.label("id"),
        Project.name.label("name"),
        Project.owner_unit_id.label("owner_unit_id"),
        Project.state.label("state"),
        Project.reported_at.label("reported_at"),
    )
    years = _waiting_years(session, account, filters)
    parts = [
        select(
            *select(*columns)
            .where(
                scope(account, filters),
                Project.state == state,
                true() if year is None else Project.year == year,
            )
            .order_by(Project.reported_at, Project.id)
            .limit(OLDEST_WAITING)
            .subquery()
            .c
        )
        for state in QUEUES
        for year in years
    ]
    if not parts:
        return _oldest_table([], now)
    waiting = union_all(*parts).subquery("waiting")
    rows = session.execute(
        select(waiting.c.name, Unit.name, waiting.c.state, waiting.c.reported_at)
        .join(Unit, Unit.id == waiting.c.owner_unit_id)
        .order_by(waiting.c.reported_at, waiting.c.id)
        .limit(OLDEST_WAITING)
    )
    return _oldest_table(rows, now)


def _oldest_table(rows, now: datetime | None) -> Table:
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
    where = tallied(account, filters)
    if where is not None:
        grouped = (
            select(cast(T.value, Integer).label("key"), func.sum(T.projects).label("n"))
            .where(_tally_where(where, filters, [tallies.SEND_BACK_UNIT]))
            .group_by(T.value)
            .having(_COUNTED)
            .subquery("grouped")
        )
    else:
        key = unit_column(account)
        grouped = (
            select(key.label("key"), func.count(ProjectEvent.id).label("n"))
            .select_from(ProjectEvent)
            .join(Project, Project.id == ProjectEvent.project_id)
            .where(_unlocks(account, filters))
            .group_by(key)
            .subquery("grouped")
        )
    rows = session.execute(
        select(Unit.name, grouped.c.n)
        .join(Unit, Unit.id == grouped.c.key)
        .order_by(grouped.c.n.desc(), Unit.name)
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
    where = tallied(account, filters)
    if where is not None:
        count = func.sum(T.projects)
        query = (
            select(T.value, count)
            .where(_tally_where(where, filters, [tallies.REASON]))
            .group_by(T.value)
            .having(_COUNTED)
            .order_by(count.desc(), T.value)
        )
    else:
        count = func.count(ProjectEvent.id)
        query = (
            select(ProjectEvent.reason, count)
            .join(Project, Project.id == ProjectEvent.project_id)
            .where(_unlocks(account, filters), ProjectEvent.reason.is_not(None))
            .group_by(ProjectEvent.reason)
            .order_by(count.desc(), ProjectEvent.reason)
        )
    rows = session.execute(query.limit(TOP_REASONS))
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
    where = permissions.tally_visibility(account)
    if where is not None:
        years = session.scalars(
            select(T.year)
            .where(where, T.dimension == tallies.STATE)
            .group_by(T.year)
            .having(_COUNTED)
            .order_by(T.year.desc())
        )
    else:
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
