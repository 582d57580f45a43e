"""Brute force, sessions and tokens, through the real login form on both
databases: the lockout (lifted by a superior and by time), the rate limits
(answered 429 in Chinese, shared between two app instances through Redis),
server-side sessions (logout, idle and absolute expiry, password change),
no remember-me cookie and no authentication token.

Each test that counts requests runs on an app instance of its own (a fresh
limiter) over the same database as the session's app."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from demo import DEMO_PASSWORD
from extensions import db
from models import LoginSession, LoginThrottle, User
from tests.admin.conftest import own_context_browser
from tests.redis_server import SHARED_REDIS, require_shared_redis

GENERIC_FAILURE = "用户名或密码错误"
LOCKED = "已被暂时锁定"
TOO_MANY = "请求过于频繁"
REDIS_URL = SHARED_REDIS


def _text(response) -> str:
    return response.get_data(as_text=True)


def _signed_in(browser) -> bool:
    return browser.get("/admin/").status_code == 200


def _throttle(session, username: str) -> LoginThrottle | None:
    """The lockout's row of the account ``username`` (kept per account)."""
    session.expire_all()
    user = session.scalar(select(User).where(User.username == username))
    return session.get(LoginThrottle, f"account:{user.id}")


def _move_back(session, model, column: str, delta: timedelta) -> None:
    """Move a stored time back, as if ``delta`` had passed."""
    session.expire_all()
    for row in session.scalars(select(model)):
        setattr(row, column, getattr(row, column) - delta)
    session.commit()


# -- lockout -------------------------------------------------------------------
def test_ten_failures_lock_the_account_and_its_right_password(make_app, session):
    browser = own_context_browser(make_app())
    for _ in range(9):
        response = browser.login("bma_cardio", "wrong-password-1")
        assert GENERIC_FAILURE in _text(response) and LOCKED not in _text(response)
    tenth = _text(browser.login("bma_cardio", "wrong-password-1"))
    assert LOCKED in tenth and GENERIC_FAILURE not in tenth
    refused = browser.login("bma_cardio", DEMO_PASSWORD)
    assert refused.status_code == 200 and LOCKED in _text(refused)
    assert not _signed_in(browser)
    # Another account is not affected.
    assert browser.login("bma_peds").status_code == 302


def test_an_unknown_username_gets_the_same_answers(make_app):
    browser = own_context_browser(make_app(LOGIN_LOCKOUT_FAILURES=3))
    answers = {}
    for username in ("bma_cardio", "nobody_here"):
        answers[username] = [
            _text(browser.login(username, "wrong-password-1")).replace(username, "NAME")
            for _ in range(4)
        ]
    known, unknown = answers["bma_cardio"], answers["nobody_here"]
    assert (
        [LOCKED in a for a in known]
        == [LOCKED in a for a in unknown]
        == [
            False,
            False,
            True,
            True,
        ]
    )
    assert [GENERIC_FAILURE in a for a in known] == [GENERIC_FAILURE in a for a in unknown]


def test_failures_spread_beyond_the_window_do_not_lock(make_app, session):
    browser = own_context_browser(make_app(LOGIN_LOCKOUT_FAILURES=3))
    browser.login("bma_cardio", "wrong-password-1")
    browser.login("bma_cardio", "wrong-password-1")
    _move_back(session, LoginThrottle, "window_started_at", timedelta(minutes=16))
    assert LOCKED not in _text(browser.login("bma_cardio", "wrong-password-1"))
    assert browser.login("bma_cardio", DEMO_PASSWORD).status_code == 302


def test_the_lock_ends_by_itself(make_app, session):
    browser = own_context_browser(make_app(LOGIN_LOCKOUT_FAILURES=2))
    for _ in range(2):
        browser.login("bma_cardio", "wrong-password-1")
    assert _throttle(session, "bma_cardio").locked_until is not None
    assert LOCKED in _text(browser.login("bma_cardio", DEMO_PASSWORD))
    _move_back(session, LoginThrottle, "locked_until", timedelta(minutes=16))
    assert browser.login("bma_cardio", DEMO_PASSWORD).status_code == 302
    assert _throttle(session, "bma_cardio") is None  # a success forgets the failures


def test_a_superior_lifts_the_lock(make_app, session, demo_accounts):
    app = make_app(LOGIN_LOCKOUT_FAILURES=2)
    victim = own_context_browser(app)
    for _ in range(2):
        victim.login("bma_cardio", "wrong-password-1")
    assert LOCKED in _text(victim.login("bma_cardio", DEMO_PASSWORD))
    cardio_id = demo_accounts["bma_cardio"].id

    # A unit that may not manage the account cannot lift it.
    stranger = own_context_browser(app)
    assert stranger.login("bjtcm").status_code == 302
    stranger.post(
        "/admin/users/action/",
        {"action": "unlock", "rowid": [str(cardio_id)]},
        token_from="/admin/users/",
    )
    assert _throttle(session, "bma_cardio").locked_until is not None

    superior = own_context_browser(app)
    assert superior.login("bma").status_code == 302
    page = superior.post(
        "/admin/users/action/",
        {"action": "unlock", "rowid": [str(cardio_id)]},
        token_from="/admin/users/",
        follow_redirects=True,
    )
    assert "已解除锁定 1 个帐号" in _text(page)
    assert _throttle(session, "bma_cardio") is None
    assert victim.login("bma_cardio", DEMO_PASSWORD).status_code == 302


# -- rate limits ---------------------------------------------------------------
def test_too_many_tries_for_one_username_answer_429_in_chinese(make_app):
    browser = own_context_browser(make_app(LOGIN_RATE_LIMIT_PER_USERNAME="3 per minute"))
    for _ in range(3):
        assert browser.login("bma_cardio", "wrong-password-1").status_code == 200
    response = browser.login("bma_cardio", DEMO_PASSWORD)
    assert response.status_code == 429
    assert TOO_MANY in _text(response) and "Too Many" not in _text(response)
    # Successful logins are not counted: an office behind one address signs in.
    other = own_context_browser(make_app(LOGIN_RATE_LIMIT_PER_USERNAME="3 per minute"))
    for _ in range(5):
        assert other.login("bma_peds").status_code == 302
        other.logout()


def test_a_spray_over_many_usernames_from_one_address_is_limited(make_app):
    browser = own_context_browser(make_app(LOGIN_RATE_LIMIT_PER_ADDRESS="5 per minute"))
    answers = [browser.login(f"user{i}", "Spring-2026-pass").status_code for i in range(6)]
    assert answers == [200] * 5 + [429]
    # Another address is not limited.
    response = browser.client.post(
        "/login",
        data={"username": "bma_peds", "password": DEMO_PASSWORD, "csrf_token": browser.token()},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert response.status_code == 302


def test_the_password_change_page_is_limited(make_app):
    browser = own_context_browser(make_app(PASSWORD_CHANGE_RATE_LIMIT="2 per minute"))
    assert browser.login("bma_peds").status_code == 302
    data = {
        "password": "wrong-current-1",
        "new_password": "Tiger7!lamp-river",
        "new_password_confirm": "Tiger7!lamp-river",
    }
    assert [browser.post("/change", data).status_code for _ in range(3)] == [200, 200, 429]


def test_two_app_instances_share_the_count_through_redis(make_app):
    require_shared_redis()
    config = {
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        # A prefix of this run's own: other runs sharing the server do not interfere.
        "RATELIMIT_KEY_PREFIX": f"cme-test-{uuid.uuid4().hex}",
        "LOGIN_RATE_LIMIT_PER_ADDRESS": "4 per minute",
    }
    first = own_context_browser(make_app(**config))
    second = own_context_browser(make_app(**config))
    codes = []
    for browser in (first, second, first, second, first, second):
        codes.append(browser.login("nobody_here", "wrong-password-1").status_code)
    assert codes == [200, 200, 200, 200, 429, 429]


def test_the_app_runs_when_redis_cannot_be_reached(make_app):
    app = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    browser = own_context_browser(app)
    assert browser.login("bma_peds").status_code == 302


# -- sessions --------------------------------------------------------------------
def _copy_session_cookie(source, target) -> None:
    cookie = source.client.get_cookie("session")
    target.client.set_cookie("session", cookie.value, domain=cookie.domain)


def test_logout_ends_the_session_on_the_server(make_app):
    app = make_app()
    browser, thief = own_context_browser(app), own_context_browser(app)
    assert browser.login("bma").status_code == 302
    _copy_session_cookie(browser, thief)
    assert thief.get("/admin/review/").status_code == 200
    browser.logout()
    response = thief.get("/admin/review/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logging_out_in_one_browser_keeps_the_others(make_app):
    app = make_app()
    office, phone = own_context_browser(app), own_context_browser(app)
    office.login("bma")
    phone.login("bma")
    office.logout()
    assert _signed_in(phone)


@pytest.mark.parametrize(
    ("column", "age", "alive"),
    [
        ("last_seen_at", timedelta(minutes=29), True),
        ("last_seen_at", timedelta(minutes=31), False),
        ("created_at", timedelta(hours=13), False),
    ],
)
def test_idle_and_old_sessions_end(make_app, session, column, age, alive):
    browser = own_context_browser(make_app())
    browser.login("bma")
    _move_back(session, LoginSession, column, age)
    assert _signed_in(browser) is alive


def test_a_password_change_ends_the_other_sessions(make_app):
    app = make_app()
    mine, other = own_context_browser(app), own_context_browser(app)
    mine.login("bma_peds")
    other.login("bma_peds")
    data = {
        "password": DEMO_PASSWORD,
        "new_password": "Tiger7!lamp-river",
        "new_password_confirm": "Tiger7!lamp-river",
    }
    assert mine.post("/change", data).status_code == 302
    assert _signed_in(mine)
    assert not _signed_in(other)


def test_remember_me_sets_no_cookie(make_app):
    browser = own_context_browser(make_app())
    response = browser.post(
        "/login", {"username": "bma", "password": DEMO_PASSWORD, "remember": "y"}
    )
    assert response.status_code == 302
    # Flask-Security may send a deletion of any old one (empty, expired); never a value.
    remember = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token")]
    assert all(h.startswith("remember_token=;") and "Max-Age=0" in h for h in remember)
    assert browser.client.get_cookie("remember_token") is None


# -- tokens ----------------------------------------------------------------------
def test_no_token_is_issued(make_app):
    browser = own_context_browser(make_app())
    response = browser.client.post(
        "/login?include_auth_token",
        json={"username": "bma", "password": DEMO_PASSWORD},
        headers={"X-CSRFToken": browser.token()},
    )
    assert response.status_code == 400
    assert "authentication_token" not in _text(response)


def test_a_token_opens_nothing(make_app, demo_accounts):
    app = make_app()
    with app.test_request_context():
        user = db.session.get(User, demo_accounts["bma"].id)
        token = user.get_auth_token()
    client = own_context_browser(app)
    for response in (
        client.get("/admin/review/", headers={"Authentication-Token": token}),
        client.get(f"/admin/review/?auth_token={token}"),
        client.get(f"/admin/review/export/csv/?auth_token={token}"),
    ):
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_session_without_a_server_row_is_signed_out(make_app, session):
    browser = own_context_browser(make_app())
    browser.login("bma")
    session.execute(LoginSession.__table__.delete())
    session.commit()
    assert not _signed_in(browser)
