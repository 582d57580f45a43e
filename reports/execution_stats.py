"""统计 · 执行情况: per unit and year, how the units report what they held.

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

One statement, whatever the number of projects, reports or learners: the committee and a
society read their own rows of ``execution_tallies`` (``models.execution_tally``: the same
figures summed ahead per unit, year and due date, kept by database triggers), the due dates
before today taken as past years, this year's past months and this month's past days. With
级别 or 学科 set (the tallies do not hold them) the figures come from one GROUP BY over the
scope's published projects of the year (``ix_projects_committee_stats`` /
``ix_projects_society_stats``) with their reports (by ``project_id``) and the first 上报 of
each (through ``ix_execution_events_report_id_id``); no roster row is read either way.
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
from models.vocabulary import label
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
    """(year, unit id, unit name, due, on time, accepted, learners, credits) per unit and
    year; learners and credits those of the accepted reports, as each report keeps them."""
    unit = unit_column(account)
    first = _first_report()
    accepted = ExecutionReport.state == ExecutionState.ACCEPTED
    per_project = (
        _due_projects(account, filters, today)
        .add_columns(
            Project.year.label("year"),
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
            c.year,
            c.unit_id,
            func.count().label("due"),
            func.sum(c.on_time).label("on_time"),
            func.sum(c.accepted).label("accepted"),
            func.sum(c.learners).label("learners"),
            func.sum(c.credits).label("credits"),
        )
        .group_by(c.year, c.unit_id)
        .subquery("grouped")
    )
    return _named(session, grouped)


def _named(session, grouped):
    """The per-year, per-unit figures of ``grouped`` with each unit's name: the rows
    ``figures`` reads, whichever way they were counted."""
    g = grouped.c
    return session.execute(
        select(
            g.year, g.unit_id, Unit.name, g.due, g.on_time, g.accepted, g.learners, g.credits
        ).join(Unit, Unit.id == g.unit_id)
    )


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


def _tallied_counts(session, account, filters, today):
    """The rows of ``_counts`` from the account's own ``execution_tallies`` rows: one
    range per grain (the key's, or with a year ``ix_execution_tallies_year``'s), then
    summed per year and unit."""
    t = ExecutionTally
    where = [t.scope_unit_id == account.unit_id]
    if filters.year is not None:
        where.append(t.year == filters.year)
    columns = (t.year, t.unit_id, *(getattr(t, f) for f in execution_tally.FIGURES))
    due = union_all(*(select(*columns).where(*where, part) for part in _due_before(today)))
    d = due.subquery("due")
    reports = func.sum(d.c.reports)
    grouped = (
        select(
            d.c.year,
            d.c.unit_id,
            reports.label("due"),
            func.sum(d.c.on_time).label("on_time"),
            func.sum(d.c.accepted).label("accepted"),
            func.sum(d.c.learners).label("learners"),
            func.sum(d.c.credits).label("credits"),
        )
        .group_by(d.c.year, d.c.unit_id)
        .having(reports != 0)
        .subquery("grouped")
    )
    return _named(session, grouped)


def figures(
    session: Session, account, filters: Filters, today: date | None = None
) -> dict[tuple[int, int, str], Figures]:
    """{(year, unit id, unit name): Figures} of the scope; one statement (the tallies
    unless 级别 or 学科 is set)."""
    if account.unit.kind.is_entry:
        return {}
    today = today or beijing_today()
    own = permissions.tally_visibility(account)
    if isinstance(own, False_):
        return {}
    if own is None or filters.crosses_dimensions:
        rows = _counts(session, account, filters, today)
    else:
        rows = _tallied_counts(session, account, filters, today)
    return {
        (year, unit_id, name): Figures(
            int(due), int(on_time or 0), int(accepted or 0), int(learners or 0), float(credits or 0)
        )
        for year, unit_id, name, due, on_time, accepted, learners, credits in rows
    }


def _cells(entry: Figures) -> tuple:
    return (
        entry.due,
        entry.on_time,
        entry.overdue,
        entry.accepted,
        entry.rate,
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


def execution(session: Session, account, filters: Filters, today: date | None = None) -> Table:
    """The 执行情况 table: a row per unit and year (latest year first, most due first),
    then the total."""
    found = figures(session, account, filters, today)
    ordered = sorted(found.items(), key=lambda item: (-item[0][0], -item[1].due, item[0][2]))
    rows = [(name, str(year), *_cells(entry)) for (year, _id, name), entry in ordered]
    if rows:
        total = Figures()
        for entry in found.values():
            total.add(entry)
        rows.append((gettext("Total"), _year(filters), *_cells(total)))
    return Table(
        KEY,
        _l("Execution reports"),
        (unit_header(account), label("year"), *HEADERS),
        rows,
        note=_l(
            "Published projects whose report is due (its due date has passed, reports never"
            " opened included). Overdue: not reported by the due date. Execution rate:"
            " accepted ÷ due. Learners and credits awarded: the rosters of accepted reports."
        ),
    )


def _year(filters: Filters) -> str:
    return str(filters.year) if filters.year is not None else ""


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
