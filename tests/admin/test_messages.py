"""The message centre through the real stack: the header's bell counts the
unread messages of the signed-in account and changes after a decision; the
消息 page lists them, opens the filtered list, marks one or all read (POST with
CSRF), and answers 404 to another unit's message, changing nothing."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import Message, NotificationPreference, ProjectState
from models.message import EmailMode
from tests.admin.test_projects import act
from tests.factories import make_project
from tests.refusals import assert_refused_with

S = ProjectState
BELL = re.compile(r'id="cme-bell-count">(\d+)<')


def bell(browser) -> int:
    page = browser.get("/admin/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="cme-bell"' in html
    found = BELL.search(html)
    return int(found.group(1)) if found else 0


def send_back(browser, ids, reason="请补充授课教师职称"):
    return act(browser, "review", "unlock", ids, reason_confirmed="1", reason=reason)


def report(browser, ids):
    return browser.post(
        "/admin/projects/action/",
        {"action": "report", "rowid": [str(i) for i in ids]},
        token_from="/admin/projects/",
    )


def unread_of(session, unit_id, after: int = 0) -> list[Message]:
    """The unit's unread messages (newer than message ``after``)."""
    session.expire_all()
    return list(
        session.scalars(
            select(Message).where(
                Message.unit_id == unit_id, Message.read_at.is_(None), Message.id > after
            )
        )
    )


def last_message(session) -> int:
    return session.scalar(select(Message.id).order_by(Message.id.desc()).limit(1)) or 0


def test_the_bell_counts_up_after_the_society_sends_projects_back(
    demo_accounts, session, login_as, browser, another_browser
):
    cardio = demo_accounts["bma_cardio"]
    ids = [make_project(session, cardio, S.AT_SOCIETY).id for _ in range(2)]
    session.commit()
    branch = login_as("bma_cardio")
    before = bell(branch)

    society = another_browser()
    assert society.login("bma").status_code == 302
    assert send_back(society, ids).status_code == 302

    assert bell(branch) == before + 1  # one message for the two projects
    page = branch.get("/admin/messages/").get_data(as_text=True)
    assert "北京医学会 退回修改了 2 个项目" in page
    assert "原因：请补充授课教师职称" in page
    assert "未读" in page


def test_a_report_reaches_the_society_bell_with_a_link_to_the_filtered_list(
    demo_accounts, session, login_as, browser, another_browser
):
    cardio = demo_accounts["bma_cardio"]
    ids = [make_project(session, cardio, S.DRAFT).id for _ in range(3)]
    session.commit()
    society = another_browser()
    assert society.login("bma").status_code == 302
    before = bell(society)

    branch = login_as("bma_cardio")
    assert report(branch, ids).status_code == 302
    assert bell(society) == before + 1

    (message,) = [
        m for m in unread_of(session, demo_accounts["bma"].unit_id) if m.project_ids == ids
    ]
    page = society.get("/admin/messages/").get_data(as_text=True)
    assert "北京医学会心血管病学分会 上报了 3 个项目" in page
    opened = society.get(f"/admin/messages/{message.id}/open")
    assert opened.status_code == 302
    target = opened.headers["Location"]
    assert target.startswith("/admin/review/")
    listed = society.get(target).get_data(as_text=True)
    session.expire_all()
    for project_id in ids:
        assert f'value="{project_id}"' in listed
    assert session.get(Message, message.id).read_at is not None
    assert bell(society) == before


def test_mark_read_is_scoped_and_another_units_message_is_404(
    demo_accounts, session, login_as, browser, another_browser
):
    cardio, peds = demo_accounts["bma_cardio"], demo_accounts["bma_peds"]
    mine = make_project(session, cardio, S.AT_SOCIETY).id
    theirs = make_project(session, peds, S.AT_SOCIETY).id
    session.commit()
    before = last_message(session)
    society = another_browser()
    assert society.login("bma").status_code == 302
    assert send_back(society, [mine, theirs]).status_code == 302

    (own,) = unread_of(session, cardio.unit_id, before)
    (other,) = unread_of(session, peds.unit_id, before)
    unread_before = len(unread_of(session, cardio.unit_id))
    branch = login_as("bma_cardio")

    refused = branch.post(
        "/admin/messages/read", {"id": str(other.id)}, token_from="/admin/messages/"
    )
    assert_refused_with(refused, 404)
    assert_refused_with(branch.get(f"/admin/messages/{other.id}/open"), 404)
    mixed = branch.post(
        "/admin/messages/read", {"id": [str(own.id), str(other.id)]}, token_from="/admin/messages/"
    )
    assert_refused_with(mixed, 404)
    assert len(unread_of(session, peds.unit_id, before)) == 1
    assert len(unread_of(session, cardio.unit_id)) == unread_before

    done = branch.post("/admin/messages/read", {"id": str(own.id)}, token_from="/admin/messages/")
    assert done.status_code == 302
    assert unread_of(session, cardio.unit_id, before) == []
    assert len(unread_of(session, cardio.unit_id)) == unread_before - 1
    assert len(unread_of(session, peds.unit_id, before)) == 1


def test_mark_all_read_changes_only_the_accounts_own_messages(
    demo_accounts, session, login_as, browser, another_browser
):
    cardio, peds = demo_accounts["bma_cardio"], demo_accounts["bma_peds"]
    ids = [make_project(session, cardio, S.AT_SOCIETY).id for _ in range(2)]
    ids.append(make_project(session, peds, S.AT_SOCIETY).id)
    session.commit()
    before = last_message(session)
    society = another_browser()
    assert society.login("bma").status_code == 302
    assert send_back(society, ids[:2]).status_code == 302
    assert send_back(society, ids[2:]).status_code == 302
    assert send_back(society, []).status_code in (200, 302)  # nothing ticked: nothing sent

    branch = login_as("bma_cardio")
    assert bell(branch) >= 1
    # Without the CSRF token nothing changes.
    assert branch.client.post("/admin/messages/read-all").status_code == 400
    assert unread_of(session, cardio.unit_id)

    response = branch.post("/admin/messages/read-all", token_from="/admin/messages/")
    assert response.status_code == 302
    assert unread_of(session, cardio.unit_id) == []
    assert bell(branch) == 0
    assert len(unread_of(session, peds.unit_id, before)) == 1


def test_the_email_choice_is_saved_per_account(demo_accounts, session, login_as):
    branch = login_as("bma_cardio")
    page = branch.get("/admin/messages/").get_data(as_text=True)
    assert "邮件提醒" in page and "每日汇总" in page
    response = branch.post(
        "/admin/messages/email", {"email_mode": "digest"}, token_from="/admin/messages/"
    )
    assert response.status_code == 302
    session.expire_all()
    preference = session.get(NotificationPreference, demo_accounts["bma_cardio"].id)
    assert preference.email_mode is EmailMode.DIGEST
    bad = branch.post("/admin/messages/email", {"email_mode": "x"}, token_from="/admin/messages/")
    assert bad.status_code == 400


def test_the_messages_page_needs_a_login(browser):
    response = browser.get("/admin/messages/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def mail_goes_to(browser) -> str:
    """The sentence of the 消息 page saying where the messages are mailed, tags kept."""
    html = browser.get("/admin/messages/").get_data(as_text=True)
    return re.search(r'<p[^>]*id="mail-goes-to"[^>]*>(.*?)</p>', html, re.S).group(1).strip()


def test_the_page_says_where_mail_goes_and_links_to_my_account(demo_accounts, session, login_as):
    """No address: shown here only, enter one on 我的帐号. Entered there: mailed to it, each
    message or a daily digest as chosen, or not at all when the account chose no e-mail."""
    user = session.get(type(demo_accounts["pumch"]), demo_accounts["pumch"].id)
    user.email = None
    session.commit()
    browser = login_as("pumch")
    link = '<a href="/admin/me/">我的帐号</a>'
    assert mail_goes_to(browser) == (
        f"您尚未填写电子邮箱，消息只在此处显示。在“{link}”中填写后也会发送邮件。"
    )
    me = {"display_name": "协和医院继教办", "phone": "010-69156114", "email": "cme@pumch.cn"}
    assert browser.post("/admin/me/", me, token_from="/admin/me/").status_code == 302
    assert mail_goes_to(browser) == f"消息同时发送到您的电子邮箱 cme@pumch.cn；在“{link}”中修改。"
    off = "您选择了不发送邮件，消息只在此处显示。"
    for mode, said in (
        ("digest", f"消息每天汇总为一封邮件，发送到您的电子邮箱 cme@pumch.cn；在“{link}”中修改。"),
        ("off", f"{off}您的电子邮箱为 cme@pumch.cn，可在“{link}”中修改。"),
    ):
        saved = browser.post(
            "/admin/messages/email", {"email_mode": mode}, token_from="/admin/messages/"
        )
        assert saved.status_code == 302
        assert mail_goes_to(browser) == said
    # The address is the account's own text: shown escaped, never as markup.
    session.expire_all()
    user = session.get(type(demo_accounts["pumch"]), demo_accounts["pumch"].id)
    user.email = 'x"><b>y@pumch.cn'
    session.commit()
    said = mail_goes_to(browser)
    assert "<b>" not in said and "&lt;b&gt;" in said and link in said
