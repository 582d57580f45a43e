"""New usernames are stored as the login normalises them (NFKC, no surrounding
blanks) and one that is an existing username once normalised and case-folded is
refused in Chinese: two such accounts would be one name to the login and its
lockout. Through the accounts page, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accounts import create_account
from models import Unit, User
from tests.admin.conftest import own_context_browser, post_new_account


def _signed_in_as(app, username: str):
    browser = own_context_browser(app)
    assert browser.login(username).status_code == 302
    return browser


def test_a_new_username_is_stored_normalised(app, session, demo_accounts):
    browser = _signed_in_as(app, "bma")
    response = post_new_account(browser, demo_accounts["bma_peds"].unit_id, " ｎｅｗ_ｍｅｍｂｅｒ ")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    session.expire_all()
    assert session.scalar(select(User.username).where(User.display_name == "新成员")) == (
        "new_member"
    )


@pytest.mark.parametrize(
    ("existing", "new"),
    [
        (None, "ｂｍａ_ｐｅｄｓ"),
        (None, "BMA_PEDS"),
        (None, "ᵇᵐᵃ_ᵖᵉᵈˢ"),
        ("émile_x", "ÉMILE_X"),
        ("straße_x", "STRASSE_X"),
        ("office_fi", "oﬃce_ﬁ"),
    ],
)
def test_a_username_taken_once_normalised_is_refused_in_chinese(
    app, session, demo_accounts, existing, new
):
    unit_id = demo_accounts["bma_peds"].unit_id
    if existing:
        create_account(
            session.get(Unit, unit_id), username=existing, display_name="旧成员", check=False
        )
        session.commit()
    before = session.scalar(select(func.count()).select_from(User))
    browser = _signed_in_as(app, "bma")
    response = post_new_account(browser, unit_id, new)
    assert response.status_code == 200
    assert "该用户名已被使用" in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(User)) == before
