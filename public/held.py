"""已举办: what the public catalog says of a published project whose execution report
(执行情况) the committee accepted — that it was held, on which dates, and for how many
learners. Nothing else of the report, and never anything of its roster (names, ID
numbers, units) goes out: the roster's rows are only counted, in the database.

The number of learners is the report's own (学员人数) when it gives one, else the
roster's attended rows as the report keeps them (``attended_learners``, counted again at
every roster write by ``workflow.execution.roster_write``). One statement for any number
of projects (a page of the search or of the API), each report found by its project (the
``project_id`` unique index); no roster row is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from models import ExecutionEvent, ExecutionReport, ExecutionState

ACCEPTED = ExecutionState.ACCEPTED.value


@dataclass(frozen=True)
class Held:
    start_date: date
    end_date: date
    learners: int


def _learners():
    return case(
        (ExecutionReport.learners > 0, ExecutionReport.learners),
        else_=ExecutionReport.attended_learners,
    )


def held_of(session: Session, project_ids: Iterable[int]) -> dict[int, Held]:
    """{project id: Held} of those of ``project_ids`` (published projects) whose report
    is accepted; the others are absent."""
    ids = list(project_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(
            ExecutionReport.project_id,
            ExecutionReport.start_date,
            ExecutionReport.end_date,
            _learners(),
        ).where(ExecutionReport.project_id.in_(ids), ExecutionReport.state == ACCEPTED)
    )
    return {pid: Held(start, end, int(n or 0)) for pid, start, end, n in rows}


def _acceptance_moves():
    """A report's moves into or out of 已审核: the moments its public facts changed."""
    return or_(ExecutionEvent.to_state == ACCEPTED, ExecutionEvent.from_state == ACCEPTED)


def held_with_change(session: Session, project_id: int) -> tuple[Held | None, datetime | None]:
    """One project's Held (or None), and when its report last entered or left 已审核
    (None: never), for the page's Last-Modified; one statement."""
    changed = (
        select(func.max(ExecutionEvent.created_at))
        .where(ExecutionEvent.report_id == ExecutionReport.id, _acceptance_moves())
        .scalar_subquery()
    )
    row = session.execute(
        select(
            ExecutionReport.state,
            ExecutionReport.start_date,
            ExecutionReport.end_date,
            _learners(),
            changed,
        ).where(ExecutionReport.project_id == project_id)
    ).one_or_none()
    if row is None:
        return None, None
    state, start, end, learners, changed_at = row
    held = Held(start, end, int(learners or 0)) if state == ACCEPTED else None
    return held, changed_at


def changed_at_of_project(project_id_column):
    """When the 已举办 of the project ``project_id_column`` (a correlated column) last
    changed — its report's latest move into or out of 已审核 — or NULL: for the API's
    changes feed, where an acceptance changes a published project's public facts."""
    return (
        select(func.max(ExecutionEvent.created_at))
        .join(ExecutionReport, ExecutionReport.id == ExecutionEvent.report_id)
        .where(ExecutionReport.project_id == project_id_column, _acceptance_moves())
        .scalar_subquery()
    )


def projects_changed_since(since: datetime):
    """The ids of the projects whose 已举办 changed at or after ``since`` (a subquery,
    run once: the acceptance moves since then are few)."""
    return (
        select(ExecutionReport.project_id)
        .join(ExecutionEvent, ExecutionEvent.report_id == ExecutionReport.id)
        .where(ExecutionEvent.created_at >= since, _acceptance_moves())
    )


def latest_change(session: Session) -> datetime | None:
    """When any report last entered or left 已审核 (the API list's Last-Modified): the
    newest such event, read backwards along the events' primary key."""
    return session.scalar(
        select(ExecutionEvent.created_at)
        .where(_acceptance_moves())
        .order_by(ExecutionEvent.id.desc())
        .limit(1)
    )


def last_modified(project, changed_at: datetime | None) -> datetime:
    """A project page's Last-Modified: its own last change, or its report's latest move
    into or out of 已审核 when later."""
    if changed_at is None or changed_at < project.updated_at:
        return project.updated_at
    return changed_at
