"""统计 · 执行情况: per unit, how the units report what they held.

The projects counted are the published projects of the account's scope
(``permissions.project_visibility``: a society its branches', the committee its tree's;
entry units have no statistics) whose report is due: its due date has passed (today in
Beijing is after it). A project whose report was never opened is due too, on the date its
report would have: its end date + the committee's number of days for the year
(``ExecutionDeadline``, ``DEFAULT_DUE_DAYS`` without one). Of those:

- 按时上报 (on time): the owner unit first reported the report (上报 from 未上报 or 退回修改)
  on or before its due date (Beijing day);
- 逾期 (overdue): the others — reported late, opened but never reported, or never opened;
- 已审核: the report is accepted now; 执行率 = 已审核 ÷ 应报, in percent;
- 学员 and 授予学分: the attended rows and the credits of the rosters of those accepted
  reports (what the committee has checked; a report still under review may change), as
  each report keeps them on its row (``attended_learners``, ``credits_awarded``: counted
  again by ``workflow.execution.roster_write`` at every roster write).

A row per unit (the committee: its societies and issuers; a society: its branches), every
one whether a report of it is due or not (应报 0, 执行率 "—"), so that the rows are the same
from year to year, in the order of the units' names, of the filtered year or of every year
summed; the page shows ``PAGE_SIZE`` units at a time, and its last row is the total of
every unit (not of the page), the workbook every unit and the total. Nothing due at all:
no row (the page says no project matches).

Two statements a page, whatever the number of units, projects, reports or learners: the
page's units and their number (the account's units in name order,
``uq_units_parent_id_name``), then their figures and the total's from their own rows of
``execution_tallies`` (``models.execution_tally``: the figures summed ahead per
unit, year and due date, and per scope under ``TOTAL_UNIT``, kept by database triggers),
the due dates before today taken as past years, this year's past months and this month's
past days. With 级别 or 学科 set (the tallies do not hold them) the figures come from one
GROUP BY over the scope's published projects of the year (``ix_projects_committee_stats``
/ ``ix_projects_society_stats``) with their reports (by ``project_id``) and the first 上报
of each (through ``ix_execution_events_report_id_id``), the page cut from every unit's;
no roster row is read either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import False_

import permissions
from models import (
    ExecutionDeadline,
    ExecutionEvent,
    ExecutionReport,
    ExecutionState,
    Project,
    ProjectState,
    Unit,
    UnitKind,
    execution_tally,
)
from models.base import beijing_today
from models.execution import due_on_sql
from models.execution_tally import ExecutionTally
from reports.sql import day_of
from reports.statistics import Filters, Table, scope, unit_column, unit_header
from workflow import Action

KEY = "execution"
# A report leaves its owner's hands (上报) from these states.
HELD = (ExecutionState.DRAFT.value, ExecutionState.RETURNED.value)


@dataclass
class Figures:
    """One unit's (or the total's) figures of one year."""

    due: int = 0
    on_time: int = 0
    accepted: int = 0
    learners: int = 0
    credits: float = 0.0

    @property
    def overdue(self) -> int:
        return self.due - self.on_time

    @property
    def rate(self) -> float:
        """执行率 in percent, one decimal (0 when nothing is due)."""
        return round(100 * self.accepted / self.due, 1) if self.due else 0.0

    def add(self, other: Figures) -> None:
        self.due += other.due
        self.on_time += other.on_time
        self.accepted += other.accepted
        self.learners += other.learners
        self.credits += other.credits


def due_date():
    """A project's report's due date: the report's own, or (never opened) the date it
    would have (``workflow.execution.open_report`` sets the same)."""
    return func.coalesce(
        ExecutionReport.due_date, due_on_sql(Project.end_date, ExecutionDeadline.days)
    )


def with_due_date(statement):
    """``statement`` over the projects, each with its report (if any) and its committee's
    deadline for the year (if set): what ``due_date()`` reads."""
    return (
        statement.select_from(Project)
        .outerjoin(ExecutionReport, ExecutionReport.project_id == Project.id)
        .outerjoin(
            ExecutionDeadline,
            and_(
                ExecutionDeadline.committee_id == Project.committee_id,
                ExecutionDeadline.year == Project.year,
            ),
        )
    )


def _due_projects(account, filters: Filters, today: date):
    """The scope's published projects whose report is due, with their report (if any)
    and their committee's deadline for the year (if set)."""
    return with_due_date(select()).where(
        scope(account, filters),
        Project.state == ProjectState.PUBLISHED,
        due_date() < today,
    )


def _first_report():
    """When the owner unit first reported the report (None: never)."""
    e = ExecutionEvent
    return (
        select(func.min(e.created_at))
        .where(
            e.report_id == ExecutionReport.id,
            e.action == Action.REPORT.value,
            e.from_state.in_(HELD),
        )
        .scalar_subquery()
    )


def _counts(session, account, filters, today):
    """(unit id, due, on time, accepted, learners, credits) per unit with a report due;
    learners and credits those of the accepted reports, as each report keeps them."""
    unit = unit_column(account)
    first = _first_report()
    accepted = ExecutionReport.state == ExecutionState.ACCEPTED
    per_project = (
        _due_projects(account, filters, today)
        .add_columns(
            unit.label("unit_id"),
            case((day_of(first) <= due_date(), 1), else_=0).label("on_time"),
            case((accepted, 1), else_=0).label("accepted"),
            case((accepted, ExecutionReport.attended_learners), else_=0).label("learners"),
            case((accepted, ExecutionReport.credits_awarded), else_=0.0).label("credits"),
        )
        .subquery("due")
    )
    c = per_project.c
    grouped = (
        select(
            c.unit_id,
            func.count().label("due"),
            func.sum(c.on_time).label("on_time"),
            func.sum(c.accepted).label("accepted"),
            func.sum(c.learners).label("learners"),
            func.sum(c.credits).label("credits"),
        )
        .group_by(c.unit_id)
        .subquery("grouped")
    )
    return session.execute(select(grouped))


def _due_before(today: date) -> list:
    """The tally rows whose due dates all fall before ``today``, each date once, as three
    ranges of the key (scope, grain, bucket): the past years' year rows, this year's past
    months' month rows, this month's past days' rows."""
    t = ExecutionTally
    year, month, day = today.strftime("%Y"), today.strftime("%Y-%m"), today.isoformat()
    return [
        and_(t.grain == execution_tally.YEAR, t.bucket < year),
        and_(t.grain == execution_tally.MONTH, t.bucket >= f"{year}-01", t.bucket < month),
        and_(t.grain == execution_tally.DAY, t.bucket >= f"{month}-01", t.bucket < day),
    ]


def _own_rows(account, filters) -> list:
    t = ExecutionTally
    where = [t.scope_unit_id == account.unit_id]
    if filters.year is not None:
        where.append(t.year == filters.year)
    return where


def _tallied_sums(account, filters, today, unit_ids=None):
    """The figures due before ``today`` of the account's ``execution_tallies`` rows summed
    per shown unit (``TOTAL_UNIT``: the scope's total), of ``unit_ids`` only when given:
    per grain one range of each unit's rows (``ix_execution_tallies_year_unit`` for one
    year, ``ix_execution_tallies_unit_figures`` for every year)."""
    t = ExecutionTally
    where = _own_rows(account, filters)
    if unit_ids is not None:
        where.append(t.unit_id.in_(unit_ids))
    columns = (t.unit_id, *(getattr(t, f) for f in execution_tally.FIGURES))
    due = union_all(*(select(*columns).where(*where, part) for part in _due_before(today)))
    d = due.subquery("due")
    reports = func.sum(d.c.reports)
    return (
        select(
            d.c.unit_id,
            reports.label("due"),
            func.sum(d.c.on_time).label("on_time"),
            func.sum(d.c.accepted).label("accepted"),
            func.sum(d.c.learners).label("learners"),
            func.sum(d.c.credits).label("credits"),
        )
        .group_by(d.c.unit_id)
        .having(reports != 0)
    )


def _figures(row) -> Figures:
    _unit, due, on_time, accepted, learners, credits = row
    return Figures(
        int(due), int(on_time or 0), int(accepted or 0), int(learners or 0), float(credits or 0)
    )


@dataclass
class Shown:
    """What the table shows: its units (one page of them, or all) in the order of their
    names, the scope's total over every unit, and how many units the table has."""

    units: list[tuple[int, str, Figures]]
    total: Figures
    count: int = 0


def _listed(session, account, page: int | None) -> tuple[list, int]:
    """The units the table lists, (id, name) in the order of their names, and how many
    there are: the account's own units (the committee's societies and issuers, a society's
    branches), every one, a report due or not, so that the table's rows are the same
    every year; a page of ``PAGE_SIZE`` of them read from ``uq_units_parent_id_name``
    with their number, or every one (``page=None``)."""
    own = permissions.statistics_units(account)
    query = select(Unit.id, Unit.name).where(own).order_by(Unit.name)
    if page is None:
        rows = session.execute(query).all()
        return rows, len(rows)
    count = select(func.count()).select_from(Unit).where(own).scalar_subquery()
    rows = session.execute(query.add_columns(count).offset(page * PAGE_SIZE).limit(PAGE_SIZE)).all()
    if not rows:  # a page past the last
        return [], session.scalar(select(count))
    return [(unit_id, name) for unit_id, name, _count in rows], rows[0][2]


def _tallied(session, account, filters, today, page: int | None) -> Shown:
    """``Shown`` from the account's own ``execution_tallies`` rows. A page: its units,
    then their figures and the total's in one statement, each unit's few rows and the
    total's own (however many units and projects there are). Every unit (the workbook):
    the units, then every unit's figures."""
    listed, count = _listed(session, account, page)
    ids = None if page is None else [unit_id for unit_id, _name in listed]
    if ids is not None:
        ids.append(execution_tally.TOTAL_UNIT)
    sums = {
        row[0]: _figures(row)
        for row in session.execute(_tallied_sums(account, filters, today, ids))
    }
    units = [(unit_id, name, sums.get(unit_id, Figures())) for unit_id, name in listed]
    return Shown(units, sums.get(execution_tally.TOTAL_UNIT, Figures()), count)


def _counted(session, account, filters, today, page: int | None) -> Shown:
    """``Shown`` from the GROUP BY over the projects (级别 or 学科 set): the page's units
    (or every unit) with their figures, the total that of every unit's."""
    listed, count = _listed(session, account, page)
    counted = {row[0]: _figures(row) for row in _counts(session, account, filters, today)}
    total = Figures()
    for entry in counted.values():
        total.add(entry)
    units = [(unit_id, name, counted.get(unit_id, Figures())) for unit_id, name in listed]
    return Shown(units, total, count)


def shown(
    session: Session,
    account,
    filters: Filters,
    today: date | None = None,
    page: int | None = None,
) -> Shown:
    """The scope's units (page ``page``, 0 the first, or every unit) with their figures,
    and the total; from the tallies unless 级别 or 学科 is set."""
    if account.unit.kind.is_entry:
        return Shown([], Figures())
    today = today or beijing_today()
    own = permissions.tally_visibility(account)
    if isinstance(own, False_):
        return Shown([], Figures())
    if own is None or filters.crosses_dimensions:
        return _counted(session, account, filters, today, page)
    return _tallied(session, account, filters, today, page)


# 执行率 of a unit with no report due: none (not 0 %).
NO_RATE = "—"


def _cells(entry: Figures) -> tuple:
    return (
        entry.due,
        entry.on_time,
        entry.overdue,
        entry.accepted,
        entry.rate if entry.due else NO_RATE,
        entry.learners,
        round(entry.credits, 1),
    )


HEADERS = (
    _l("Reports due"),
    _l("Reported on time"),
    _l("Overdue"),
    _l("Accepted"),
    _l("Execution rate (%)"),
    _l("Learners"),
    _l("Credits awarded"),
)
# The table's units per page: the panel's lists' page.
PAGE_SIZE = 50


@dataclass
class PagedTable(Table):
    """The 执行情况 table: ``page`` (0 the first; None: every row, the workbook) of
    ``pages``. Its last row is the total over every unit."""

    page: int | None = None
    pages: int = 1
    page_size: int = PAGE_SIZE


def execution(
    session: Session,
    account,
    filters: Filters,
    today: date | None = None,
    page: int | None = None,
) -> PagedTable:
    """The 执行情况 table: a row per unit (one page of ``PAGE_SIZE``, or every unit for
    ``page=None``), in the order of their names, of the filtered year or every year, then
    the total of every unit (not of the page alone); no row when nothing is due."""
    found = shown(session, account, filters, today, page)
    rows = []
    if found.total.due:
        rows = [(name, *_cells(entry)) for _id, name, entry in found.units]
        rows.append((gettext("Total"), *_cells(found.total)))
    return PagedTable(
        KEY,
        _l("Execution reports"),
        (unit_header(account), *HEADERS),
        rows,
        note=_l(
            "Published projects whose report is due (its due date has passed, reports never"
            " opened included), per unit, of the year chosen or of every year. Overdue: not"
            " reported by the due date. Execution rate: accepted ÷ due. Learners and credits"
            " awarded: the rosters of accepted reports. The units in the order of their"
            " names, 50 per page; the total is that of every unit."
        ),
        page=page,
        pages=max(1, -(-found.count // PAGE_SIZE)),
        page_size=PAGE_SIZE,
    )


# -- the dashboard's to-do counts ---------------------------------------------------------


def to_do(session: Session, account, today: date | None = None) -> dict[str, int]:
    """The execution reports waiting for ``account``, in one statement:

    - an entry unit: ``to_report``, its published projects whose event has ended and whose
      report is not reported yet (never opened, 未上报 or 退回修改), and ``overdue``, those of
      them past their due date;
    - a society: ``at_society`` (执行情况待审阅); the committee: ``at_committee`` (待审核).
    """
    unit = account.unit
    if unit.kind.is_entry:
        today = today or beijing_today()
        held = or_(ExecutionReport.id.is_(None), ExecutionReport.state.in_(HELD))
        ended = and_(held, Project.end_date < today)
        to_report, overdue = session.execute(
            with_due_date(
                select(
                    func.count().filter(ended), func.count().filter(and_(held, due_date() < today))
                )
            ).where(
                permissions.project_visibility(account), Project.state == ProjectState.PUBLISHED
            )
        ).one()
        return {"to_report": to_report, "overdue": overdue}
    state = (
        ExecutionState.AT_SOCIETY if unit.kind is UnitKind.SOCIETY else ExecutionState.AT_COMMITTEE
    )
    waiting = session.scalar(
        select(func.count())
        .select_from(ExecutionReport)
        .where(permissions.execution_visibility(account), ExecutionReport.state == state)
    )
    return {state.value: waiting}
