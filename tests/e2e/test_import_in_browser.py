"""批量导入 in a real browser: a branch downloads the template, fills it in, uploads a
file with one bad row, sees the row named, fixes it, uploads again and confirms;
the projects are then on its list, not reported yet. It reports them with the
visible button, and its society sees the filing rules' warnings on their rows."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
from sqlalchemy import func, select

from models import Project, ProjectState, RuleKind, Severity, User
from tests.e2e.test_workflow_in_browser import tick_and_act
from workflow.filing_rules import set_rule


def fill(template: bytes, credits_of_second: object) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    for sheet, rows in (
        (
            workbook["项目"],
            [
                {"序号": 1, "项目名称": "浏览器导入学习班一", "学分": 4},
                {"序号": 2, "项目名称": "浏览器导入学习班二", "学分": credits_of_second},
            ],
        ),
        (workbook["授课教师"], [{"序号": 1, "姓名": "张三", "授课题目": "总论", "学时": 2}]),
    ):
        names = [c.value.rstrip("*") for c in sheet[1]]
        for row in rows:
            common = {
                "年度": 2027,
                "项目级别": "学（协）会Ⅰ类",
                "学科": "临床内科学",
                "项目负责人": "王五",
                "联系人": "李四",
                "联系电话": "010-12345678",
                "开始日期": date(2027, 6, 1),
                "结束日期": date(2027, 6, 2),
                "举办地点": "北京市西城区",
                "举办方式": "面授",
                "教学对象": "内科医师",
                "拟招生人数": 80,
                "理论学时": 12,
            }
            values = {**common, **row} if sheet.title == "项目" else row
            sheet.append([values.get(name) for name in names])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_a_branch_imports_from_excel(people, session, tmp_path):
    # The committee's rules for the file's year, as warnings: a project without a
    # lecturer who has a title breaks the lecturers rule.
    committee_id = session.scalar(select(User).where(User.username == "bjcme")).unit_id
    for kind in RuleKind:
        set_rule(session, committee_id, 2027, kind, severity=Severity.WARN)
    session.commit()
    cardio = people()
    cardio.login("bma_cardio")
    cardio.go("/admin/import/")
    cardio.shot("import-page")
    with cardio.page.expect_download() as download:
        cardio.page.click("#import-template")
    assert download.value.suggested_filename.endswith(".xlsx")
    template = download.value.path().read_bytes()

    bad = tmp_path / "有错误的项目.xlsx"
    bad.write_bytes(fill(template, 99))
    cardio.page.set_input_files("#import-file", str(bad))
    cardio.page.click("form[action$='/upload/'] [type=submit]")
    cardio.page.wait_for_selector("#import-errors")
    errors = cardio.page.locator("#import-errors tbody tr")
    assert errors.count() == 1
    cells = errors.first.locator("td").all_inner_texts()
    assert cells[:4] == ["项目", "4", "学分", "99"]
    assert cardio.page.locator("#import-confirm").count() == 0
    cardio.shot("import-bad-row-named")

    fixed = tmp_path / "改正后的项目.xlsx"
    fixed.write_bytes(fill(template, 3.5))
    cardio.page.click("text=上传其他文件")
    cardio.page.set_input_files("#import-file", str(fixed))
    cardio.page.click("form[action$='/upload/'] [type=submit]")
    cardio.page.wait_for_selector("#import-ready")
    assert "新增 2 个项目" in cardio.page.inner_text("#import-ready")
    cardio.shot("import-preview-ok")
    cardio.page.click("#import-confirm")
    cardio.page.wait_for_url("**/admin/projects/**")
    assert "导入完成" in cardio.page.content()
    cardio.shot("import-confirmed")

    names = session.scalars(
        select(Project.name).where(Project.name.like("浏览器导入学习班%")).order_by(Project.name)
    ).all()
    assert names == ["浏览器导入学习班一", "浏览器导入学习班二"]
    states = session.scalars(
        select(func.count()).where(
            Project.name.like("浏览器导入学习班%"), Project.state == ProjectState.DRAFT
        )
    ).one()
    assert states == 2

    # Reported with the visible button, as the manual says.
    ids = session.scalars(
        select(Project.id).where(Project.name.like("浏览器导入学习班%")).order_by(Project.id)
    ).all()
    tick_and_act(cardio.page, ids, "上报所选项目")
    assert "已处理 2 项" in cardio.page.content()
    cardio.logout()

    bma = people()
    bma.login("bma")
    bma.go("/admin/review/")
    for project_id in ids:
        row = bma.page.locator(
            "tr", has=bma.page.locator(f"input.action-checkbox[value='{project_id}']")
        )
        assert "备案规则提示" in row.inner_text()
    bma.shot("import-reported-warnings-for-society")
