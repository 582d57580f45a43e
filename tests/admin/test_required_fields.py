"""One "required" mechanism on every form of the panel (admin_views/forms.py): the
label's ``*`` on exactly the fields the rules require, the rules' one Chinese message
next to each one left blank, and no ``required`` attribute anywhere, so a new user
never meets the browser's own bubble instead of our message."""

from __future__ import annotations

import re

import pytest

from tests.admin.test_project_form_page import REQUIRED, WTFORMS_REQUIRED, FormPage

CONTROL = re.compile(r"<(?:input|select|textarea)\b[^>]*>", re.S)


def _required_attributes(html: str) -> list[str]:
    """The controls that would make the browser check them itself."""
    return [tag for tag in CONTROL.findall(html) if re.search(r"\srequired(?:[\s=>/]|$)", tag)]


# (account, form page, the fields the rules require there)
FORMS = [
    ("pumch", "/admin/projects/new/", None),
    (
        "bjcme",
        "/admin/units/new/",
        ["kind", "parent", "name", "address", "manager", "phone", "postal_code"],
    ),
    (
        "bjcme",
        "/admin/users/new/",
        ["username", "display_name", "unit", "password", "password_confirm"],
    ),
    ("bjcme", "/admin/disciplines/new/", ["name"]),
]


@pytest.mark.parametrize("username, url, required", FORMS)
def test_no_form_asks_the_browser_to_check_a_field(login_as, browser, username, url, required):
    login_as(username)
    html = browser.get(url).get_data(as_text=True)
    assert CONTROL.search(html), url
    assert _required_attributes(html) == [], url


@pytest.mark.parametrize("username, url, required", [f for f in FORMS if f[2]])
def test_each_blank_required_field_is_starred_and_told_once(
    login_as, browser, username, url, required
):
    login_as(username)
    form = FormPage(browser.get(url).get_data(as_text=True))
    starred = {name for name in form.controls if "*" in form.label(name)}
    assert starred == set(required), url
    blank = {name: "" for name in form.controls if name != "csrf_token"}
    response = browser.post(url, blank)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert WTFORMS_REQUIRED not in html
    assert _required_attributes(html) == []
    # One message per field: a select left on its blank choice is said to be missing,
    # or (Flask-Admin's select) not a valid choice, never both.
    assert html.count(REQUIRED) <= len(required)
    assert html.count(REQUIRED) >= len([n for n in required if n not in ("kind", "parent", "unit")])


def test_a_superiors_password_form_is_checked_by_the_server(login_as, browser, session):
    from models import User

    login_as("bjcme")
    user = session.query(User).filter(User.username == "bma").one()
    url = f"/admin/users/password/?id={user.id}"
    html = browser.get(url).get_data(as_text=True)
    assert _required_attributes(html) == []
    form = FormPage(html)
    assert "*" in form.label("password") and "*" in form.label("password_confirm")
    html = browser.post(url, {"password": "", "password_confirm": ""}).get_data(as_text=True)
    assert html.count(REQUIRED) == 2
