"""Under the Content-Security-Policy the behaviours that were inline event handlers still
work, from static/cme-handlers.js: Flask-Admin's "with selected" menu (with its
confirmation) and the 备案规则 year select. A refused script or handler would be a
console error, which fails every browser test (conftest's ``people``)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def test_a_management_change_runs_without_inline_handlers(people):
    """停用 on 学科 goes through its confirmation page and a plain form: nothing on the
    way needs an inline handler, which the policy forbids."""
    committee = people("bjcme")
    page = committee.page
    response = committee.go("/admin/disciplines/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert page.locator("[onclick], [onchange]").count() == 0
    with page.expect_navigation():
        page.locator("a[href*='do=deactivate']").first.click()
    assert page.locator("[onclick], [onchange]").count() == 0
    with page.expect_navigation():
        page.locator("form button[type=submit].btn-danger").click()
    assert page.locator(".alert").count() >= 1
    committee.shot("csp-management-confirm")


def test_rules_year_select_submits_itself(people):
    committee = people("bjcme", "/admin/rules/")
    page = committee.page
    select = page.locator("#rules-year-select")
    current = select.input_value()
    other = next(
        value
        for value in page.eval_on_selector_all(
            "#rules-year-select option", "els => els.map(e => e.value)"
        )
        if value != current
    )
    with page.expect_navigation():
        select.select_option(other)
    assert f"year={other}" in page.url
    assert page.locator("#rules-year-select").input_value() == other
