"""批量导入 through the real panel: template download → fill in → upload → preview →
confirm, on both databases; bad rows and bad files are named and write nothing."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime

import pytest
import time_machine
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from extensions import db
from imports import ImportBatch, ImportKey
from models import Lecturer, Project, ProjectEvent, ProjectState, UnitKind, User
from tests.admin.conftest import own_context_browser
from tests.refusals import assert_refused_with

BATCH_URL = re.compile(r"/admin/import/batch/(\d+)/")


def count(model, **where) -> int:
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return db.session.scalar(stmt)


def download_template(browser) -> Workbook:
    response = browser.get("/admin/import/template/")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return load_workbook(io.BytesIO(response.data))


def headers(sheet) -> list[str]:
    return [c.value for c in sheet[1]]


def fill(workbook: Workbook, projects: list[dict], lecturers: list[dict] = ()) -> bytes:
    """Rows under the template's headers (``*`` dropped), keyed by header text."""
    return fill_sheets(workbook, {"项目": projects, "授课教师": lecturers})


def fill_sheets(workbook: Workbook, rows_by_sheet: dict[str, list[dict]]) -> bytes:
    """Each sheet's rows under its headers (``*`` dropped), keyed by header text: the
    workbook's bytes."""
    for name, rows in rows_by_sheet.items():
        sheet = workbook[name]
        names = [h.rstrip("*") for h in headers(sheet)]
        for row in rows:
            sheet.append([row.get(name) for name in names])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def project_row(key="1", **changes) -> dict:
    row = {
        "序号": key,
        "年度": 2027,
        "项目名称": f"心衰诊治进展学习班{key}",
        "项目级别": "学（协）会Ⅰ类",
        "学科": "临床内科学",
        "项目负责人": "王五",
        "联系人": "李四",
        "联系电话": "010-12345678",
        "开始日期": date(2027, 5, 1),
        "结束日期": date(2027, 5, 3),
        "举办地点": "北京市东城区",
        "举办方式": "面授",
        "教学对象": "心内科医师",
        "拟招生人数": 100,
        "理论学时": 12,
        "实践学时": 3,
        "学分": 4,
    }
    row.update(changes)
    return row


def lecturer_row(key="1", **changes) -> dict:
    row = {
        "序号": key,
        "姓名": "张三",
        "职称": "主任医师",
        "工作单位": "协和",
        "授课题目": "总论",
        "学时": 2,
    }
    row.update(changes)
    return row


def upload(browser, data: bytes, filename="projects.xlsx", page="/admin/import/"):
    """POST ``data`` to the upload form of the import at ``page`` (its ``upload/``)."""
    # The multipart body built in memory: the test client would spool a large one
    # to a temporary file that nobody closes when the upload is refused unread.
    token = browser.token(page)
    boundary, body = encode_multipart(
        {"csrf_token": token, "file": FileStorage(io.BytesIO(data), filename=filename)}
    )
    return browser.client.post(
        page + "upload/",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def preview(browser, data: bytes, filename="projects.xlsx"):
    """Upload and follow to the preview: (batch id or None, the page's text)."""
    response = upload(browser, data, filename)
    assert response.status_code == 302
    location = response.headers["Location"]
    match = BATCH_URL.search(location)
    page = browser.get(location).get_data(as_text=True)
    return (int(match.group(1)) if match else None), page


def confirm(browser, batch_id: int):
    url = f"/admin/import/batch/{batch_id}/"
    return browser.post(url + "confirm/", token_from=url)


def test_template_round_trip(branch, session):
    workbook = download_template(branch)
    assert workbook.sheetnames == ["项目", "授课教师", "说明"]
    project_headers = headers(workbook["项目"])
    assert "项目名称*" in project_headers and "承办单位" in project_headers
    assert "项目编号" not in " ".join(project_headers)  # a branch's numbers come on publication
    # Drop-downs on 项目级别, 学科 and 举办方式, listing the choices kept on 说明.
    validated = {
        project_headers[next(iter(v.sqref)).min_col - 1]: v.formula1
        for v in workbook["项目"].data_validations.dataValidation
    }
    assert set(validated) == {"项目级别*", "学科*", "举办方式*"}
    assert all("说明" in f for f in validated.values())
    before = count(Project)
    data = fill(
        workbook,
        [project_row("1"), project_row("2", 承办单位="北京医院", 备注="夜班")],
        [lecturer_row("1"), lecturer_row("1", 姓名="赵六", 学时=None), lecturer_row("2")],
    )
    batch_id, page = preview(branch, data)
    assert "将新增 2 个项目" in page or "2" in page
    assert count(Project) == before
    response = confirm(branch, batch_id)
    assert response.status_code == 302
    assert count(Project) == before + 2
    owner = session.scalar(select(User).where(User.username == "bma_cardio"))
    made = session.scalars(
        select(Project).where(Project.name.like("心衰诊治进展学习班%")).order_by(Project.name)
    ).all()
    assert [p.name for p in made] == ["心衰诊治进展学习班1", "心衰诊治进展学习班2"]
    first, second = made
    assert first.owner_unit_id == owner.unit_id and first.state is ProjectState.DRAFT
    assert first.organizer == owner.unit.name
    assert (first.start_date, first.end_date) == (date(2027, 5, 1), date(2027, 5, 3))
    assert (first.theory_hours, first.practice_hours, first.credits) == (12, 3, 4)
    assert first.discipline.name == "临床内科学" and first.mode.value == "face_to_face"
    assert [(lc.name, lc.hours) for lc in first.lecturers] == [("张三", 2), ("赵六", None)]
    assert second.co_organizer == "北京医院" and second.remarks == "夜班"
    assert [lc.name for lc in second.lecturers] == ["张三"]
    events = session.scalars(select(ProjectEvent).where(ProjectEvent.project_id == first.id)).all()
    assert [(e.action, e.reason) for e in events] == [("create", "批量导入：projects.xlsx")]


def errors_of(page: str) -> list[list[str]]:
    """The preview's error table as rows of cell texts."""
    table = re.search(r'<table[^>]*id="import-errors".*?</table>', page, re.S)
    if table is None:
        return []
    rows = re.findall(r"<tr><td>(.*?)</tr>", table.group(0), re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.split(r"</td>\s*<td>", row)]
        for row in rows
    ]


BAD_ROWS = [
    # (changes to the project row, column named, value shown, words of the reason)
    ({"项目名称": None}, "项目名称", "", "必填"),
    ({"开始日期": "下周"}, "开始日期", "下周", "日期"),
    ({"结束日期": date(2027, 4, 1)}, "结束日期", "2027-04-01", "结束日期"),
    ({"学分": 31}, "学分", "31", "30"),
    ({"学分": "四"}, "学分", "四", "数字"),
    ({"拟招生人数": 10.5}, "拟招生人数", "10.5", "整数"),
    ({"联系电话": "12"}, "联系电话", "12", "7"),
    ({"学科": "天文学"}, "学科", "天文学", "列表"),
    ({"项目级别": "国家级"}, "项目级别", "国家级", "列表"),
    ({"举办方式": "飞行"}, "举办方式", "飞行", "列表"),
    ({"项目名称": "长" * 201}, "项目名称", "长" * 201, "200"),
    ({"年度": 1999}, "年度", "1999", "2000"),
    # 年度 follows 开始日期 (a January course of 2027 is a 2027 project).
    ({"年度": 2026}, "年度", "2026", "年度应与开始日期一致：开始日期 2027-05-01 属于 2027 年度。"),
]


@pytest.mark.parametrize(("changes", "column", "value", "reason"), BAD_ROWS)
def test_each_bad_row_is_named_and_nothing_is_written(branch, changes, column, value, reason):
    workbook = download_template(branch)
    data = fill(workbook, [project_row("1"), project_row("2", **changes)], [lecturer_row("2")])
    before = count(Project), count(Lecturer)
    batch_id, page = preview(branch, data)
    errors = errors_of(page)
    assert len(errors) == 1, errors
    sheet, row, named, shown, why = errors[0]
    assert (sheet, row, named) == ("项目", "4", column)  # header, example, row 1, row 2
    assert shown == value
    assert reason in why, why
    assert 'id="import-confirm"' not in page
    response = confirm(branch, batch_id)
    assert response.status_code == 302
    assert (count(Project), count(Lecturer)) == before


def test_bad_lecturer_rows_are_named(branch):
    workbook = download_template(branch)
    data = fill(
        workbook,
        [project_row("1")],
        [lecturer_row("1", 授课题目=None), lecturer_row("9"), lecturer_row("1", 学时="两")],
    )
    _, page = preview(branch, data)
    assert [e[:3] for e in errors_of(page)] == [
        ["授课教师", "3", "授课题目"],
        ["授课教师", "4", "序号"],
        ["授课教师", "5", "学时"],
    ]


def test_rows_repeating_a_key_are_named(branch):
    workbook = download_template(branch)
    data = fill(
        workbook,
        [project_row("1", 导入编号="K1"), project_row("1", 导入编号="K1")],
    )
    _, page = preview(branch, data)
    assert [e[:3] for e in errors_of(page)] == [["项目", "4", "序号"], ["项目", "4", "导入编号"]]


def xlsx(rows: list[list], *, title="项目") -> bytes:
    workbook = Workbook()
    workbook.active.title = title
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_headers(browser) -> list[str]:
    return headers(download_template(browser)["项目"])


def flashed(browser) -> str:
    return browser.get("/admin/import/").get_data(as_text=True)


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (60 * 1024 * 1024))
    return out.getvalue()


def macro_workbook() -> bytes:
    data = io.BytesIO(xlsx([["序号"]]))
    out = io.BytesIO()
    with zipfile.ZipFile(data) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("xl/vbaProject.bin", b"\x00macro")
    return out.getvalue()


def merged_header(browser) -> bytes:
    workbook = download_template(browser)
    workbook["项目"].merge_cells("C1:D1")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def formula_cell(browser) -> bytes:
    workbook = download_template(browser)
    return fill(workbook, [project_row("1", 学分="=2+2")])


def too_many_rows(browser) -> bytes:
    names = list(template_headers(browser))
    return xlsx([names] + [["x"] for _ in range(5001)])


BAD_FILES = {
    "empty": (lambda b: b"", "projects.csv", "文件是空的"),
    "renamed binary": (lambda b: bytes(range(256)) * 10, "projects.xlsx", "不是"),
    "png": (lambda b: b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "projects.xlsx", "不是"),
    "zip that is no workbook": (
        lambda b: zipfile_bytes({"a.txt": "x"}),
        "projects.xlsx",
        "不是",
    ),
    "encrypted": (lambda b: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "p.xlsx", "加密"),
    "macros": (lambda b: macro_workbook(), "projects.xlsm", "宏"),
    "zip bomb": (lambda b: zip_bomb(), "projects.xlsx", "50 MB"),
    "formula": (formula_cell, "projects.xlsx", "公式"),
    "merged header": (merged_header, "projects.xlsx", "合并"),
    "too many rows": (too_many_rows, "projects.xlsx", "5000"),
    "wrong headers": (
        lambda b: xlsx([["序号", "项目名", "花絮"], ["1", "x", "y"]]),
        "projects.xlsx",
        "花絮",
    ),
    "too large": (lambda b: b"a,b\n" + b"x" * (10 * 1024 * 1024 + 10), "big.csv", "10 MB"),
}


def zipfile_bytes(members: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return out.getvalue()


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_each_bad_file_is_refused_and_nothing_is_written(branch, kind):
    make, filename, words = BAD_FILES[kind]
    data = make(branch)
    before = count(Project), count(ImportBatch)
    response = upload(branch, data, filename)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/import/")
    page = flashed(branch)
    assert "没有导入" in page, page[-3000:]
    assert words in page, re.findall(r"alert[^>]*>(.*?)</div>", page, re.S)
    assert (count(Project), count(ImportBatch)) == before


def test_wrong_headers_say_which_are_missing_and_unknown(branch):
    upload(branch, xlsx([["序号", "项目名", "花絮"], ["1", "x", "y"]]))
    page = flashed(branch)
    assert "缺少的列" in page and "项目名称" in page and "未知的列" in page and "花絮" in page


def test_confirm_twice_adds_once(branch):
    data = fill(download_template(branch), [project_row("1")], [lecturer_row("1")])
    batch_id, _ = preview(branch, data)
    before = count(Project)
    assert confirm(branch, batch_id).status_code == 302
    assert confirm(branch, batch_id).status_code == 302
    assert count(Project) == before + 1
    page = branch.get(f"/admin/import/batch/{batch_id}/").get_data(as_text=True)
    assert "已经导入过" in page  # the second confirm's message
    # The same file uploaded again is the same batch: it adds nothing either.
    again, page = preview(branch, data)
    assert again == batch_id and 'id="import-done"' in page
    confirm(branch, again)
    assert count(Project) == before + 1


def test_another_units_batch_is_not_found(branch, login_as, app):
    data = fill(download_template(branch), [project_row("1")])
    batch_id, _ = preview(branch, data)
    branch.logout()
    other = login_as("bma_peds")
    assert other.get(f"/admin/import/batch/{batch_id}/").status_code == 404
    url = "/admin/import/"
    response = other.post(f"/admin/import/batch/{batch_id}/confirm/", token_from=url)
    assert response.status_code == 404
    assert other.get("/admin/import/batch/nonsense/").status_code == 404
    assert count(Project, name="心衰诊治进展学习班1") == 0


@pytest.mark.parametrize("username", ["bma", "bjcme"])
def test_reviewers_cannot_import(login_as, username):
    browser = login_as(username)
    assert_refused_with(browser.get("/admin/import/"), 403)
    assert_refused_with(browser.get("/admin/import/template/"), 403)


def csv_bytes(browser, encoding: str, rows: list[dict]) -> bytes:
    names = [h.rstrip("*") for h in template_headers(browser)]
    lines = [",".join(names)]
    for row in rows:
        lines.append(",".join("" if row.get(n) is None else str(row.get(n)) for n in names))
    return "\r\n".join(lines).encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_each_encoding(branch, encoding):
    data = csv_bytes(branch, encoding, [project_row("1", 项目名称="针灸（CSV）进修班")])
    batch_id, page = preview(branch, data, "projects.csv")
    assert errors_of(page) == []
    confirm(branch, batch_id)
    project = db.session.scalar(select(Project).where(Project.name == "针灸（CSV）进修班"))
    assert project is not None and project.start_date == date(2027, 5, 1)


def test_an_import_key_updates_an_editable_project_and_refuses_a_reported_one(branch, session):
    first = fill(download_template(branch), [project_row("1", 导入编号="K-1")], [lecturer_row("1")])
    batch_id, _ = preview(branch, first)
    confirm(branch, batch_id)
    project = session.scalar(select(Project).where(Project.name == "心衰诊治进展学习班1"))
    assert count(ImportKey, project_id=project.id) == 1
    second = fill(
        download_template(branch),
        [project_row("1", 导入编号="K-1", 项目名称="改名后的学习班", 学分=5)],
        [lecturer_row("1", 姓名="新老师"), lecturer_row("1", 姓名="另一位")],
    )
    batch_id, page = preview(branch, second)
    assert errors_of(page) == [] and "更新" in page
    before = count(Project)
    confirm(branch, batch_id)
    assert count(Project) == before
    session.expire_all()
    project = session.get(Project, project.id)
    assert (project.name, project.credits) == ("改名后的学习班", 5)
    assert [lc.name for lc in project.lecturers] == ["新老师", "另一位"]
    events = session.scalars(
        select(ProjectEvent.action)
        .where(ProjectEvent.project_id == project.id)
        .order_by(ProjectEvent.id)
    )
    assert list(events) == ["create", "edit"]

    # Reported: no longer the unit's to change; a third file is refused, row named.
    import workflow

    owner = session.scalar(select(User).where(User.username == "bma_cardio"))
    workflow.apply(session, project, workflow.Action.REPORT, owner)
    session.commit()
    third = fill(download_template(branch), [project_row("1", 导入编号="K-1", 项目名称="再改")])
    batch_id, page = preview(branch, third)
    errors = errors_of(page)
    assert [e[:4] for e in errors] == [["项目", "3", "导入编号", "K-1"]]
    assert "改名后的学习班" in errors[0][4] and "总会" in errors[0][4]
    confirm(branch, batch_id)
    session.expire_all()
    assert session.get(Project, project.id).name == "改名后的学习班"


def test_an_issuer_updates_its_own_project_by_number(login_as, session):
    issuer = login_as("pumch")
    owner = session.scalar(select(User).where(User.username == "pumch"))
    assert owner.unit.kind is UnitKind.ISSUER
    workbook = download_template(issuer)
    assert "项目编号*" in headers(workbook["项目"])
    row = project_row("1", 项目编号="2027-01-01-001", 项目级别="国家级")
    batch_id, page = preview(issuer, fill(workbook, [row]))
    assert errors_of(page) == []
    confirm(issuer, batch_id)
    created = session.scalar(select(Project).where(Project.project_no == "2027-01-01-001"))
    assert created.owner_unit_id == owner.unit_id
    changed = dict(row, 项目名称="按编号更新")
    batch_id, page = preview(issuer, fill(download_template(issuer), [changed]))
    assert errors_of(page) == []
    confirm(issuer, batch_id)
    session.expire_all()
    assert session.get(Project, created.id).name == "按编号更新"
    assert count(Project, project_no="2027-01-01-001") == 1
    # A number of the unit's published project: refused, with where it stands.
    published = session.scalar(
        select(Project).where(
            Project.owner_unit_id == owner.unit_id, Project.state == ProjectState.PUBLISHED
        )
    )
    row = project_row("1", 项目编号=published.project_no, 项目级别="国家级")
    _, page = preview(issuer, fill(download_template(issuer), [row]))
    errors = errors_of(page)
    assert [e[:3] for e in errors] == [["项目", "3", "项目编号"]] and "公布" in errors[0][4]


def test_the_preview_shows_the_filing_rules_the_rows_would_break(branch, session):
    """The committee's rules are checked in the preview, as on the form: a row
    starting in three days would miss the filing deadline; it still imports."""
    from datetime import timedelta

    from models import RuleKind, Severity
    from workflow.filing_rules import set_rule

    owner = session.scalar(select(User).where(User.username == "bma_cardio"))
    soon = date.today() + timedelta(days=3)
    set_rule(
        session, owner.unit.committee_id, soon.year, RuleKind.DEADLINE, severity=Severity.BLOCK
    )
    session.commit()
    rows = [
        project_row("1", 年度=soon.year, 开始日期=soon, 结束日期=soon),
        project_row(
            "2",
            年度=(soon + timedelta(days=60)).year,
            开始日期=soon + timedelta(days=60),
            结束日期=soon + timedelta(days=60),
        ),
    ]
    batch_id, page = preview(
        branch, fill(download_template(branch), rows, [lecturer_row("1"), lecturer_row("2")])
    )
    assert 'id="import-warnings"' in page
    warned = page.split('id="import-warnings"', 1)[1].split("</table>", 1)[0]
    assert "上报时将被阻止" in warned and "心衰诊治进展学习班1" in warned
    assert "心衰诊治进展学习班2" not in warned
    before = count(Project)
    assert confirm(branch, batch_id).status_code == 302
    assert count(Project) == before + 2


# 7 December 2026 in Beijing: dates may fall until 31 December 2027.
DECEMBER = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "column", "value"),
    [
        ({"年度": 2040, "开始日期": date(2040, 5, 1), "结束日期": None}, "开始日期", "2040-05-01"),
        ({"开始日期": date(2027, 12, 30), "结束日期": date(2028, 1, 2)}, "结束日期", "2028-01-02"),
    ],
)
def test_dates_beyond_the_horizon_are_named_and_nothing_is_written(
    app, demo_accounts, changes, column, value
):
    with time_machine.travel(DECEMBER, tick=False):
        browser = own_context_browser(app)
        assert browser.login("bma_cardio").status_code == 302
        workbook = download_template(browser)
        data = fill(workbook, [project_row("1"), project_row("2", **changes)], [lecturer_row("2")])
        before = count(Project), count(Lecturer)
        batch_id, page = preview(browser, data)
        errors = [e for e in errors_of(page) if e[2] != "结束日期" or column == "结束日期"]
        assert [e[:4] for e in errors] == [["项目", "4", column, value]], errors_of(page)
        assert "项目日期最晚可填到 2027-12-31" in errors[0][4]
        assert 'id="import-confirm"' not in page
        assert confirm(browser, batch_id).status_code == 302
        assert (count(Project), count(Lecturer)) == before


def test_a_blank_year_takes_the_start_dates_year(branch, session):
    workbook = download_template(branch)
    data = fill(workbook, [project_row("1", 年度=None)], [lecturer_row("1")])
    batch_id, page = preview(branch, data)
    assert errors_of(page) == []
    assert confirm(branch, batch_id).status_code == 302
    made = session.scalar(select(Project).where(Project.name == "心衰诊治进展学习班1"))
    assert made.year == 2027
