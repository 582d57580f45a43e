"""The committee's rules around execution reports (执行情况).

- Which of a unit's reports are overdue (``overdue_reports``): the filing rule
  "overdue execution reports" (``workflow.filing_rules.OverdueReports``) reads it
  when the unit reports a new project.
- 撤销公布 of a project whose report is accepted (已审核) sets the report back to
  modifiable in the same transaction, through the engine (``send_back_withdrawn``,
  a receiver of ``hooks.moved``): its certificates are revoked as the report's
  send-back revokes them (``certificates.issuing``). Deleting a project that has
  a report is refused (``hold_projects``, a receiver of ``hooks.checking``), and
  a report whose project is not published cannot be reported or accepted
  (``hold_unpublished``, a receiver of ``hooks.execution_checking``). All are
  connected by ``receivers``.
- The committee's number of days after a project's end date by which its report
  is due, per year (``set_due_days``): stored, and carried over to the due dates
  of the reports not yet accepted.

Each costs a constant number of statements, whatever the number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from models import (
    ExecutionDeadline,
    ExecutionReport,
    ExecutionState,
    Project,
    ProjectState,
)
from models.execution import due_on, due_on_sql
from workflow import execution
from workflow.errors import NotAllowed
from workflow.transitions import Action

E = ExecutionState
# Held by the owner unit: not yet reported upward.
NOT_REPORTED = (E.DRAFT, E.RETURNED)

NOT_PUBLISHED = _l(
    "The project's publication was withdrawn: its execution report cannot be reported or"
    " accepted until the project is published again."
)
HAS_REPORT = _l("The project has an execution report and cannot be deleted.")


# -- overdue reports --------------------------------------------------------------------------
def overdue_reports(
    session: Session, unit_ids: Iterable[int], before: date
) -> dict[int, list[tuple[date, int]]]:
    """The overdue reports of each unit among ``unit_ids`` due before ``before``:
    ``{unit_id: [(due date, how many), …]}``, earliest first.

    A report is overdue when its project is published and the report is not
    reported upward: none opened yet (then it is due ``due_days`` after the
    project's end date, the committee's setting for the project's year), or
    opened and held by the unit (未上报, 退回修改; its own due date). One
    statement: the unit's projects grouped by their dates."""
    units = sorted(set(unit_ids))
    if not units:
        return {}
    stmt = (
        select(
            Project.owner_unit_id,
            ExecutionReport.due_date,
            Project.end_date,
            ExecutionDeadline.days,
            func.count().label("count"),
        )
        .select_from(Project)
        .outerjoin(ExecutionReport, ExecutionReport.project_id == Project.id)
        .outerjoin(
            ExecutionDeadline,
            (ExecutionDeadline.committee_id == Project.committee_id)
            & (ExecutionDeadline.year == Project.year),
        )
        .where(
            Project.owner_unit_id.in_(units),
            Project.state == ProjectState.PUBLISHED,
            or_(ExecutionReport.id.is_(None), ExecutionReport.state.in_(NOT_REPORTED)),
            # A report is due on or after its project's end date: a first sieve.
            func.coalesce(ExecutionReport.due_date, Project.end_date) < before,
        )
        .group_by(
            Project.owner_unit_id,
            ExecutionReport.due_date,
            Project.end_date,
            ExecutionDeadline.days,
        )
    )
    counted: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for row in session.execute(stmt):
        due = row.due_date or due_on(row.end_date, row.days)
        if due < before:
            counted[row.owner_unit_id][due] += row.count
    return {unit: sorted(dues.items()) for unit, dues in counted.items()}


# -- 撤销公布 and deleting a project with a report -----------------------------------------------
def hold_projects(action, *, session, account, rows):
    """Receiver of ``hooks.checking`` (connected by ``receivers``): hold back the
    deletion of a project that has a report (a project withdrawn and returned
    to its unit). One statement."""
    if action is not Action.DELETE or not rows:
        return {}
    names = {row.id: row.name for row in rows}
    stmt = select(ExecutionReport.project_id).where(ExecutionReport.project_id.in_(sorted(names)))
    return {
        project_id: NotAllowed(HAS_REPORT, project_id, names[project_id])
        for project_id in session.scalars(stmt)
    }


def send_back_withdrawn(action, *, session, account, moves, reason) -> None:
    """Receiver of ``hooks.moved``: 撤销公布 sets the accepted reports of the
    withdrawn projects back to modifiable, through the engine, with the
    withdrawal's reason (the report's certificates are revoked by that move)."""
    if action is not Action.WITHDRAW or not moves:
        return
    accepted = session.scalars(
        select(ExecutionReport.id).where(
            ExecutionReport.project_id.in_(sorted(m.project_id for m in moves)),
            ExecutionReport.state == E.ACCEPTED,
        )
    ).all()
    if accepted:
        execution.move_bulk(
            session, Action.UNLOCK, account, accepted, reason=str(withdrawn_reason(reason))
        )


def withdrawn_reason(reason: str | None):
    return _l("The project's publication was withdrawn: %(reason)s", reason=reason or "")


def hold_unpublished(action, *, session, account, rows):
    """Receiver of ``hooks.execution_checking``: a report whose project is not
    published (its publication withdrawn) is neither reported nor accepted. One
    statement."""
    if action not in (Action.REPORT, Action.ACCEPT) or not rows:
        return {}
    names = {row.id: row.name for row in rows}
    stmt = (
        select(ExecutionReport.id)
        .join(Project, Project.id == ExecutionReport.project_id)
        .where(ExecutionReport.id.in_(sorted(names)), Project.state != ProjectState.PUBLISHED)
    )
    return {
        report_id: NotAllowed(NOT_PUBLISHED, report_id, names[report_id])
        for report_id in session.scalars(stmt)
    }


# -- the committee's due days -------------------------------------------------------------------
MIN_DUE_DAYS, MAX_DUE_DAYS = 1, 365


def set_due_days(session: Session, committee_id: int, year: int, days: int) -> int:
    """Reports of ``committee_id``'s projects of ``year`` are due ``days`` after
    the project's end date: for the reports opened from now on and for those
    already opened and not yet accepted (their due dates updated in one
    statement). How many reports' due dates were set; flushes, never commits."""
    days = int(days)
    if not MIN_DUE_DAYS <= days <= MAX_DUE_DAYS:
        raise ValueError(f"due days out of range: {days}")
    stored = session.get(ExecutionDeadline, (committee_id, year))
    if stored is None:
        session.add(ExecutionDeadline(committee_id=committee_id, year=year, days=days))
    else:
        stored.days = days
    session.flush()
    end_date = (
        select(Project.end_date).where(Project.id == ExecutionReport.project_id).scalar_subquery()
    )
    table = ExecutionReport.__table__
    result = session.execute(
        update(table)
        .where(
            table.c.committee_id == committee_id,
            table.c.year == year,
            table.c.state != E.ACCEPTED.value,
        )
        .values(due_date=due_on_sql(end_date, days))
    )
    return result.rowcount


__all__ = [
    "hold_projects",
    "hold_unpublished",
    "overdue_reports",
    "send_back_withdrawn",
    "set_due_days",
]
