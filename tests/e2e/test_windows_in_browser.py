"""申报时间 in Chromium on the demo data (next year's windows around today): the
committee's page with the three steps' dates, a society's cut-off and exceptions, an
entry unit's countdown on its dashboard and above its list. Screenshots under
test-output/e2e/."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def test_the_committee_and_a_society_see_their_windows(people):
    person = people("bjcme", "/admin/windows/")
    page = person.page
    assert page.get_by_role("heading", name="申报时间").is_visible()
    assert page.locator("#window-entry_report input[type=date]").count() == 2
    assert page.locator("#window-entry_report input").nth(1).input_value()
    assert page.get_by_text("学术年会筹备延期").is_visible()  # the demo's exception
    person.shot("windows-bjcme")

    person = people(
        "bma", "/admin/windows/"
    )  # a browser of its own: no logout racing the next login's CSRF token
    page = person.page
    assert page.get_by_label(re.compile("分会上报截止日期")).input_value()
    assert page.locator("#grant-form select option").count() == 2  # its own two branches
    person.shot("windows-bma")


def test_an_entry_unit_sees_its_countdown(people):
    person = people("bma_cardio", "/admin/")
    page = person.page
    line = page.locator(".cme-countdown").first
    assert re.search(r"\d{4} 年度：距分会上报截止还有 \d+ 天", line.inner_text())
    person.shot("countdown-dashboard-bma_cardio")
    person.go("/admin/projects/")
    assert page.locator(".cme-countdown").first.is_visible()
    person.shot("countdown-list-bma_cardio")
