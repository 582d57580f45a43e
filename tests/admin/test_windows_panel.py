"""申报时间 through the real HTTP stack: the committee sets a year's windows, a society
its branches' cut-off (never the committee's windows, never past its close), both grant
exceptions to the units they review (a society never to another society's branch), an
entry unit reads its own window; CSRF, bad dates refused at their field with nothing
stored; a bulk 上报 outside the window skipped with the date in the list's message; the
countdown on the dashboard and above the list, one statement."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import delete, func, select

from models import FilingWindow, ProjectState, Unit, WindowException
from models import WindowStep as Step
from tests.admin.test_projects import act, flashes, state_of
from tests.factories import make_project
from tests.refusals import assert_expired, assert_refused_with
from workflow import calendar

S = ProjectState
YEAR = 2027
URL = f"/admin/windows/?year={YEAR}"


def on(day: date):
    return time_machine.travel(datetime(day.year, day.month, day.day, 4, tzinfo=UTC), tick=False)


@pytest.fixture
def clean(session, demo_accounts):
    """The demo tree without the demo's own windows and exceptions."""
    session.execute(delete(WindowException))
    session.execute(delete(FilingWindow))
    session.commit()
    return demo_accounts


def committee_windows(session, year=YEAR) -> dict:
    session.expire_all()
    rows = session.scalars(
        select(FilingWindow).where(
            FilingWindow.year == year, FilingWindow.unit_id == unit_id(session, "bjcme")
        )
    )
    return {w.step: (w.opens_on, w.closes_on) for w in rows}


def unit_id(session, username) -> int:
    from models import User

    return session.scalar(select(User.unit_id).where(User.username == username))


def set_2027(session, accounts, cut_off=date(2026, 12, 31)):
    committee = accounts["bjcme"]
    for step, closes in (
        (Step.ENTRY_REPORT, date(2027, 1, 10)),
        (Step.SOCIETY_REPORT, date(2027, 1, 20)),
        (Step.AUDIT, date(2027, 1, 31)),
    ):
        calendar.set_window(session, committee, YEAR, step, date(2026, 7, 15), closes)
    if cut_off:
        calendar.set_window(session, accounts["bma"], YEAR, Step.ENTRY_REPORT, None, cut_off)
    session.commit()


def committee_form(**dates) -> dict:
    data = {f"{step.value}-{end}": "" for step in Step for end in ("opens", "closes")}
    return data | dates


# -- the committee ------------------------------------------------------------------------
def test_the_committee_sets_the_years_windows(login_as, browser, session, clean):
    login_as("bjcme")
    html = browser.get(URL).get_data(as_text=True)
    assert "申报时间" in html and "立项单位上报" in html and "总会上报" in html
    assert "市继委审核" in html and "开始日期" in html and "截止日期" in html
    data = committee_form(
        **{
            "entry_report-opens": "2026-07-15",
            "entry_report-closes": "2027-01-10",
            "society_report-closes": "2027-01-20",
            "audit-closes": "2027-01-31",
        }
    )
    response = browser.post(URL, data, token_from=URL)
    assert response.status_code == 302
    assert committee_windows(session) == {
        Step.ENTRY_REPORT: (date(2026, 7, 15), date(2027, 1, 10)),
        Step.SOCIETY_REPORT: (None, date(2027, 1, 20)),
        Step.AUDIT: (None, date(2027, 1, 31)),
    }
    assert "2027 年度申报时间已保存" in flashes(browser.get(response.headers["Location"]))
    # Both dates blank: the step's window goes.
    data["audit-closes"] = ""
    assert browser.post(URL, data, token_from=URL).status_code == 302
    assert Step.AUDIT not in committee_windows(session)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"audit-closes": "2027-13-01"}, "请输入日期，格式如 2027-01-10。"),
        ({"audit-opens": "2027-02-01", "audit-closes": "2027-01-01"}, "截止日期不得早于开始日期"),
        ({"audit-opens": "2027-02-01"}, "请同时填写截止日期"),
        ({"audit-closes": "2031-01-01"}, "请输入 2026-01-01 至 2028-12-31 之间的日期"),
    ],
)
def test_bad_dates_are_refused_at_their_field(login_as, browser, session, clean, fields, message):
    login_as("bjcme")
    data = committee_form(**{"entry_report-closes": "2027-01-10"}, **fields)
    response = browser.post(URL, data, token_from=URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and "is-invalid" in html
    assert committee_windows(session) == {}  # nothing stored, not even the good step


def test_a_post_without_the_csrf_token_changes_nothing(login_as, browser, session, clean):
    login_as("bjcme")
    data = committee_form(**{"entry_report-closes": "2027-01-10"})
    assert_expired(browser.client.post(URL, data=data))
    assert committee_windows(session) == {}
    set_2027(session, clean, cut_off=None)
    branch = session.get(Unit, unit_id(session, "bma_cardio"))
    grant = {"unit": branch.id, "until": "2027-01-09", "reason": "x"}
    browser.logout()
    login_as("bma")
    assert_expired(browser.client.post(f"/admin/windows/grant?year={YEAR}", data=grant))
    assert session.scalar(select(func.count()).select_from(WindowException)) == 0


# -- a society ----------------------------------------------------------------------------
def test_a_society_sets_its_cut_off_inside_the_committees_window(login_as, browser, session, clean):
    set_2027(session, clean, cut_off=None)
    before = committee_windows(session)
    login_as("bma")
    html = browser.get(URL).get_data(as_text=True)
    assert "分会上报截止日期" in html and "2027-01-10" in html
    assert 'name="entry_report-opens"' not in html  # the committee's dates are read only
    # The committee's own fields, posted anyway, change nothing of the committee's.
    data = {"closes": "2027-01-15", "entry_report-closes": "2027-03-01"}
    response = browser.post(URL, data, token_from=URL)
    assert "截止日期不得晚于市继委的截止日期（2027-01-10）" in response.get_data(as_text=True)
    assert browser.post(URL, {"closes": "2026-12-31"}, token_from=URL).status_code == 302
    assert committee_windows(session) == before
    bma = unit_id(session, "bma")
    stored = session.scalar(select(FilingWindow).where(FilingWindow.unit_id == bma))
    assert (stored.step, stored.closes_on) == (Step.ENTRY_REPORT, date(2026, 12, 31))


def test_a_society_grants_its_own_branches_only(login_as, browser, session, clean):
    set_2027(session, clean)
    login_as("bma")
    url = f"/admin/windows/grant?year={YEAR}"
    other = session.get(Unit, unit_id(session, "tcm_acu"))  # 北京中医药学会's branch
    own = session.get(Unit, unit_id(session, "bma_cardio"))
    html = browser.get(URL).get_data(as_text=True)
    assert f'value="{own.id}"' in html and f'value="{other.id}"' not in html
    response = browser.post(
        url, {"unit": other.id, "until": "2027-01-05", "reason": "迟"}, token_from=URL
    )
    assert response.status_code == 200
    response = browser.post(
        url, {"unit": own.id, "until": "2027-01-15", "reason": "迟"}, token_from=URL
    )
    assert "不得晚于市继委的截止日期（2027-01-10）" in response.get_data(as_text=True)
    response = browser.post(
        url, {"unit": own.id, "until": "2027-01-05", "reason": ""}, token_from=URL
    )
    assert "请填写例外原因" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(WindowException)) == 0
    response = browser.post(
        url, {"unit": own.id, "until": "2027-01-05", "reason": "停电"}, token_from=URL
    )
    assert response.status_code == 302
    page = browser.get(URL).get_data(as_text=True)
    assert own.name in page and "停电" in page and "2027-01-05" in page


def test_an_entry_unit_reads_its_own_window(login_as, browser, session, clean):
    set_2027(session, clean)
    login_as("bma_cardio")
    html = browser.get(URL).get_data(as_text=True)
    assert "2026-12-31" in html and "总会规定的截止日期" in html
    assert 'id="windows-form"' not in html and 'id="grant-form"' not in html
    assert_refused_with(browser.post(URL, {"closes": "2026-12-30"}, token_from=URL), 403)
    grant = {"unit": unit_id(session, "bma_cardio"), "until": "2027-01-05", "reason": "x"}
    assert_refused_with(
        browser.post(f"/admin/windows/grant?year={YEAR}", grant, token_from=URL), 403
    )


# -- a bulk 上报 outside the window --------------------------------------------------------
def test_a_late_bulk_report_says_the_date(login_as, browser, session, clean):
    owner = clean["bma_cardio"]
    rows = [make_project(session, owner, year=YEAR, name=f"迟报项目{i}") for i in range(3)]
    session.commit()
    ids = [p.id for p in rows]
    set_2027(session, clean)
    with on(date(2027, 1, 2)):
        login_as("bma_cardio")
        response = act(browser, "projects", "report", ids)
        text = flashes(browser.get(response.headers["Location"]))
    assert "3 项未处理" in text, text
    for i in range(3):
        assert f"“迟报项目{i}”：2027 年度分会上报已于12月31日截止" in text
    assert {state_of(session, i) for i in ids} == {S.DRAFT}


def test_sending_back_works_outside_every_window(login_as, browser, session, clean):
    project = make_project(session, clean["bma_cardio"], S.AT_SOCIETY, year=YEAR)
    session.commit()
    set_2027(session, clean)
    with on(date(2027, 3, 1)):
        login_as("bma")
        act(browser, "review", "unlock", [project.id], reason_confirmed="1", reason="请补充")
    assert state_of(session, project.id) is S.RETURNED


# -- the countdown ------------------------------------------------------------------------
def test_the_countdown_on_the_dashboard_and_above_the_list(
    another_browser, session, clean, count_statements
):
    set_2027(session, clean)

    def signed_in():
        browser = another_browser()
        assert browser.login("bma_cardio").status_code == 302
        return browser

    with on(date(2026, 12, 26)):
        browser = signed_in()
        dashboard = browser.get("/admin/").get_data(as_text=True)
        listing = browser.get("/admin/projects/").get_data(as_text=True)
        with count_statements() as counter:
            browser.get("/admin/projects/")
    line = "2027 年度：距分会上报截止还有 5 天（12月31日）"
    assert line in dashboard and line in listing
    windows = [s for s in counter.statements if "filing_windows" in s]
    assert len(windows) == 1
    with on(date(2026, 12, 31)):
        assert "2027 年度分会上报今天截止" in signed_in().get("/admin/").get_data(as_text=True)
    with on(date(2027, 1, 3)):
        browser = signed_in()
        dashboard = browser.get("/admin/").get_data(as_text=True)
        executions = browser.get("/admin/executions/").get_data(as_text=True)
    assert "2027 年度分会上报已于12月31日截止" in dashboard
    assert "cme-countdown" not in executions  # the 执行情况 lists are about reports
