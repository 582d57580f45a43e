"""Bulk actions: eligible rows move, the rest are reported with the reason,
and the number of SQL statements does not grow with the number of ids."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import workflow
from extensions import db
from models import Project, ProjectEvent, ProjectNumberCounter, ProjectState, User
from tests.factories import make_project, make_tree
from workflow import Action, NotAllowed, ProjectNotFound, ReasonRequired

S = ProjectState


def test_mixed_ids_move_the_eligible_and_explain_the_rest(demo_accounts, session):
    cardio, pumch, bjcme = (
        demo_accounts["bma_cardio"],
        demo_accounts["pumch"],
        demo_accounts["bjcme"],
    )
    ready = [make_project(session, cardio, S.AT_COMMITTEE) for _ in range(2)]
    ready.append(make_project(session, pumch, S.AT_COMMITTEE))
    published = make_project(session, pumch, S.PUBLISHED)
    draft = make_project(session, cardio, S.DRAFT)
    foreign = make_project(session, make_tree(session)["issuer"], S.AT_COMMITTEE)
    session.commit()
    missing_id = foreign.id + 1000

    ids = [p.id for p in ready] + [published.id, draft.id, foreign.id, missing_id]
    result = workflow.apply_bulk(session, Action.PUBLISH, bjcme, ids)
    session.commit()

    assert sorted(result.done) == sorted(p.id for p in ready)
    reasons = {error.project_id: error for error in result.skipped}
    assert set(reasons) == {published.id, draft.id, foreign.id, missing_id}
    assert isinstance(reasons[published.id], NotAllowed)
    assert "公布(已通过)" in str(reasons[published.id])
    for hidden in (draft.id, foreign.id, missing_id):
        assert isinstance(reasons[hidden], ProjectNotFound)
        assert "无权" in str(reasons[hidden])
    rows = session.execute(select(Project.id, Project.state).where(Project.id.in_(ids)))
    states = {row.id: row.state for row in rows}
    assert all(states[p.id] is S.PUBLISHED for p in ready)
    assert states[draft.id] is S.DRAFT and states[foreign.id] is S.AT_COMMITTEE
    numbers = session.scalars(select(Project.project_no).where(Project.id.in_(result.done)))
    assert all(numbers)
    published_events = select(func.count()).where(
        ProjectEvent.action == "publish", ProjectEvent.project_id.in_(result.done)
    )
    assert session.scalar(published_events) == 3


def test_project_numbers_are_unique_and_never_reused(demo_accounts, session):
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    first = make_project(session, cardio, S.PUBLISHED)
    number = first.project_no
    workflow.apply(session, first, Action.WITHDRAW, bjcme, "信息有误")
    workflow.apply(session, first, Action.PUBLISH, bjcme)
    assert first.project_no == number  # republishing keeps its number
    workflow.apply(session, first, Action.WITHDRAW, bjcme, "再次撤销")
    workflow.apply(session, first, Action.UNLOCK, bjcme, "请修改")
    workflow.apply(session, first, Action.DELETE, cardio)
    second = make_project(session, cardio, S.PUBLISHED)
    session.commit()
    assert second.project_no != number
    all_numbers = session.scalars(select(Project.project_no).where(Project.project_no.isnot(None)))
    numbers = list(all_numbers)
    assert len(numbers) == len(set(numbers))


def test_withdraw_needs_a_reason(demo_accounts, session):
    project = make_project(session, demo_accounts["pumch"], S.PUBLISHED)
    with pytest.raises(ReasonRequired):
        workflow.apply(session, project, Action.WITHDRAW, demo_accounts["bjcme"], "  ")
    assert project.state is S.PUBLISHED


def test_unlock_reason_is_shown_until_the_project_is_reported_again(demo_accounts, session):
    cardio, bma = demo_accounts["bma_cardio"], demo_accounts["bma"]
    project = make_project(session, cardio, S.AT_SOCIETY)
    workflow.apply(session, project, Action.UNLOCK, bma, "授课教师信息不全")
    assert (project.state, project.return_reason) == (S.RETURNED, "授课教师信息不全")
    workflow.apply(session, project, Action.REPORT, cardio)
    assert (project.state, project.return_reason) == (S.AT_SOCIETY, None)


@pytest.mark.parametrize("action", [Action.REPORT, Action.UNLOCK, Action.PUBLISH, Action.DELETE])
def test_statement_count_does_not_grow_with_ids(demo_accounts, session, count_statements, action):
    cardio, bma, bjcme = demo_accounts["bma_cardio"], demo_accounts["bma"], demo_accounts["bjcme"]
    start, actor = {
        Action.REPORT: (S.AT_SOCIETY, bma),
        Action.UNLOCK: (S.AT_SOCIETY, bma),
        Action.PUBLISH: (S.AT_COMMITTEE, bjcme),
        Action.DELETE: (S.DRAFT, cardio),
    }[action]
    counts = {}
    for size in (1, 5, 40):
        ids = [make_project(session, cardio, start).id for _ in range(size)]
        session.commit()
        for account in demo_accounts.values():
            session.refresh(account)
        with count_statements() as counter:
            result = workflow.apply_bulk(session, action, actor, ids, reason="批量")
        session.commit()
        assert len(result.done) == size
        counts[size] = counter.count
    assert counts[1] == counts[5] == counts[40], counts


def test_publishing_across_years_costs_the_same_statements(
    demo_accounts, session, count_statements
):
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    counts = {}
    for label, years in (("one year", [2026] * 6), ("six years", list(range(2021, 2027)))):
        ids = [make_project(session, cardio, S.AT_COMMITTEE, year=y).id for y in years]
        session.commit()
        session.refresh(bjcme)
        with count_statements() as counter:
            result = workflow.apply_bulk(session, Action.PUBLISH, bjcme, ids)
        session.commit()
        assert sorted(result.done) == sorted(ids)
        counts[label] = counter.count
    assert counts["one year"] == counts["six years"], counts
    numbers = session.scalars(select(Project.project_no).where(Project.state == S.PUBLISHED)).all()
    assert len(numbers) == len(set(numbers))
    assert {n[:4] for n in numbers if "-XH-" in n} >= {str(y) for y in range(2021, 2027)}


@pytest.mark.parametrize("round_", range(2))
def test_two_overlapping_publishes_at_once_number_without_gaps(
    demo_accounts, session, backend, round_
):
    """Two committee sessions publish overlapping sets at the same moment: each
    project is published and numbered once, and the counter handed out exactly
    the numbers given (a row lost to the other session takes none)."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers with a database lock; the race needs PostgreSQL")
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    ids = [make_project(session, cardio, S.AT_COMMITTEE).id for _ in range(12)]
    session.commit()
    counter = select(ProjectNumberCounter.last_value).where(
        ProjectNumberCounter.committee_id == bjcme.unit.committee_id,
        ProjectNumberCounter.year == 2026,
    )
    before = session.scalar(counter) or 0
    engine, barrier = db.engine, threading.Barrier(2, timeout=30)
    done: dict[str, list[int]] = {}

    def publish(name: str, chosen: list[int]) -> None:
        with Session(engine) as own:
            account = own.get(User, bjcme.id)
            account.unit  # noqa: B018 - load before the race
            barrier.wait()
            result = workflow.retrying(
                own, lambda: workflow.apply_bulk(own, Action.PUBLISH, account, chosen)
            )
            done[name] = result.done

    # Overlapping in both directions, so that the row locks are taken in
    # opposite list orders (a deadlock would fail the retry or the join).
    threads = [
        threading.Thread(target=publish, args=("a", ids[:8])),
        threading.Thread(target=publish, args=("b", list(reversed(ids[4:])))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(done["a"] + done["b"]) == sorted(ids)  # each published once
    session.expire_all()
    numbers = list(session.scalars(select(Project.project_no).where(Project.id.in_(ids))))
    assert all(numbers) and len(set(numbers)) == len(ids)
    assert session.scalar(counter) == before + len(ids)  # no number handed out twice or lost
