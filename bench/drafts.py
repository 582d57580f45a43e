"""A branch's bulk 上报 of many drafts, timed, on the demo tree: what ``bench.rules`` (the
filing rules on ÷ off) and ``bench.calendar`` (the filing windows on ÷ off) share.

The drafts are created through the workflow engine; after each timed report they are put
back by a direct UPDATE (benchmark databases only: the application never sets a state).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import delete, event, select, text, update

from bench.common import demo_app
from bench.database import fresh_database


@contextlib.contextmanager
def demo_session(kind: str, label: str) -> Iterator:
    """Yield a session, inside an app context, on a fresh database of ``kind`` holding the
    demo data; the engine disposed and the database dropped on exit."""
    from extensions import db

    with fresh_database(kind, label) as url:
        app = demo_app(url)
        with app.app_context():
            try:
                yield db.session
            finally:
                db.session.remove()
                db.engine.dispose()


def create(session, owner, year: int, rows: int, fields) -> list[int]:
    """``rows`` drafts of ``year`` created by ``owner`` (the test factories' project: a
    society class I course, 12 theory hours, 4 credits, ``owner``'s unit organising), ``fields(i)``
    giving the i-th draft's own fields (its name, principal, dates, lecturers…); their
    ids. ``ANALYZE``d on PostgreSQL, so that the plans see them."""
    import workflow
    from models import Discipline, Project
    from tests.factories import project_fields

    discipline = session.scalar(select(Discipline).limit(1))
    ids = []
    for i in range(rows):
        values = project_fields(session, owner, year=year, discipline=discipline, **fields(i))
        project = Project(**values)
        workflow.create(session, owner, project)
        ids.append(project.id)
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()
    return ids


def two_days(start: date) -> dict:
    """The start and end dates of a course held on ``start`` and the day after."""
    return {"start_date": start, "end_date": start + timedelta(days=1)}


def reset(session, ids) -> None:
    """Put the drafts ``ids`` back: not reported, no warnings."""
    from models import Project, ProjectState, ProjectWarning

    session.execute(
        update(Project.__table__)
        .where(Project.id.in_(ids))
        .values(state=ProjectState.DRAFT.value, reported_at=None)
    )
    session.execute(delete(ProjectWarning).where(ProjectWarning.project_id.in_(ids)))
    session.commit()
    session.expire_all()


class Reporter:
    """Times ``owner``'s bulk 上报 of drafts through ``workflow.apply_bulk`` and counts its
    statements; each report is committed, checked (every row moved) and reset."""

    def __init__(self, session, owner):
        self.session, self.owner = session, owner
        self.statements: list[str] = []
        event.listen(
            session.get_bind(), "before_cursor_execute", lambda *a: self.statements.append("x")
        )

    def report(self, ids: list[int]) -> tuple[float, int]:
        """(seconds, statements) of one bulk 上报 of ``ids``, put back afterwards."""
        from workflow import Action, apply_bulk

        self.session.refresh(self.owner)
        self.statements.clear()
        started = time.perf_counter()
        result = apply_bulk(self.session, Action.REPORT, self.owner, ids)
        self.session.commit()
        elapsed = time.perf_counter() - started
        assert len(result.done) == len(ids), result.skipped[:3]
        statements = len(self.statements)
        reset(self.session, ids)
        return elapsed, statements
