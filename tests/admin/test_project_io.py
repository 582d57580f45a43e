"""Exports, CSRF and the cost of a list page."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import unquote

import openpyxl
import pytest
from sqlalchemy import select

import permissions
from models import Project, ProjectState
from tests.factories import make_project

S = ProjectState


@pytest.fixture
def formula_project(demo_accounts, session):
    project = make_project(
        session,
        demo_accounts["bma_cardio"],
        S.AT_SOCIETY,
        name='=HYPERLINK("http://x","点我")',
        principal="+SUM(A1)",
        contact="@cmd",
        venue="-1+2",
    )
    session.commit()
    return project


def _download(browser, url):
    response = browser.get(url)
    body = response.get_data()
    response.close()
    return response, body


def test_csv_export_is_excel_friendly_and_exactly_the_filtered_rows(
    formula_project, login_as, browser, session, demo_accounts
):
    login_as("bma")
    # 状态 is filter 1; ask for the projects awaiting review.
    response, body = _download(browser, "/admin/review/export/csv/?flt0_1=at_society")
    assert response.status_code == 200
    assert body.startswith(b"\xef\xbb\xbf")
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in disposition
    # Dated, so two downloads do not overwrite each other.
    assert re.fullmatch(
        r"项目审阅_\d{4}-\d{2}-\d{2}\.csv", unquote(disposition.split("filename*=UTF-8''")[1])
    )
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, data = rows[0], rows[1:]
    assert header[:3] == ["年度", "项目编号", "项目名称"]
    expected = set(
        session.scalars(
            permissions.visible_projects(demo_accounts["bma"])
            .where(Project.state == S.AT_SOCIETY)
            .with_only_columns(Project.name)
        )
    )
    names = [row[2] for row in data]
    assert len(names) == len(expected)
    assert {n.lstrip("'") for n in names} == expected
    dangerous = next(row for row in data if "HYPERLINK" in row[2])
    assert dangerous[2].startswith("'=")
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in data for cell in row)
    assert "已上报总会" in {row[header.index("状态")] for row in data}


def test_xlsx_export_has_numbers_and_no_formulas(formula_project, login_as, browser):
    login_as("bma_cardio")
    response, body = _download(browser, "/admin/projects/export/xlsx/?status=all")
    assert response.status_code == 200
    disposition = unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''")[1])
    assert re.fullmatch(r"我的项目_\d{4}-\d{2}-\d{2}\.xlsx", disposition)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    # Ready to read in Excel: a named sheet, a bold frozen header, columns fit for Chinese.
    assert sheet.title == "我的项目"
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    header = [cell.value for cell in sheet[1]]
    name_column = openpyxl.utils.get_column_letter(header.index("项目名称") + 1)
    year_column = openpyxl.utils.get_column_letter(header.index("年度") + 1)
    assert sheet.column_dimensions[name_column].width > 20
    assert sheet.column_dimensions[year_column].width < 10
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 12  # the demo's eleven projects of the branch, and the new one
    credits = header.index("学分")
    year = header.index("年度")
    for row in rows:
        assert isinstance(row[credits].value, (int, float))
        # A number cell (Excel keeps every number as a double: 2026 may read back 2026.0).
        assert isinstance(row[year].value, (int, float)) and row[year].value == int(row[year].value)
        for cell in row:
            assert cell.data_type != "f"
    named = {row[header.index("项目名称")].value: row for row in rows}
    # A string cell, shown as typed: no ' in front, never run.
    dangerous = named['=HYPERLINK("http://x","点我")'][header.index("项目名称")]
    assert dangerous.data_type == "s"


def test_export_is_bounded(formula_project, login_as, browser, app, monkeypatch):
    login_as("bma_cardio")
    monkeypatch.setitem(app.config, "EXPORT_MAX_ROWS", 3)
    response = browser.get("/admin/projects/export/csv/")
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "超过单次导出上限 3 条" in page


POSTS = (
    ("bma_cardio", "/admin/projects/new/"),
    ("bma_cardio", "/admin/projects/edit/?id={draft}"),
    ("bma_cardio", "/admin/projects/delete/"),
    ("bma_cardio", "/admin/projects/action/"),
    ("bma", "/admin/review/action/"),
    ("bjcme", "/admin/audit/action/"),
    ("bma_cardio", "/logout"),
)


@pytest.mark.parametrize(("username", "url"), POSTS)
def test_every_post_without_a_csrf_token_is_refused(
    demo_accounts, session, login_as, browser, username, url
):
    draft = make_project(session, demo_accounts["bma_cardio"], S.DRAFT)
    session.commit()
    login_as(username)
    before = {
        r.id: (r.state, r.name)
        for r in session.execute(select(Project.id, Project.state, Project.name))
    }
    data = {
        "id": str(draft.id),
        "rowid": str(draft.id),
        "action": "report" if "projects" in url else "unlock",
        "name": "无令牌",
    }
    response = browser.client.post(url.format(draft=draft.id), data=data)
    assert response.status_code == 400
    session.expire_all()
    after = {
        r.id: (r.state, r.name)
        for r in session.execute(select(Project.id, Project.state, Project.name))
    }
    assert after == before
    assert browser.get("/admin/").status_code == 200  # still logged in: logout was refused too


@pytest.mark.parametrize("username", ["bma_cardio", "bma", "bjcme"])
def test_a_list_page_costs_the_same_whatever_its_size(
    demo_accounts, session, login_as, browser, count_statements, username
):
    for _ in range(25):
        make_project(session, demo_accounts["bma_cardio"], S.AT_COMMITTEE)
    session.commit()
    login_as(username)
    view = {"bma_cardio": "projects", "bma": "review", "bjcme": "audit"}[username]
    # The panel's chrome (the account, its login session, the header's unread
    # messages) is the same on every page: the help page has nothing else.
    browser.get("/admin/help/")
    with count_statements() as chrome:
        browser.get("/admin/help/")
    counts = {}
    for size in (20, 50, 100):
        browser.get(f"/admin/{view}/?page_size={size}")  # warm the session and caches
        with count_statements() as counter:
            page = browser.get(f"/admin/{view}/?page_size={size}")
        assert page.status_code == 200
        counts[size] = counter.count
    assert counts[20] == counts[50] == counts[100], counts
    # Each list: the total, the page's rows, the 年度 bar (first and last year),
    # the filter builder's disciplines and units, the status tabs' one grouped
    # count, and the page's filing-rule warnings (with, when one names another
    # project, whether the account may see it): 8. A reviewer's list also reads
    # the page's versions (已修改 N 项); the committee's 待审核 rows may be back
    # by a withdrawal, whose reasons are read for the whole page in one more. Above
    # every list, the countdown of the account's filing window (申报时间): one more.
    own = {"projects": 9, "review": 10, "audit": 11}[view]
    assert counts[20] <= chrome.count + own, (counts, chrome.count)
