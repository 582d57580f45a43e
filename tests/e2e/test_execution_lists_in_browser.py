"""The 执行情况 lists in Chromium, at 1366 and 390 px: a branch opens and reports its
report from 执行情况, its society sends another back with a reason from 执行情况审阅, and
the committee accepts from 执行情况审核, each by ticking rows and clicking a visible
Chinese button. Screenshots under test-output/e2e/."""

from __future__ import annotations

import pytest

from models import ProjectState
from tests.factories import make_project
from workflow import Action, execution

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def tick_and_click(page, name: str, button: str) -> None:
    row = page.locator("tr", has_text=name)
    row.locator("input.action-checkbox").check()
    page.get_by_role("button", name=button).first.click()
    page.wait_for_load_state()


def test_the_lists_move_reports_up_the_chain(people, session, demo_accounts):
    cardio = demo_accounts["bma_cardio"]
    filed = make_project(session, cardio, ProjectState.PUBLISHED, name="浏览器填报的执行情况")
    returned = make_project(session, cardio, ProjectState.PUBLISHED, name="浏览器退回的执行情况")
    report = execution.open_report(session, cardio, returned)
    session.flush()
    execution.move(session, report, Action.REPORT, cardio)
    session.commit()

    branch = people("bma_cardio", "/admin/executions/")
    page = branch.page
    row = page.locator("tr", has_text=filed.name)
    assert "报告未填报" in row.inner_text()
    branch.shot("executions-entry-1366")
    row.get_by_role("button", name="填报执行情况").click()
    page.wait_for_load_state()
    branch.go("/admin/executions/")
    tick_and_click(page, filed.name, "上报所选")
    assert "已处理 1 项" in page.inner_text("body")
    page.set_viewport_size({"width": 390, "height": 844})
    branch.go("/admin/executions/?status=all")
    branch.shot("executions-entry-390")

    society = people("bma", "/admin/execution-review/")
    page = society.page
    assert "待审阅" in page.inner_text(".cme-status-tabs")
    society.shot("execution-review-1366")
    tick_and_click(page, returned.name, "设为可修改")
    page.fill("textarea[name=reason]", "学员名单缺少工作单位")
    page.get_by_role("button", name="确定").click()
    page.wait_for_load_state()
    assert "设为可修改：已处理 1 项" in page.inner_text("body")
    tick_and_click(page, filed.name, "上报所选")
    assert "已处理 1 项" in page.inner_text("body")

    committee = people("bjcme", "/admin/execution-audit/")
    page = committee.page
    tick_and_click(page, filed.name, "审核通过")
    assert "审核通过：已处理 1 项" in page.inner_text("body")
    committee.go("/admin/execution-audit/?status=accepted")
    assert filed.name in page.inner_text("body")
    committee.shot("execution-audit-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    committee.go("/admin/execution-audit/?status=all")
    committee.shot("execution-audit-390")
