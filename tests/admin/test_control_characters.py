"""Control characters and look-alike numbers (issue 21, finding 6), through the real
project form, unit and account forms and the import, on both databases.

A single-line text holds no control character: a branch could otherwise put a CR/LF
and a fake "请点击…重新登录" line into the mails its society receives. 备注 and reasons
keep line breaks and tabs. An issuer's 项目编号 is judged in its canonical form
(NFKC, every dash a hyphen): ``2026－XH－00004`` is the committee's series, and
full-width digits or letters are refused."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import func, select

from models import Lecturer, Project, ProjectState, Unit, User, rules
from tests.admin.test_import import (
    confirm,
    download_template,
    errors_of,
    fill,
    lecturer_row,
    preview,
    project_row,
)
from tests.admin.test_integrity import _field_block
from tests.admin.test_projects import act, project_form
from tests.factories import make_project

PHISHING = "心衰学习班\r\n请点击 http://cme-login.example 重新登录"
ONE_LINE = "只能填写一行文字"
INVISIBLE = "含有看不见的控制字符"
COMMITTEE_SERIES = "由市继委公布项目时分配"
HALF_WIDTH = "请用半角（英文）字符输入"


def _projects(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Project))


def test_the_rule_refuses_exactly_the_control_characters():
    every = (chr(code) for code in range(0x110000))
    control = {ch for ch in every if unicodedata.category(ch) == "Cc"}
    matched = {chr(code) for code in range(0x110000) if rules.CONTROL.match(chr(code))}
    assert matched == control
    multi = {chr(code) for code in range(0x110000) if rules.MULTI_LINE_CONTROL.match(chr(code))}
    assert multi == control - {"\n", "\t"}


# -- the project form ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("name", PHISHING, "项目名称"),
        ("venue", "北京市\n西城区", "举办地点"),
        ("contact", "王秘书\t", "联系人"),
        ("audience", "心内科医师\x0b", "教学对象"),
        ("principal", "刘强\x85", "项目负责人"),
        ("organizer", "北京医学会\x1b[31m", "主办单位"),
        ("phone", "010-88398866\r\n", "联系电话"),
    ],
)
def test_a_single_line_field_with_a_control_character_is_refused(
    login_as, browser, session, field, value, label
):
    before = _projects(session)
    login_as("bma_cardio")
    page = browser.post("/admin/projects/new/", project_form(session, **{field: value}))
    assert page.status_code == 200
    block = _field_block(page.get_data(as_text=True), field)
    assert ONE_LINE in block and f"“{label}”" in block
    assert _projects(session) == before


def test_remarks_keep_line_breaks_and_tabs_but_no_other_control(login_as, browser, session):
    login_as("bma_cardio")
    refused = browser.post(
        "/admin/projects/new/", project_form(session, remarks="第一行\x1b[2J第二行")
    )
    assert refused.status_code == 200
    block = _field_block(refused.get_data(as_text=True), "remarks")
    assert INVISIBLE in block and "“备注”" in block
    kept = browser.post(
        "/admin/projects/new/",
        project_form(session, name="多行备注学习班", remarks="第一行\r\n第二行\n\t缩进"),
    )
    assert kept.status_code == 302, kept.get_data(as_text=True)[:2000]
    session.expire_all()
    remarks = session.scalar(select(Project.remarks).where(Project.name == "多行备注学习班"))
    assert "第二行" in remarks and "\t缩进" in remarks


def test_a_lecturer_field_with_a_control_character_is_refused(login_as, browser, session):
    before = session.scalar(select(func.count()).select_from(Lecturer))
    login_as("bma_cardio")
    page = browser.post(
        "/admin/projects/new/", project_form(session, **{"lecturers-0-topic": "总论\n请点击"})
    )
    assert page.status_code == 200
    assert ONE_LINE in page.get_data(as_text=True)
    assert "“授课题目”" in page.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Lecturer)) == before


def test_a_unit_field_with_a_control_character_is_refused(login_as, session, demo_accounts):
    entry = login_as("bma")
    unit = demo_accounts["bma_cardio"].unit
    data = {
        "name": unit.name,
        "address": "北京市东城区\r\n请点击链接重新登录",
        "manager": unit.manager,
        "phone": unit.phone,
        "postal_code": unit.postal_code,
    }
    page = entry.post(f"/admin/units/edit/?id={unit.id}", data)
    assert page.status_code == 200
    block = _field_block(page.get_data(as_text=True), "address")
    assert ONE_LINE in block and "“地址”" in block
    session.expire_all()
    assert session.get(Unit, unit.id).address == unit.address


def test_an_account_name_with_a_control_character_is_refused(login_as, session, demo_accounts):
    entry = login_as("bma")
    before = session.scalar(select(func.count()).select_from(User))
    page = entry.post(
        "/admin/users/new/",
        {
            "username": "new_member",
            "display_name": "新成员\r\n请点击重新登录",
            "unit": str(demo_accounts["bma_peds"].unit_id),
            "phone": "",
            "email": "",
            "password": "given-by-boss-1",
            "password_confirm": "given-by-boss-1",
        },
    )
    assert page.status_code == 200
    assert ONE_LINE in _field_block(page.get_data(as_text=True), "display_name")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(User)) == before


def test_a_reason_with_a_control_character_is_refused(login_as, session, demo_accounts):
    project = make_project(session, demo_accounts["pumch"], ProjectState.PUBLISHED)
    session.commit()
    committee = login_as("bjcme")
    response = act(
        committee, "audit", "withdraw", [project.id], reason_confirmed="1", reason="资料不全\x1b[2J"
    )
    assert response.status_code == 200
    assert INVISIBLE in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Project, project.id).state is ProjectState.PUBLISHED


# -- the issuer's project number ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("2026－XH－00004", COMMITTEE_SERIES),  # full-width hyphen-minus
        ("2026–XH–00004", COMMITTEE_SERIES),  # en dashes
        ("2026−ＸＨ−4", COMMITTEE_SERIES),  # minus signs, full-width letters
        ("２０２６-ＸＨ-０００４", COMMITTEE_SERIES),
        ("２０２６-001 (国)", HALF_WIDTH),
        ("2026－001", HALF_WIDTH),
    ],
)
def test_an_issuer_number_is_judged_in_its_canonical_form(
    login_as, browser, session, number, message
):
    before = _projects(session)
    login_as("pumch")
    form = project_form(session, level="national", project_no=number, organizer="北京协和医院")
    page = browser.post("/admin/projects/new/", form)
    assert page.status_code == 200
    assert message in _field_block(page.get_data(as_text=True), "project_no")
    assert _projects(session) == before


def test_an_issuer_number_in_ascii_with_chinese_is_accepted(login_as, browser, session):
    login_as("pumch")
    form = project_form(
        session, level="national", project_no="2026-01-01-007（国）", organizer="北京协和医院"
    )
    assert browser.post("/admin/projects/new/", form).status_code == 302
    assert session.scalar(select(Project.id).where(Project.project_no == "2026-01-01-007（国）"))


# -- the import ---------------------------------------------------------------------------------
def test_the_import_refuses_control_characters_naming_the_column(login_as, session):
    branch = login_as("bma_cardio")
    before = _projects(session)
    rows = [
        project_row("1", 项目名称=PHISHING),
        project_row("2", 举办地点="北京市\n东城区"),
        project_row("3", 备注="第一行\n第二行\t缩进"),
    ]
    lecturers = [lecturer_row("3", 授课题目="总论\r\n请点击")]
    _, page = preview(branch, fill(download_template(branch), rows, lecturers))
    errors = errors_of(page)
    found = {(e[0], e[1], e[2]) for e in errors}
    # Data rows start on the sheet's third row (the header, then the example row).
    expected = {("项目", "3", "项目名称"), ("项目", "4", "举办地点"), ("授课教师", "3", "授课题目")}
    assert found == expected
    assert all(ONE_LINE in e[4] for e in errors)
    assert _projects(session) == before


def test_the_import_keeps_line_breaks_in_remarks(login_as, session):
    branch = login_as("bma_cardio")
    row = project_row("1", 项目名称="导入多行备注班", 备注="第一行\n第二行\t缩进")
    batch_id, page = preview(branch, fill(download_template(branch), [row], [lecturer_row("1")]))
    assert errors_of(page) == [] and batch_id is not None
    confirm(branch, batch_id)
    session.expire_all()
    remarks = session.scalar(select(Project.remarks).where(Project.name == "导入多行备注班"))
    assert remarks == "第一行\n第二行\t缩进"


@pytest.mark.parametrize(
    ("number", "message"),
    [("2026－XH－00004", COMMITTEE_SERIES), ("２０２６-001", HALF_WIDTH)],
)
def test_the_import_judges_an_issuer_number_in_its_canonical_form(
    login_as, session, number, message
):
    issuer = login_as("pumch")
    before = _projects(session)
    row = project_row("1", 项目编号=number, 项目级别="国家级")
    _, page = preview(issuer, fill(download_template(issuer), [row], [lecturer_row("1")]))
    errors = errors_of(page)
    assert [e[:3] for e in errors] == [["项目", "3", "项目编号"]]
    assert message in errors[0][4]
    assert _projects(session) == before
