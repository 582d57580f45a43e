"""年度 follows the dates (issue 25 §1): the field rules, the project form and its
proposal, through the real panel on both databases. The import's rows:
tests/admin/test_import.py. The clock is moved with time-machine."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from models import Project, rules
from tests.admin.conftest import own_context_browser
from tests.admin.test_projects import project_form

# 7 December 2026, 10:00 in Beijing: the horizon is 31 December 2027.
DECEMBER = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
NEW = "/admin/projects/new/"
GOOD = {
    "year": 2027,
    "start_date": date(2027, 1, 12),
    "end_date": date(2027, 1, 14),
}


def test_the_year_must_contain_the_start_date():
    errors = rules._judge_year
    found: dict = {}
    errors(found, GOOD | {"year": 2026}, date(2027, 12, 31))
    assert set(found) == {"year"}
    found = {}
    errors(found, GOOD, date(2027, 12, 31))
    assert found == {}


def test_the_horizon_follows_the_beijing_year_and_the_setting():
    # 31 December 2026, 17:00 UTC is already 1 January 2027 in Beijing.
    with time_machine.travel(datetime(2026, 12, 31, 17, 0, tzinfo=UTC), tick=False):
        assert rules.horizon() == date(2028, 12, 31)
        assert rules.horizon(0) == date(2027, 12, 31)
    with time_machine.travel(DECEMBER, tick=False):
        assert rules.horizon() == date(2027, 12, 31)
        assert rules.horizon(3) == date(2029, 12, 31)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"year": 2026}, "year", "年度应与开始日期一致：开始日期 2027-01-12 属于 2027 年度。"),
        (
            {"year": 2040, "start_date": date(2040, 1, 12), "end_date": date(2040, 1, 14)},
            "start_date",
            "2027-12-31",
        ),
        ({"end_date": date(2028, 1, 2)}, "end_date", "2028-01-02"),
    ],
)
def test_validate_project_refuses_in_chinese_at_the_field(app_context, changes, field, words):
    values = dict.fromkeys(rules.PROJECT_FIELDS) | GOOD | changes
    with time_machine.travel(DECEMBER, tick=False):
        errors = rules.validate_project(values, issuer=False)
    assert field in errors
    assert words in str(errors[field])


# -- the form ---------------------------------------------------------------------
@pytest.fixture
def branch(app, demo_accounts):
    browser = own_context_browser(app)
    with time_machine.travel(DECEMBER, tick=False):
        assert browser.login("bma_cardio").status_code == 302
        yield browser


def projects_named(session, name: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Project).where(Project.name == name))


def field_error(page: str, field: str) -> str:
    marker = f'id="{field}-error">'
    assert marker in page, page[:300]
    return page.split(marker, 1)[1].split("</div>", 1)[0]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"year": "2026", "start_date": "2027-01-12", "end_date": "2027-01-14"},
            "year",
            "年度应与开始日期一致：开始日期 2027-01-12 属于 2027 年度。",
        ),
        (
            {"year": "2040", "start_date": "2040-01-12", "end_date": "2040-01-14"},
            "start_date",
            "项目日期最晚可填到 2027-12-31",
        ),
        (
            {"year": "2027", "start_date": "2027-12-30", "end_date": "2028-01-02"},
            "end_date",
            "2028-01-02 超出了可申报的范围",
        ),
    ],
)
def test_the_form_refuses_a_wrong_year_or_far_dates_and_saves_nothing(
    branch, session, changes, field, words
):
    data = project_form(session, name="年度不符的学习班", **changes)
    response = branch.post(NEW, data, token_from=NEW)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert words in field_error(page, field)
    assert projects_named(session, "年度不符的学习班") == 0


@pytest.mark.parametrize(
    ("name", "year", "start", "end", "saved"),
    [
        pytest.param(
            "一月的学习班", "2027", "2027-01-12", "2027-01-14", date(2027, 1, 12),
            id="a_january_course_is_next_years_project",
        ),
        pytest.param(
            "年度留空的学习班", "", "2027-03-02", "2027-03-04", date(2027, 3, 2),
            id="a_blank_year_takes_the_start_dates_year",
        ),
    ],
)  # fmt: skip
def test_the_form_saves_the_courses_year(branch, session, name, year, start, end, saved):
    data = project_form(session, name=name, year=year, start_date=start, end_date=end)
    assert branch.post(NEW, data, token_from=NEW).status_code == 302
    session.expire_all()
    project = session.scalar(select(Project).where(Project.name == name))
    assert (project.year, project.start_date) == (2027, saved)


def test_a_blank_year_without_a_start_date_is_required(branch, session):
    data = project_form(session, name="两者皆空的学习班", year="", start_date="")
    page = branch.post(NEW, data, token_from=NEW).get_data(as_text=True)
    assert "必填" in field_error(page, "year")
    assert projects_named(session, "两者皆空的学习班") == 0


def test_the_new_form_proposes_beijings_year_and_loads_the_proposal_script(app, demo_accounts):
    browser = own_context_browser(app)
    # 31 December 2026, 17:00 UTC: 1 January 2027 in Beijing.
    with time_machine.travel(datetime(2026, 12, 31, 17, 0, tzinfo=UTC), tick=False):
        assert browser.login("bma_cardio").status_code == 302
        page = browser.get(NEW).get_data(as_text=True)
    year = re.search(r'<input[^>]*name="year"[^>]*>', page).group(0)
    assert 'value="2027"' in year
    assert "admin/cme-year.js" in page
    script = page.split("admin/cme-year.js", 1)[0].rsplit("<script", 1)[1]
    assert "nonce=" in script
