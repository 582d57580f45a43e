"""我的帐号 (/admin/me/): every signed-in account changes its own full name,
telephone and e-mail address (the one 消息 mails to), checked like a superior's
edit, in Chinese at the fields; nothing else of the account moves whatever is
posted; CSRF on the POST; the security log written as for any account change."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import AuditEntry, AuditEvent, User
from tests.refusals import assert_expired

ACCOUNTS = ("bjcme", "bma", "bma_cardio", "pumch")
# Entries of signing in and out (the test's own logins), apart from the changes.
SESSION_EVENTS = (AuditEvent.LOGIN, AuditEvent.LOGOUT)


def _user(session, username: str) -> User:
    session.expire_all()
    return session.scalar(select(User).where(User.username == username))


def _account_row(session, username: str) -> tuple:
    user = _user(session, username)
    return (
        user.username,
        user.display_name,
        user.phone,
        user.email,
        user.unit_id,
        user.active,
        user.password,
        user.fs_uniquifier,
        user.must_change_password,
        tuple(role.name for role in user.roles),
    )


def _entries(session) -> list[tuple]:
    # In the order written: PostgreSQL returns an unordered SELECT in any order, and
    # the test slices off what was there before.
    query = select(AuditEntry.event, AuditEntry.account_id).order_by(AuditEntry.id)
    return list(session.execute(query).all())


@pytest.mark.parametrize("username", ACCOUNTS)
def test_every_account_changes_its_own_contact_details(session, login_as, username):
    browser = login_as(username)
    # The account menu of every page leads to it.
    menu = browser.get("/admin/").get_data(as_text=True).split('aria-labelledby="cme-account"')[1]
    assert 'href="/admin/me/">我的帐号</a>' in menu.split("</div>")[0]
    page = browser.get("/admin/me/").get_data(as_text=True)
    user = _user(session, username)
    assert f'id="my-username">{username}<' in page and user.unit.name in page
    assert 'href="/change"' in page  # Flask-Security's change-password page
    assert re.search(r"<form[^>]*novalidate", page)
    before = _account_row(session, username)
    data = {"display_name": " 新的姓名 ", "phone": "010-66667777", "email": "me@example.com"}
    response = browser.post("/admin/me/", data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/me/")
    assert "您的帐号信息已保存" in browser.get("/admin/me/").get_data(as_text=True)
    after = _account_row(session, username)
    assert after[1:4] == ("新的姓名", "010-66667777", "me@example.com")
    assert after[0] == before[0] and after[4:] == before[4:]
    # Emptied, the optional fields are stored as nothing, not as "".
    browser.post("/admin/me/", {"display_name": "新的姓名", "phone": " ", "email": ""})
    assert _account_row(session, username)[2:4] == (None, None)


def test_nothing_else_moves_whatever_is_posted(session, demo_accounts, login_as):
    browser = login_as("bma_cardio")
    before = _account_row(session, "bma_cardio")
    other = _account_row(session, "bma_peds")
    forged = {
        "display_name": "秘书",
        "username": "taken_over",
        "unit": str(demo_accounts["bjcme"].unit_id),
        "unit_id": str(demo_accounts["bjcme"].unit_id),
        "active": "",
        "roles": "committee",
        "password": "new-pass-2026-x",
        "must_change_password": "1",
        "id": str(demo_accounts["bma_peds"].id),
    }
    assert browser.post("/admin/me/", forged).status_code == 302
    after = _account_row(session, "bma_cardio")
    assert after[1] == "秘书"
    assert after[0] == before[0] and after[2:] == before[2:]
    assert _account_row(session, "bma_peds") == other


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"display_name": "  "}, "display_name", "此项为必填项"),
        ({"phone": "abc"}, "phone", "请输入至少7位数字的电话号码"),
        ({"email": "not-an-address"}, "email", "请输入有效的电子邮箱地址"),
    ],
)
def test_bad_input_is_refused_in_chinese_at_the_field(
    session, demo_accounts, login_as, data, field, message
):
    browser = login_as("pumch")
    before = _account_row(session, "pumch")
    posted = {"display_name": "协和医院继教办", "phone": "", "email": ""} | data
    response = browser.post("/admin/me/", posted)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "请更正下方标出的内容" in html
    block = html[html.index(f'id="{field}"') :]
    assert message in block[: block.find('class="form-group')]
    # What was typed is shown again, and nothing is saved.
    assert _account_row(session, "pumch") == before


def test_the_post_needs_the_csrf_token(session, demo_accounts, login_as):
    browser = login_as("bma")
    before = _account_row(session, "bma")
    data = {"display_name": "无令牌", "phone": "", "email": "x@example.com"}
    assert_expired(browser.client.post("/admin/me/", data=data))
    assert_expired(browser.client.post("/admin/me/", data=dict(data, csrf_token="forged")))
    assert _account_row(session, "bma") == before


def test_signed_out_visitors_are_sent_to_the_login_page(app, demo_accounts):
    client = app.test_client()
    for method in (client.get, client.post):
        response = method("/admin/me/")
        assert response.status_code in (302, 400)
    assert "/login" in client.get("/admin/me/").headers["Location"]


def test_the_security_log_is_written_as_for_a_superiors_edit(
    session, demo_accounts, login_as, another_browser
):
    """The page's flush goes through ``accounts.audit`` like every account change: a
    change of name, telephone or e-mail writes what a superior's edit of the same
    fields writes (no entry), by the same listener."""
    before = _entries(session)
    login_as("bma_peds").post(
        "/admin/me/", {"display_name": "改名一", "phone": "010-12340000", "email": "a@b.cn"}
    )
    mine = _entries(session)[len(before) :]
    mine = [entry for entry in mine if entry[0] not in SESSION_EVENTS]
    boss = another_browser()
    assert boss.login("bma").status_code == 302
    peds = _user(session, "bma_peds")
    middle = _entries(session)
    data = {
        "display_name": "改名二",
        "unit": str(peds.unit_id),
        "phone": "010-12341111",
        "email": "c@d.cn",
    }
    assert boss.post(f"/admin/users/edit/?id={peds.id}", data).status_code == 302
    theirs = _entries(session)[len(middle) :]
    theirs = [entry for entry in theirs if entry[0] not in SESSION_EVENTS]
    assert [e[0] for e in mine] == [e[0] for e in theirs]
    assert _user(session, "bma_peds").display_name == "改名二"


def test_messages_say_who_enters_the_email_address(demo_accounts, login_as):
    html = login_as("pumch").get("/admin/messages/").get_data(as_text=True)
    sentence = re.search(r'<p[^>]*id="who-enters-email"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert "我的帐号" in sentence and 'href="/admin/me/"' in sentence
    assert "上级单位" in sentence
