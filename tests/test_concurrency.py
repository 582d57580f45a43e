"""Compare-and-set: when two people act on one project at once, exactly one
wins and the other is told that the project changed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import workflow
from extensions import db
from models import Project, ProjectEvent, ProjectState, User
from tests.factories import make_project
from tests.races import race
from workflow import Action, ProjectChanged

S = ProjectState


def _events(session, project_id) -> int:
    return session.scalar(select(func.count()).where(ProjectEvent.project_id == project_id))


def test_stale_copy_loses(demo_accounts, session):
    """Two sessions read the project; the first acts and commits; the second,
    acting on what it read, is refused and changes nothing."""
    project = make_project(session, demo_accounts["bma_cardio"], S.AT_SOCIETY)
    session.commit()
    before = _events(session, project.id)
    with Session(db.engine) as first, Session(db.engine) as second:
        mine = first.get(Project, project.id), first.get(User, demo_accounts["bma"].id)
        theirs = second.get(Project, project.id), second.get(User, demo_accounts["bma"].id)
        workflow.apply(first, mine[0], Action.REPORT, mine[1])
        first.commit()
        with pytest.raises(ProjectChanged):
            workflow.apply(second, theirs[0], Action.UNLOCK, theirs[1], "迟到的退回")
        second.rollback()
    session.expire_all()
    assert session.get(Project, project.id).state is S.AT_COMMITTEE
    assert _events(session, project.id) == before + 1


def test_stale_edit_is_refused(demo_accounts, session):
    """An edit saved from a copy read before the society took the project back
    is refused, not silently written over the new state."""
    cardio = demo_accounts["bma_cardio"]
    project = make_project(session, cardio, S.RETURNED)
    session.commit()
    with Session(db.engine) as editor, Session(db.engine) as reviewer:
        form_copy = editor.get(Project, project.id)
        editor_account = editor.get(User, cardio.id)
        editor_account.unit  # noqa: B018 - load before the race
        workflow.apply(
            reviewer,
            reviewer.get(Project, project.id),
            Action.REPORT,
            reviewer.get(User, cardio.id),
        )
        reviewer.commit()
        form_copy.name = "被拒绝的修改"
        with pytest.raises(ProjectChanged):
            workflow.edit(editor, editor_account, form_copy)
        editor.rollback()
    session.expire_all()
    assert session.get(Project, project.id).name != "被拒绝的修改"


@pytest.mark.parametrize("round_", range(3))
def test_two_connections_at_once(demo_accounts, session, backend, round_):
    """Two threads with their own PostgreSQL connections act at the same moment."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers with a database lock; the race needs PostgreSQL")
    project = make_project(session, demo_accounts["bma_cardio"], S.AT_SOCIETY)
    session.commit()
    before = _events(session, project.id)
    outcomes = race(
        Project,
        project.id,
        demo_accounts["bma"].id,
        workflow.apply,
        ProjectChanged,
        {"report": Action.REPORT, "unlock": Action.UNLOCK},
    )
    assert sorted(str(type(v).__name__) for v in outcomes.values()) == ["ProjectChanged", "str"]
    winner = next(name for name, value in outcomes.items() if value == "won")
    session.expire_all()
    expected = S.AT_COMMITTEE if winner == "report" else S.RETURNED
    assert session.get(Project, project.id).state is expected
    assert _events(session, project.id) == before + 1
