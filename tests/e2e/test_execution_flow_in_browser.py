"""执行情况 from end to end in Chromium, as the issue tells it: pumch (an issuer) files
the report of its published project — 填报执行情况 from its list, the credits it really
awarded, a 3-learner roster imported from Excel — and reports it; the committee opens it
from 执行情况审核, sees what was held differently from the filing, and approves it. Each
screen at 1366 and 390 px under test-output/e2e/."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from models import ExecutionReport, ExecutionState, ProjectState, RosterEntry, rules
from tests.factories import make_project

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 900}


def learners() -> list[dict]:
    rows = []
    for serial, (name, workplace) in enumerate(
        (("赵敏", "北京协和医院"), ("钱进", "北京朝阳医院"), ("孙丽", "北京天坛医院")), start=1
    ):
        first17 = f"11010219850{serial}1500{serial}"
        rows.append(
            {
                "姓名": name,
                "证件号码": first17 + rules.id_check_character(first17),
                "工作单位": workplace,
                "职称": "主治医师",
            }
        )
    return rows


def filled(template: bytes) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    sheet = workbook["学员名单"]
    names = [str(cell.value or "").rstrip("*") for cell in sheet[1]]
    for row in learners():
        sheet.append([row.get(name) for name in names])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def both_widths(person, name: str) -> None:
    """A screenshot of the page at desk width and on a phone."""
    person.page.set_viewport_size(DESK)
    person.shot(f"{name}-1366")
    person.page.set_viewport_size(PHONE)
    person.shot(f"{name}-390")
    person.page.set_viewport_size(DESK)


def test_an_issuer_files_its_report_with_an_imported_roster_and_the_committee_approves_it(
    people, session, demo_accounts, tmp_path
):
    pumch = demo_accounts["pumch"]
    project = make_project(session, pumch, ProjectState.PUBLISHED, name="浏览器执行情况演示班")
    session.commit()
    published_credits = project.credits

    owner = people("pumch", "/admin/executions/")
    page = owner.page
    row = page.locator("tr", has_text=project.name)
    assert "报告未填报" in row.inner_text()
    both_widths(owner, "flow-executions-list")
    row.get_by_role("button", name="填报执行情况").click()
    page.wait_for_load_state()
    assert "/admin/execution/" in page.url and project.name in page.inner_text("body")

    # What was really awarded: half a credit less than filed.
    page.get_by_role("link", name="修改执行情况").click()
    page.fill("input[name=credits]", f"{published_credits - 0.5:g}")
    page.fill("textarea[name=summary]", "按计划举办，学员 3 人。")
    both_widths(owner, "flow-execution-edit")
    page.get_by_role("button", name="提交").click()
    page.wait_for_load_state()
    report_page = page.url

    # The roster from Excel: the template, filled in, uploaded, previewed, confirmed.
    page.get_by_role("link", name="导入学员名单").click()
    with page.expect_download() as download:
        page.locator("#import-template").click()
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)
    workbook = tmp_path / "学员名单.xlsx"
    workbook.write_bytes(filled(template.read_bytes()))
    page.set_input_files("#import-file", str(workbook))
    page.get_by_role("button", name="上传并预览").click()
    page.wait_for_load_state()
    both_widths(owner, "flow-roster-preview")
    page.locator("#import-confirm").click()
    page.wait_for_load_state()
    assert "新增 3 人" in page.inner_text("body")

    owner.go(report_page.removeprefix(owner.base))
    body = page.inner_text("body")
    assert all(learner["姓名"] in body for learner in learners())
    # The owner sees its learners' ID numbers whole while it may edit the report.
    assert learners()[0]["证件号码"] in body
    both_widths(owner, "flow-execution-owner")
    page.get_by_role("button", name="上报执行情况").click()
    page.wait_for_load_state()
    assert "已上报" in page.inner_text("body")

    committee = people("bjcme", "/admin/execution-audit/")
    page = committee.page
    both_widths(committee, "flow-execution-audit")
    page.locator("tr", has_text=project.name).get_by_role("link").first.click()
    page.wait_for_load_state()
    body = page.inner_text("body")
    # Filed vs held: the credits changed, and marked for attention.
    assert "申报内容" in body and "注意" in body
    # The committee sees the learners, their ID numbers masked.
    number = learners()[0]["证件号码"]
    assert number not in body and number[:3] + "*" * 11 + number[-4:] in body
    both_widths(committee, "flow-execution-committee")
    page.get_by_role("button", name="审核通过").click()
    page.wait_for_load_state()
    assert "已审核通过" in page.inner_text("body")
    both_widths(committee, "flow-execution-approved")

    session.expire_all()
    report = session.scalar(select(ExecutionReport).where(ExecutionReport.project_id == project.id))
    assert report.state == ExecutionState.ACCEPTED
    assert report.credits == published_credits - 0.5
    roster = session.scalars(select(RosterEntry).where(RosterEntry.report_id == report.id)).all()
    assert sorted(e.name for e in roster) == sorted(r["姓名"] for r in learners())
