"""The committee's rules around execution reports in Chromium, at 1366 and 390 px: the
committee sets 执行情况上报期限 and turns the overdue-reports rule on (block) from 备案规则;
a branch with an overdue report then reports a new project and reads why it was held
back. Screenshots under test-output/e2e/."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import ExecutionDeadline, ProjectState
from tests.factories import make_project
from workflow import filing_rules

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
TODAY = filing_rules.today()
LATER = TODAY + timedelta(days=60)


def test_the_committee_sets_the_rules_and_a_late_unit_is_held_back(people, session, demo_accounts):
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    end = TODAY - timedelta(days=120)
    make_project(
        session, cardio, ProjectState.PUBLISHED, name="逾期未报的执行情况",
        year=end.year, start_date=end - timedelta(days=1), end_date=end,
    )  # fmt: skip
    fresh = make_project(
        session, cardio, name="浏览器上报的新项目", year=LATER.year, start_date=LATER,
        end_date=LATER,
    )  # fmt: skip
    session.commit()

    committee = people()
    committee.login("bjcme")
    committee.go(f"/admin/rules/?year={LATER.year}")
    page = committee.page
    page.fill("#due_days", "21")
    page.locator("#due-days-form [type=submit]").click()
    page.wait_for_load_state()
    assert f"{LATER.year}年度执行情况上报期限已保存：项目结束后21天内上报" in page.inner_text(
        "body"
    )
    session.expire_all()
    assert session.get(ExecutionDeadline, (bjcme.unit_id, LATER.year)).days == 21
    if page.locator("#rules-copy").count():
        # The year follows an earlier year's rules (read-only): 复制并修改 first.
        with page.expect_navigation():
            page.locator("#rules-copy [type=submit]").click()
    row = page.locator("#rule-overdue_reports")
    assert "执行情况逾期" in row.inner_text()
    row.locator("input[type=checkbox]").check()
    row.locator("select").select_option("block")
    row.locator("input[type=number]").fill("30")
    page.locator("#rules-form [type=submit]").click()
    page.wait_for_load_state()
    assert f"{LATER.year}年度备案规则已保存" in page.inner_text("body")
    committee.shot("rules-overdue-and-due-days-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    committee.go(f"/admin/rules/?year={LATER.year}#due-days")
    committee.shot("rules-overdue-and-due-days-390")

    branch = people()
    branch.login("bma_cardio")
    branch.go("/admin/projects/")
    page = branch.page
    page.locator("tr", has_text=fresh.name).locator("input.action-checkbox").check()
    page.get_by_role("button", name="上报所选项目").first.click()
    page.wait_for_load_state()
    body = page.inner_text("body")
    assert "“浏览器上报的新项目”：执行情况逾期：该单位有" in body
    assert "逾期超过30天未上报" in body
    branch.shot("report-held-back-for-overdue-reports-1366")
