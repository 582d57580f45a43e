"""The engine's extension points: a ``checking`` receiver holds rows back
(reported as skipped, nothing written for them), a ``moved`` receiver is told
exactly what moved, in the same transaction, and neither adds statements per
row."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import func, select

import workflow
from models import Project, ProjectEvent, ProjectState
from tests.factories import make_project
from workflow import Action, NotAllowed, hooks

S = ProjectState


@contextmanager
def connected(signal, receiver):
    signal.connect(receiver)
    try:
        yield
    finally:
        signal.disconnect(receiver)


def test_a_check_holds_rows_back_and_the_rest_move(demo_accounts, session):
    cardio, bma = demo_accounts["bma_cardio"], demo_accounts["bma"]
    projects = [make_project(session, cardio, S.AT_SOCIETY) for _ in range(3)]
    session.commit()
    held = projects[1]

    def hold(action, *, session, account, rows):
        assert action is Action.REPORT and account is bma
        return {r.id: NotAllowed("规则不允许", r.id, r.name) for r in rows if r.id == held.id}

    reported = (
        select(func.count())
        .select_from(ProjectEvent)
        .where(ProjectEvent.project_id == held.id, ProjectEvent.action == Action.REPORT.value)
    )
    before = session.scalar(reported)
    with connected(hooks.checking, hold):
        result = workflow.apply_bulk(session, Action.REPORT, bma, [p.id for p in projects])
    session.commit()

    assert sorted(result.done) == sorted(p.id for p in projects if p is not held)
    assert [(e.project_id, str(e)) for e in result.skipped] == [(held.id, "规则不允许")]
    session.refresh(held)
    assert held.state == S.AT_SOCIETY
    assert session.scalar(reported) == before


def test_moved_receivers_see_each_move_before_the_commit(demo_accounts, session):
    cardio, bma = demo_accounts["bma_cardio"], demo_accounts["bma"]
    projects = [make_project(session, cardio, S.AT_SOCIETY) for _ in range(2)]
    session.commit()
    told = []

    def listen(action, *, session, account, moves, reason):
        # Same transaction, not yet committed: the receiver's session already
        # sees the new states.
        states = session.execute(
            select(Project.state).where(Project.id.in_([m.project_id for m in moves]))
        ).scalars()
        assert set(states) == {S.RETURNED}
        told.extend((m.project_id, m.source, m.target, reason) for m in moves)

    with connected(hooks.moved, listen):
        workflow.apply_bulk(session, Action.UNLOCK, bma, [p.id for p in projects], "请补充")
    session.commit()

    assert sorted(told) == sorted(
        (p.id, S.AT_SOCIETY.value, S.RETURNED.value, "请补充") for p in projects
    )


def test_receivers_add_no_statement_per_row(demo_accounts, session, count_statements):
    cardio, bma = demo_accounts["bma_cardio"], demo_accounts["bma"]
    counts = []
    for n in (1, 8):
        ids = [make_project(session, cardio, S.AT_SOCIETY).id for _ in range(n)]
        session.commit()
        with (
            connected(hooks.checking, lambda a, **kw: {}),
            connected(hooks.moved, lambda a, **kw: None),
            count_statements() as counter,
        ):
            workflow.apply_bulk(session, Action.REPORT, bma, ids)
        session.commit()
        counts.append(counter.count)
    assert counts[0] == counts[1]
