"""Login, logout, password changes and sessions, through the real pages
(Flask-Security-Too), on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from demo import DEMO_PASSWORD
from models import Unit, User
from tests.refusals import assert_expired, assert_refused_with

ACCOUNTS = ("bjcme", "bma", "bjtcm", "bma_cardio", "bma_peds", "tcm_acu", "pumch")
NEW_PASSWORD = "my-own-pass-2026"
GENERIC_FAILURE = "用户名或密码错误"
DISABLED = "该帐号已停用"


def _account(session, username: str) -> User:
    session.expire_all()
    return session.scalar(select(User).where(User.username == username))


def _text(response) -> str:
    return response.get_data(as_text=True)


def _goes_to(response, path: str) -> bool:
    return response.status_code == 302 and response.headers["Location"].split("?")[0].endswith(path)


# -- logging in ----------------------------------------------------------------
@pytest.mark.parametrize("username", ACCOUNTS)
def test_every_demo_account_logs_in(browser, username):
    response = browser.login(username, DEMO_PASSWORD)
    assert _goes_to(response, "/admin/")
    assert browser.get("/admin/").status_code == 200


def test_username_is_case_insensitive(browser):
    assert _goes_to(browser.login("BMA_Cardio"), "/admin/")


@pytest.mark.parametrize(
    ("username", "password"),
    [("bma_cardio", "wrong-password-1"), ("nobody_here", DEMO_PASSWORD), ("bma_cardio", "")],
)
def test_wrong_credentials_are_refused_in_chinese(browser, username, password):
    response = browser.login(username, password)
    assert response.status_code == 200
    body = _text(response)
    if password:
        # The same words for an unknown name and a wrong password.
        assert GENERIC_FAILURE in body
        assert "不存在" not in body
    else:
        assert "请输入密码" in body
    assert browser.get("/admin/").status_code == 302


def test_inactive_account_is_refused(browser, session, demo_accounts):
    _account(session, "bma_peds").active = False
    session.commit()
    response = browser.login("bma_peds")
    assert response.status_code == 200
    assert DISABLED in _text(response)
    assert _goes_to(browser.get("/admin/projects/"), "/login")


def test_account_of_a_deactivated_unit_is_refused(browser, session, demo_accounts):
    unit = session.scalar(select(Unit).where(Unit.name == "北京医学会儿科学分会"))
    unit.active = False
    session.commit()
    response = browser.login("bma_peds")
    assert response.status_code == 200
    assert DISABLED in _text(response)


def test_deactivating_a_unit_ends_the_sessions_of_its_accounts(login_as, browser, session):
    login_as("bma_peds")
    assert browser.get("/admin/projects/").status_code == 200
    unit = session.scalar(select(Unit).where(Unit.name == "北京医学会儿科学分会"))
    unit.active = False
    session.commit()
    assert _goes_to(browser.get("/admin/projects/"), "/login")


# -- the login page ------------------------------------------------------------
def test_login_page_is_chinese_by_default_and_english_on_request(browser):
    page = _text(browser.get("/login"))
    for words in ("北京CME项目备案、发布系统", "用户名", "密码", "确定"):
        assert words in page
    browser.get("/lang/en")
    page = _text(browser.get("/login"))
    for words in ("Beijing CME Project Filing and Publication System", "Username", "OK"):
        assert words in page
    assert "用户名" not in page


def test_login_page_offers_only_username_and_password(browser):
    page = _text(browser.get("/login"))
    assert 'name="username"' in page and 'name="password"' in page
    assert 'name="email"' not in page and 'name="remember"' not in page


# -- logging out ---------------------------------------------------------------
def test_logout_is_post_only(login_as, browser):
    login_as("bma")
    assert_refused_with(browser.get("/logout"), 405)
    assert browser.get("/admin/").status_code == 200


def test_logout_needs_the_csrf_token(login_as, browser):
    login_as("bma")
    assert_expired(browser.client.post("/logout"))
    assert browser.get("/admin/").status_code == 200


def test_logout_with_token_ends_the_session(login_as, browser):
    login_as("bma")
    response = browser.logout()
    assert response.status_code == 302
    assert _goes_to(browser.get("/admin/units/"), "/login")


# -- changing passwords -------------------------------------------------------------
def _change_password(browser, current: str, new: str, confirm: str | None = None):
    return browser.post(
        "/change",
        {
            "password": current,
            "new_password": new,
            "new_password_confirm": new if confirm is None else confirm,
        },
    )


def test_change_password_page_is_chinese(login_as, browser):
    login_as("bma")
    page = _text(browser.get("/change"))
    for words in ("修改密码", "新密码", "确认新密码", "确定"):
        assert words in page


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong-password-1", NEW_PASSWORD, None, "密码错误"),
        (DEMO_PASSWORD, "short", None, "密码至少需要 10 个字符"),
        (DEMO_PASSWORD, NEW_PASSWORD, "another-pass-2026", "两次输入的新密码不一致"),
        (DEMO_PASSWORD, DEMO_PASSWORD, None, "新密码不能与当前密码相同"),
    ],
)
def test_change_password_errors_are_chinese(login_as, browser, current, new, confirm, message):
    login_as("bma")
    response = _change_password(browser, current, new, confirm)
    assert response.status_code == 200
    assert message in _text(response)


def test_own_password_change_works(login_as, browser, another_browser):
    login_as("bma")
    response = _change_password(browser, DEMO_PASSWORD, NEW_PASSWORD)
    assert _goes_to(response, "/admin/")
    assert "密码已修改" in _text(browser.get("/admin/"))
    other = another_browser()
    assert other.login("bma").status_code == 200
    assert _goes_to(other.login("bma", NEW_PASSWORD), "/admin/")


def _create_account(browser, session, username: str, unit_name: str) -> User:
    unit = session.scalar(select(Unit).where(Unit.name == unit_name))
    response = browser.post(
        "/admin/users/new/",
        {
            "username": username,
            "display_name": "新同事",
            "unit": str(unit.id),
            "password": "given-by-boss-1",
            "password_confirm": "given-by-boss-1",
        },
    )
    assert response.status_code == 302, _text(response)[:2000]
    return _account(session, username)


def test_new_account_must_change_its_password_first(login_as, browser, another_browser, session):
    login_as("bma")
    user = _create_account(browser, session, "cardio_two", "北京医学会心血管病学分会")
    assert user.must_change_password
    newcomer = another_browser()
    assert _goes_to(newcomer.login("cardio_two", "given-by-boss-1"), "/admin/")
    for path in ("/admin/", "/admin/projects/", "/admin/projects/new/"):
        assert _goes_to(newcomer.get(path), "/change"), path
    assert "请先修改为自己的密码" in _text(newcomer.get("/change"))
    response = _change_password(newcomer, "given-by-boss-1", NEW_PASSWORD)
    assert _goes_to(response, "/admin/")
    assert newcomer.get("/admin/").status_code == 200
    assert newcomer.get("/admin/projects/").status_code == 200
    assert not _account(session, "cardio_two").must_change_password


def test_forced_change_still_allows_logout(login_as, browser, another_browser, session):
    login_as("bma")
    _create_account(browser, session, "cardio_three", "北京医学会心血管病学分会")
    newcomer = another_browser()
    newcomer.login("cardio_three", "given-by-boss-1")
    response = newcomer.post("/logout", token_from="/change")
    assert response.status_code == 302
    assert _goes_to(newcomer.get("/admin/"), "/login")


def test_reset_by_a_superior_forces_a_change_and_ends_old_sessions(
    login_as, browser, another_browser, session
):
    victim = another_browser()
    assert _goes_to(victim.login("bma_cardio"), "/admin/")
    assert victim.get("/admin/projects/").status_code == 200
    old_uniquifier = _account(session, "bma_cardio").fs_uniquifier

    login_as("bma")
    cardio = _account(session, "bma_cardio")
    url = f"/admin/users/password/?id={cardio.id}"
    response = browser.post(
        url, {"password": "reset-by-boss-1", "password_confirm": "reset-by-boss-1"}
    )
    assert response.status_code == 302

    cardio = _account(session, "bma_cardio")
    assert cardio.must_change_password
    assert cardio.fs_uniquifier != old_uniquifier
    assert cardio.password.startswith("$argon2")
    # The old session is gone, the old password too.
    assert _goes_to(victim.get("/admin/projects/"), "/login")
    assert victim.login("bma_cardio").status_code == 200
    assert _goes_to(victim.login("bma_cardio", "reset-by-boss-1"), "/admin/")
    assert _goes_to(victim.get("/admin/projects/"), "/change")
    # The superior's own session is untouched.
    assert browser.get("/admin/users/").status_code == 200


def test_session_cookie_replayed_from_another_browser_is_dropped(login_as, browser):
    login_as("bma")
    assert browser.get("/admin/units/").status_code == 200
    stolen = browser.get("/admin/units/", headers={"User-Agent": "another browser"})
    assert _goes_to(stolen, "/login")
