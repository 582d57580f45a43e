"""The panel's pages that are not model lists share one access check
(``admin_views.signed_in.SignedInView``), and which of them an account may open is
decided by its role's permissions (``permissions.roles``), not by its unit's kind."""

from __future__ import annotations

import pytest
from flask_admin import BaseView
from flask_admin.model import BaseModelView
from sqlalchemy import select

import permissions
from admin_views.signed_in import SignedInView
from models import Role, RoleName
from models.account import ROLE_PERMISSIONS

# Each non-model page: (endpoint, its address, which demo accounts may open it).
PAGES = {
    "help": ("/admin/help/", {"bjcme", "bma", "bma_cardio", "pumch"}),
    "messages": ("/admin/messages/", {"bjcme", "bma", "bma_cardio", "pumch"}),
    "jobs": ("/admin/jobs/", {"bjcme", "bma", "bma_cardio", "pumch"}),
    "imports": ("/admin/import/", {"bma_cardio", "pumch"}),
    "statistics": ("/admin/statistics/", {"bjcme", "bma"}),
    "rules": ("/admin/rules/", {"bjcme"}),
    "execution": ("/admin/execution/", {"bjcme", "bma", "bma_cardio", "pumch"}),
    "certificate_settings": ("/admin/certificate-settings/", {"bjcme"}),
    # 申报时间: the committee and a society set theirs, an entry unit reads its own.
    "windows": ("/admin/windows/", {"bjcme", "bma", "bma_cardio", "pumch"}),
    "my_account": ("/admin/me/", {"bjcme", "bma", "bma_cardio", "pumch"}),  # 我的帐号
    "reminders": ("/admin/reminders/", {"bjcme"}),  # 催办: the committee alone
}
# Pages of one execution report: who may open them (its owner while it may edit the
# report; 404 for everyone else) is tested with a report in test_roster_import.py and
# test_signin_sheet.py.
REPORT_PAGES = {"roster_import", "signin_sheet"}
ACCOUNTS = ("bjcme", "bma", "bma_cardio", "pumch")


def signed_in(another_browser, username: str):
    browser = another_browser()
    assert browser.login(username).status_code == 302
    return browser


def test_every_page_that_is_no_model_list_builds_on_signed_in_view(app_without_db):
    """One copy of the access check: no such page defines its own."""
    admin = app_without_db.extensions["admin"][0]
    pages = {
        endpoint: view
        for endpoint, view in admin.panel_views.items()
        if not isinstance(view, BaseModelView) and view is not admin.index_view
    }
    assert set(pages) == set(PAGES) | REPORT_PAGES
    for view in pages.values():
        assert isinstance(view, SignedInView), view
        for name in ("is_accessible", "inaccessible_callback", "is_visible"):
            assert name not in vars(type(view)), (type(view), name)
    assert SignedInView.__mro__[1] is BaseView


@pytest.mark.parametrize("endpoint", list(PAGES))
def test_who_may_open_each_page(another_browser, endpoint):
    url, allowed = PAGES[endpoint]
    assert another_browser().get(url).status_code == 302  # signed out: the login page
    for username in ACCOUNTS:
        browser = signed_in(another_browser, username)
        response = browser.get(url)
        expected = 200 if username in allowed else 403
        assert response.status_code == expected, (username, url, response.status_code)


def test_the_role_permissions_decide_not_the_unit_kind(another_browser, session, demo_accounts):
    """Take 'project-audit' from the committee's role: the committee (still a committee
    unit) no longer opens 备案规则; give it to the society's role: a society does."""
    roles = {r.name: r for r in session.scalars(select(Role))}
    committee, society = roles[RoleName.COMMITTEE.value], roles[RoleName.SOCIETY.value]
    committee.permissions = [p for p in committee.permissions if p != permissions.roles.AUDIT]
    society.permissions = [*society.permissions, permissions.roles.AUDIT]
    session.commit()
    try:
        assert signed_in(another_browser, "bjcme").get("/admin/rules/").status_code == 403
        assert signed_in(another_browser, "bma").get("/admin/rules/").status_code == 200
    finally:
        committee.permissions = list(ROLE_PERMISSIONS[RoleName.COMMITTEE])
        society.permissions = list(ROLE_PERMISSIONS[RoleName.SOCIETY])
        session.commit()


def test_the_role_predicates(demo_accounts):
    expect = {
        "bjcme": (False, True, True),
        "bma": (False, True, False),
        "bma_cardio": (True, False, False),
        "pumch": (True, False, False),
    }
    for username, wanted in expect.items():
        user = demo_accounts[username]
        got = (
            permissions.can_enter_projects(user),
            permissions.can_read_statistics(user),
            permissions.can_set_filing_rules(user),
        )
        assert got == wanted, username
    assert not permissions.can_enter_projects(None)
