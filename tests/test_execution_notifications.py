"""执行情况 notices: a bulk 上报所选, 设为可修改 or 审核通过 of execution reports tells the
units the project notices would (one message per receiving unit, naming the count and
the reason), in the report's own words, with a link that opens the 执行情况 list where
the reports now wait; nobody else, and a constant number of statements."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import workflow
from models import (
    ExecutionReport,
    ExecutionState,
    Message,
    MessageKind,
    OutboxMail,
    ProjectState,
    UnitKind,
    User,
)
from models.message import MessageSubject
from notifications.wording import sentence
from permissions import execution_visibility
from tests.admin.conftest import own_context_browser
from tests.factories import make_project, make_tree
from tests.test_notifications import assert_visible_to_every_account as assert_visible
from tests.test_notifications import last_id, told, units_told
from workflow import Action, execution

E = ExecutionState


def published_reports(session, owner, n: int) -> list[int]:
    ids = []
    for _ in range(n):
        project = make_project(session, owner, ProjectState.PUBLISHED)
        ids.append(execution.open_report(session, owner, project).id)
    session.commit()
    return ids


def reports_at(session, demo_accounts, owner_key: str, state: E, n: int) -> list[int]:
    """``n`` reports of ``owner_key`` moved up the chain to ``state``."""
    owner = demo_accounts[owner_key]
    ids = published_reports(session, owner, n)
    if state is E.DRAFT:
        return ids
    execution.move_bulk(session, Action.REPORT, owner, ids)
    if state is E.AT_COMMITTEE and owner.unit.kind is UnitKind.BRANCH:
        execution.move_bulk(session, Action.REPORT, demo_accounts["bma"], ids)
    session.commit()
    return ids


def new_messages(session, before: int) -> list[Message]:
    session.expire_all()
    return list(session.scalars(select(Message).where(Message.id > before).order_by(Message.id)))


def text(message: Message) -> str:
    return sentence(message.kind, message.actor_name, message.count, message.subject)


def assert_visible_to_every_account(session, found: list[Message]) -> None:
    """Each report of each message is one every account of its unit may see."""
    assert_visible(session, found, ExecutionReport, execution_visibility)


def opened_list(app, username: str, message: Message, names: list[str]):
    """The receiving account opens the message: it lands on the 执行情况 list, which
    shows the reports."""
    browser = own_context_browser(app)
    assert browser.login(username).status_code == 302
    response = browser.get(f"/admin/messages/{message.id}/open")
    assert response.status_code == 302
    location = response.headers["Location"]
    page = browser.get(location)
    assert page.status_code == 200, location
    html = page.get_data(as_text=True)
    for name in names:
        assert name in html, (name, location)
    return location


def test_a_branch_reporting_tells_its_society_once(app, demo_accounts, session):
    cardio = demo_accounts["bma_cardio"]
    ids = published_reports(session, cardio, 2)
    found = told(session, execution.move_bulk, Action.REPORT, cardio, ids)
    assert units_told(found) == {demo_accounts["bma"].unit_id: sorted(ids)}
    (message,) = found
    assert message.kind is MessageKind.REPORTED and message.count == 2
    assert message.subject is MessageSubject.EXECUTIONS
    assert message.list_endpoint == "execution_review"
    assert message.list_filters == {
        "state": E.AT_SOCIETY.value,
        "unit": cardio.unit_id,
        "year": 2026,
    }
    assert text(message) == "北京医学会心血管病学分会 上报了 2 份执行情况"
    assert str(message.title) == "执行情况上报"
    assert_visible_to_every_account(session, found)
    names = [p["name"] for p in message.projects]
    location = opened_list(app, "bma", message, names)
    assert location.startswith("/admin/execution-review/")
    # The message belongs to the society: the branch cannot open it.
    branch = own_context_browser(app)
    branch.login("bma_cardio")
    assert branch.get(f"/admin/messages/{message.id}/open").status_code == 404


def test_a_society_or_an_issuer_reporting_tells_the_committee(app, demo_accounts, session):
    committee = demo_accounts["bjcme"]
    at_society = reports_at(session, demo_accounts, "bma_cardio", E.AT_SOCIETY, 2)
    at_society += reports_at(session, demo_accounts, "bma_peds", E.AT_SOCIETY, 1)
    drafts = published_reports(session, demo_accounts["pumch"], 2)

    found = told(session, execution.move_bulk, Action.REPORT, demo_accounts["bma"], at_society)
    assert units_told(found) == {committee.unit_id: sorted(at_society)}
    (message,) = found
    assert message.list_endpoint == "execution_audit"
    assert message.list_filters == {"state": E.AT_COMMITTEE.value, "year": 2026}
    assert text(message) == "北京医学会 上报了 3 份执行情况"
    opened_list(app, "bjcme", message, [p["name"] for p in message.projects])

    found = told(session, execution.move_bulk, Action.REPORT, demo_accounts["pumch"], drafts)
    assert units_told(found) == {committee.unit_id: sorted(drafts)}
    assert found[0].list_filters["unit"] == demo_accounts["pumch"].unit_id
    assert_visible_to_every_account(session, found)
    location = opened_list(app, "bjcme", found[0], [p["name"] for p in found[0].projects])
    assert location.startswith("/admin/execution-audit/")


def test_sending_back_tells_each_owner_unit_with_the_reason(app, demo_accounts, session):
    cardio, peds = demo_accounts["bma_cardio"], demo_accounts["bma_peds"]
    mine = reports_at(session, demo_accounts, "bma_cardio", E.AT_SOCIETY, 2)
    theirs = reports_at(session, demo_accounts, "bma_peds", E.AT_SOCIETY, 1)
    found = told(
        session,
        execution.move_bulk,
        Action.UNLOCK,
        demo_accounts["bma"],
        mine + theirs,
        "学员名单缺考勤",
    )
    assert units_told(found) == {cardio.unit_id: sorted(mine), peds.unit_id: sorted(theirs)}
    assert {m.kind for m in found} == {MessageKind.RETURNED}
    assert {m.reason for m in found} == {"学员名单缺考勤"}
    assert {m.list_endpoint for m in found} == {"executions"}
    assert {m.list_filters["state"] for m in found} == {E.RETURNED.value}
    assert all("unit" not in m.list_filters for m in found)
    assert text(found[0]) == "北京医学会 退回修改了 2 份执行情况"
    assert_visible_to_every_account(session, found)
    location = opened_list(app, "bma_cardio", found[0], [p["name"] for p in found[0].projects])
    assert location.startswith("/admin/executions/")

    # The committee sends back from 已上报市继委: the issuer is told too.
    pumch = reports_at(session, demo_accounts, "pumch", E.AT_COMMITTEE, 2)
    (message,) = told(
        session, execution.move_bulk, Action.UNLOCK, demo_accounts["bjcme"], pumch, "请补充讲义"
    )
    assert (message.unit_id, message.count, message.reason) == (
        demo_accounts["pumch"].unit_id,
        2,
        "请补充讲义",
    )


def test_accepting_tells_the_owner_and_a_branchs_society(app, demo_accounts, session):
    cardio, pumch = demo_accounts["bma_cardio"], demo_accounts["pumch"]
    branch_reports = reports_at(session, demo_accounts, "bma_cardio", E.AT_COMMITTEE, 2)
    issuer_reports = reports_at(session, demo_accounts, "pumch", E.AT_COMMITTEE, 1)
    committee = demo_accounts["bjcme"]
    found = told(
        session, execution.move_bulk, Action.ACCEPT, committee, branch_reports + issuer_reports
    )
    assert units_told(found) == {
        cardio.unit_id: sorted(branch_reports),
        demo_accounts["bma"].unit_id: sorted(branch_reports),
        pumch.unit_id: sorted(issuer_reports),
    }
    assert {m.kind for m in found} == {MessageKind.PUBLISHED}
    assert {m.list_filters["state"] for m in found} == {E.ACCEPTED.value}
    by_unit = {m.unit_id: m for m in found}
    assert by_unit[cardio.unit_id].list_endpoint == "executions"
    assert by_unit[demo_accounts["bma"].unit_id].list_endpoint == "execution_review"
    actor = committee.unit.name
    assert text(by_unit[cardio.unit_id]) == f"{actor} 审核通过了 2 份执行情况"
    assert text(by_unit[pumch.unit_id]) == f"{actor} 审核通过了 1 份执行情况"
    assert str(by_unit[pumch.unit_id].title) == "执行情况审核通过"
    assert_visible_to_every_account(session, found)
    for username, unit_id in (
        ("bma_cardio", cardio.unit_id),
        ("bma", demo_accounts["bma"].unit_id),
    ):
        message = by_unit[unit_id]
        opened_list(app, username, message, [p["name"] for p in message.projects])


def test_nobody_outside_the_tree_or_the_chain_is_told(demo_accounts, session):
    other = make_tree(session, "执外")
    session.commit()
    ids = reports_at(session, demo_accounts, "bma_cardio", E.AT_COMMITTEE, 2)
    reached = set(
        units_told(told(session, execution.move_bulk, Action.ACCEPT, demo_accounts["bjcme"], ids))
    )
    assert reached == {demo_accounts["bma_cardio"].unit_id, demo_accounts["bma"].unit_id}
    assert not reached & {u.unit_id for u in other.values()}
    assert demo_accounts["bma_peds"].unit_id not in reached


def test_project_messages_keep_their_words(demo_accounts, session):
    """The generalised code still speaks of projects for projects."""
    cardio = demo_accounts["bma_cardio"]
    project = make_project(session, cardio, ProjectState.DRAFT)
    session.commit()
    (message,) = told(session, workflow.apply_bulk, Action.REPORT, cardio, [project.id])
    assert message.subject is MessageSubject.PROJECTS and message.list_endpoint == "review"
    assert text(message) == "北京医学会心血管病学分会 上报了 1 个项目"
    assert str(message.title) == "项目上报"


def test_the_messages_page_and_the_mail_say_execution_reports(app, demo_accounts, session):
    saved = {k: app.config.get(k) for k in ("MAIL_SERVER", "SITE_URL")}
    app.config.update(MAIL_SERVER="127.0.0.1", SITE_URL="https://cme.example.org")
    try:
        user = session.scalar(select(User).where(User.username == "bma_cardio"))
        user.email = "bma_cardio@example.cn"
        session.commit()
        ids = reports_at(session, demo_accounts, "bma_cardio", E.AT_SOCIETY, 2)
        before_mail = session.scalar(select(OutboxMail.id).order_by(OutboxMail.id.desc()).limit(1))
        execution.move_bulk(session, Action.UNLOCK, demo_accounts["bma"], ids, "学分有误")
        session.commit()
        mails = session.scalars(
            select(OutboxMail).where(
                OutboxMail.id > (before_mail or 0), OutboxMail.recipient == user.email
            )
        ).all()
    finally:
        app.config.update(saved)
    (mail,) = mails
    assert mail.subject == "【北京CME】北京医学会 退回修改了 2 份执行情况"
    assert "原因：学分有误" in mail.body and "执行情况：" in mail.body and "项目：" not in mail.body

    browser = own_context_browser(app)
    browser.login("bma_cardio")
    html = browser.get("/admin/messages/").get_data(as_text=True)
    assert "北京医学会 退回修改了 2 份执行情况" in html and "原因：学分有误" in html


@pytest.mark.parametrize("action", [Action.REPORT, Action.UNLOCK, Action.ACCEPT])
def test_statements_do_not_grow_with_the_reports(demo_accounts, session, count_statements, action):
    actor, start, reason = {
        Action.REPORT: ("bma", E.AT_SOCIETY, None),
        Action.UNLOCK: ("bjcme", E.AT_COMMITTEE, "请补充"),
        Action.ACCEPT: ("bjcme", E.AT_COMMITTEE, None),
    }[action]
    counts, notified = [], []
    for n in (1, 6):  # 2 and 12 reports, from two branches
        ids = reports_at(session, demo_accounts, "bma_cardio", start, n)
        ids += reports_at(session, demo_accounts, "bma_peds", start, n)
        before = last_id(session)
        with count_statements() as counter:
            result = execution.move_bulk(session, action, demo_accounts[actor], ids, reason)
        session.commit()
        assert sorted(result.done) == sorted(ids)
        counts.append(counter.count)
        notified.append(sum(m.count for m in new_messages(session, before)))
    assert counts[0] == counts[1]
    assert notified[1] == 6 * notified[0] and notified[0] >= 2


def test_the_receiver_is_connected_by_create_app(app):
    from notifications import on_execution_moved
    from workflow import hooks

    assert on_execution_moved in set(hooks.execution_moved.receivers_for(object()))
