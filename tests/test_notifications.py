"""Notifications (消息提醒): who is told about each bulk action, in its
transaction, one message per receiving unit, nobody about a project they may
not see, and a constant number of statements whatever the number of projects."""

from __future__ import annotations

from sqlalchemy import select

import workflow
from models import Message, MessageKind, Project, ProjectState, User
from notifications.wording import sentence
from permissions import project_visibility
from tests.factories import make_project, make_tree
from workflow import Action

S = ProjectState


def messages(session) -> list[Message]:
    return list(session.scalars(select(Message).order_by(Message.id)))


def new_messages(session, before: int) -> list[Message]:
    return list(session.scalars(select(Message).where(Message.id > before).order_by(Message.id)))


def last_id(session) -> int:
    return session.scalar(select(Message.id).order_by(Message.id.desc()).limit(1)) or 0


def told(session, move, *args) -> list[Message]:
    """The messages ``move(session, *args)`` adds, committed: a bulk action of projects
    (``workflow.apply_bulk``) or of execution reports (``execution.move_bulk``)."""
    before = last_id(session)
    move(session, *args)
    session.commit()
    session.expire_all()
    return new_messages(session, before)


def units_told(found: list[Message]) -> dict[int, list[int]]:
    return {m.unit_id: sorted(m.project_ids) for m in found}


def assert_visible_to_every_account(
    session, found: list[Message], model=Project, visibility=project_visibility
) -> None:
    """Each row (a project, or an execution report) of each message is visible to every
    account of its unit (through the same scope the lists use)."""
    for message in found:
        readers = session.scalars(select(User).where(User.unit_id == message.unit_id)).all()
        assert readers, message.unit_id
        for reader in readers:
            seen = session.scalars(
                select(model.id).where(model.id.in_(message.project_ids), visibility(reader))
            ).all()
            assert sorted(seen) == sorted(message.project_ids)


def test_a_branch_reporting_tells_its_society_once_with_the_count(demo_accounts, session):
    cardio = demo_accounts["bma_cardio"]
    ids = [make_project(session, cardio, S.DRAFT).id for _ in range(3)]
    session.commit()
    found = told(session, workflow.apply_bulk, Action.REPORT, cardio, ids)
    assert units_told(found) == {demo_accounts["bma"].unit_id: sorted(ids)}
    (message,) = found
    assert message.kind is MessageKind.REPORTED and message.count == 3
    assert message.read_at is None and message.user_id is None
    assert message.list_endpoint == "review"
    assert message.list_filters["state"] == S.AT_SOCIETY.value
    assert message.list_filters["unit"] == cardio.unit_id
    assert sentence(message.kind, message.actor_name, message.count) == (
        "北京医学会心血管病学分会 上报了 3 个项目"
    )
    assert_visible_to_every_account(session, found)


def test_a_society_or_an_issuer_reporting_tells_the_committee(demo_accounts, session):
    cardio, peds, bma, pumch = (
        demo_accounts["bma_cardio"],
        demo_accounts["bma_peds"],
        demo_accounts["bma"],
        demo_accounts["pumch"],
    )
    at_society = [make_project(session, cardio, S.AT_SOCIETY).id for _ in range(2)]
    at_society.append(make_project(session, peds, S.AT_SOCIETY).id)
    drafts = [make_project(session, pumch, S.DRAFT).id for _ in range(2)]
    session.commit()
    committee = demo_accounts["bjcme"].unit_id

    found = told(session, workflow.apply_bulk, Action.REPORT, bma, at_society)
    assert units_told(found) == {committee: sorted(at_society)}
    assert found[0].list_endpoint == "audit" and "unit" not in found[0].list_filters
    assert sentence(found[0].kind, found[0].actor_name, 3) == "北京医学会 上报了 3 个项目"

    found = told(session, workflow.apply_bulk, Action.REPORT, pumch, drafts)
    assert units_told(found) == {committee: sorted(drafts)}
    assert found[0].list_filters["unit"] == pumch.unit_id
    assert_visible_to_every_account(session, found)


def test_sending_back_tells_each_owner_unit_with_the_reason(demo_accounts, session):
    cardio, peds, bma = demo_accounts["bma_cardio"], demo_accounts["bma_peds"], demo_accounts["bma"]
    mine = [make_project(session, cardio, S.AT_SOCIETY).id for _ in range(2)]
    theirs = [make_project(session, peds, S.AT_SOCIETY).id]
    session.commit()
    found = told(session, workflow.apply_bulk, Action.UNLOCK, bma, mine + theirs, "请补充授课教师")
    assert units_told(found) == {cardio.unit_id: sorted(mine), peds.unit_id: sorted(theirs)}
    assert {m.kind for m in found} == {MessageKind.RETURNED}
    assert {m.reason for m in found} == {"请补充授课教师"}
    assert {m.list_endpoint for m in found} == {"projects"}
    assert {m.list_filters["state"] for m in found} == {S.RETURNED.value}
    assert_visible_to_every_account(session, found)


def test_publishing_tells_the_owners_and_their_societies(demo_accounts, session):
    cardio, peds, acu, pumch = (
        demo_accounts[k] for k in ("bma_cardio", "bma_peds", "tcm_acu", "pumch")
    )
    committee = demo_accounts["bjcme"]
    by_owner = {
        owner.unit_id: [make_project(session, owner, S.AT_COMMITTEE).id for _ in range(n)]
        for owner, n in ((cardio, 2), (peds, 1), (acu, 1), (pumch, 2))
    }
    session.commit()
    every = [i for ids in by_owner.values() for i in ids]
    found = told(session, workflow.apply_bulk, Action.PUBLISH, committee, every)
    expected = dict(by_owner)
    expected[demo_accounts["bma"].unit_id] = sorted(
        by_owner[cardio.unit_id] + by_owner[peds.unit_id]
    )
    expected[demo_accounts["bjtcm"].unit_id] = by_owner[acu.unit_id]
    assert units_told(found) == {k: sorted(v) for k, v in expected.items()}
    # Nobody else: not the committee itself, not a unit of another tree.
    assert committee.unit_id not in units_told(found)
    assert {m.kind for m in found} == {MessageKind.PUBLISHED}
    assert_visible_to_every_account(session, found)


def test_withdrawing_tells_owner_and_society_with_the_reason(demo_accounts, session):
    cardio, committee = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    ids = [make_project(session, cardio, S.PUBLISHED).id for _ in range(2)]
    session.commit()
    found = told(session, workflow.apply_bulk, Action.WITHDRAW, committee, ids, "学分填写有误")
    assert units_told(found) == {
        cardio.unit_id: sorted(ids),
        demo_accounts["bma"].unit_id: sorted(ids),
    }
    assert {m.reason for m in found} == {"学分填写有误"}
    assert {m.kind for m in found} == {MessageKind.WITHDRAWN}
    assert_visible_to_every_account(session, found)


def test_nobody_outside_the_tree_is_told(demo_accounts, session):
    other = make_tree(session, "外")
    session.commit()
    ids = [make_project(session, demo_accounts["bma_cardio"], S.AT_COMMITTEE).id for _ in range(2)]
    session.commit()
    reached = set(
        units_told(told(session, workflow.apply_bulk, Action.PUBLISH, demo_accounts["bjcme"], ids))
    )
    assert reached == {demo_accounts["bma_cardio"].unit_id, demo_accounts["bma"].unit_id}
    assert not reached & {u.unit_id for u in other.values()}


def test_deleting_drafts_tells_nobody(demo_accounts, session):
    cardio = demo_accounts["bma_cardio"]
    ids = [make_project(session, cardio, S.DRAFT).id for _ in range(2)]
    session.commit()
    assert told(session, workflow.apply_bulk, Action.DELETE, cardio, ids) == []


def test_a_rolled_back_action_leaves_no_message(demo_accounts, session):
    cardio = demo_accounts["bma_cardio"]
    ids = [make_project(session, cardio, S.DRAFT).id for _ in range(2)]
    session.commit()
    before = last_id(session)
    workflow.apply_bulk(session, Action.REPORT, cardio, ids)
    session.rollback()
    assert new_messages(session, before) == []


def test_statements_do_not_grow_with_the_projects(demo_accounts, session, count_statements):
    committee = demo_accounts["bjcme"]
    owners = [demo_accounts[k] for k in ("bma_cardio", "bma_peds", "tcm_acu", "pumch")]
    counts = []
    for n in (1, 6):
        ids = [
            make_project(session, owner, S.AT_COMMITTEE).id for owner in owners for _ in range(n)
        ]
        session.commit()
        with count_statements() as counter:
            workflow.apply_bulk(session, Action.PUBLISH, committee, ids)
        session.commit()
        counts.append(counter.count)
    assert counts[0] == counts[1]
