"""The password policy (``accounts.passwords``) on the owner's change-password
page and on a superior's reset, through the real pages on both databases: weak,
common, personal and unchanged passwords are refused in Chinese and nothing is
stored; a strong one is accepted by both."""

from __future__ import annotations

import pytest
from flask_security import verify_password
from sqlalchemy import select

from demo import DEMO_PASSWORD
from models import User

STRONG = "Tiger7!lamp-river"
TOO_EASY = "密码太容易被猜到"
HAS_USERNAME = "密码不能包含用户名"
HAS_UNIT = "密码不能包含单位名称"
WEAK = [
    ("aaaaaaaaaa", TOO_EASY),
    ("1234567890", TOO_EASY),
    ("password12", TOO_EASY),
    ("qwertyuiop", TOO_EASY),
    ("bma_peds-Harbor-77", HAS_USERNAME),
    ("BMA_PEDS-Harbor-77", HAS_USERNAME),
    ("北京医学会儿科学分会2026!", HAS_UNIT),
    (DEMO_PASSWORD, "相同"),
]


def _user(session, username: str) -> User:
    session.expire_all()
    return session.scalar(select(User).where(User.username == username))


def _change(browser, new: str):
    data = {"password": DEMO_PASSWORD, "new_password": new, "new_password_confirm": new}
    return browser.post("/change", data)


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_the_owner_cannot_choose_a_weak_password(login_as, session, password, message):
    browser = login_as("bma_peds")
    before = _user(session, "bma_peds").password
    response = _change(browser, password)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _user(session, "bma_peds").password == before


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_a_superior_cannot_set_a_weak_password(login_as, session, password, message):
    peds = _user(session, "bma_peds")
    before = peds.password
    browser = login_as("bma")
    response = browser.post(
        f"/admin/users/password/?id={peds.id}",
        {"password": password, "password_confirm": password},
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _user(session, "bma_peds").password == before


def test_a_new_account_cannot_get_its_own_username_as_password(login_as, session):
    peds_unit = _user(session, "bma_peds").unit_id
    browser = login_as("bma")
    data = {
        "username": "peds_two",
        "display_name": "新成员",
        "unit": str(peds_unit),
        "password": "peds_two-Harbor-77",
        "password_confirm": "peds_two-Harbor-77",
    }
    response = browser.post("/admin/users/new/", data)
    assert response.status_code == 200 and HAS_USERNAME in response.get_data(as_text=True)
    assert _user(session, "peds_two") is None


def test_a_strong_password_is_accepted_by_both(login_as, session, another_browser):
    owner = login_as("bma_peds")
    assert _change(owner, STRONG).status_code == 302
    assert verify_password(STRONG, _user(session, "bma_peds").password)
    superior = another_browser()
    assert superior.login("bma").status_code == 302
    peds = _user(session, "bma_peds")
    response = superior.post(
        f"/admin/users/password/?id={peds.id}",
        {"password": "reset-by-boss-1", "password_confirm": "reset-by-boss-1"},
    )
    assert response.status_code == 302
    assert verify_password("reset-by-boss-1", _user(session, "bma_peds").password)
