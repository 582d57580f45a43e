"""One execution report's pages in Chromium, at 1366 and 390 px: the branch fills
in its report (a lecturer row added by the form's script), adds a learner, reports
it with the page's button; its society sees the ID number masked and the
filed-vs-held comparison with the changed credits marked 注意, and sends it back
with a reason. Screenshots under test-output/e2e/."""

from __future__ import annotations

import pytest

from models import ProjectState, rules
from tests.factories import make_project
from tests.test_execution_workflow import id_number
from workflow import execution

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def test_a_report_is_filled_in_reported_and_sent_back(people, session, demo_accounts):
    cardio = demo_accounts["bma_cardio"]
    project = make_project(session, cardio, ProjectState.PUBLISHED, name="浏览器里的执行情况")
    report = execution.open_report(session, cardio, project)
    session.commit()
    url = f"/admin/execution/{report.id}/"

    branch = people()
    branch.login("bma_cardio")
    branch.go(url)
    page = branch.page
    assert "未上报" in page.inner_text(".cme-report-head")
    page.get_by_role("link", name="修改执行情况").click()
    page.wait_for_load_state()
    page.fill("#credits", "3")
    page.fill("#summary", "按计划举办，学员反馈良好。")
    page.get_by_role("button", name="+ 添加授课教师").click()
    rows = page.locator("#lecturers tbody tr.lecturer-row")
    last = rows.last
    last.locator("input[name$='-name']").fill("刘医生")
    last.locator("input[name$='-topic']").fill("病例讨论")
    branch.shot("execution-edit-1366")
    page.get_by_role("button", name="提交").click()
    page.wait_for_load_state()
    assert "已保存" in page.inner_text("body")

    page.get_by_role("link", name="+ 添加学员").click()
    page.wait_for_load_state()
    number = id_number()
    page.fill("#name", "张三")
    page.fill("#id_number", number)
    page.fill("#workplace", "北京协和医院")
    page.fill("#credits", "3")
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_load_state()
    assert "已加入学员名单" in page.inner_text("body")
    assert number in page.inner_text(".cme-roster-table")
    branch.shot("execution-details-owner-1366")
    page.get_by_role("button", name="上报执行情况").click()
    page.wait_for_load_state()
    assert "已上报" in page.inner_text("body")
    assert number not in page.inner_text(".cme-roster-table")

    society = people()
    society.login("bma")
    society.go(url)
    page = society.page
    assert rules.mask_id_number(number) in page.inner_text(".cme-roster-table")
    flagged = page.locator("#filed-vs-held tr.cme-flagged", has_text="学分")
    assert "注意" in flagged.first.inner_text()
    society.shot("execution-details-society-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    society.shot("execution-details-society-390")
    page.fill("#unlock-reason", "请补充学员的职称")
    page.get_by_role("button", name="设为可修改").click()
    page.wait_for_load_state()
    assert "退回填报单位" in page.inner_text("body")

    branch.go(url)
    assert "请补充学员的职称" in branch.page.inner_text(".cme-report-head")
    branch.page.set_viewport_size({"width": 390, "height": 844})
    branch.go(f"/admin/execution/{report.id}/edit")
    branch.shot("execution-edit-390")
