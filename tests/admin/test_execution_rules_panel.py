"""The committee's rules around execution reports (执行情况) through the real HTTP
stack: the overdue-reports rule on the 备案规则 page and on 上报所选; 撤销公布 of a
project whose report is accepted, refused on the 项目审核 list; the 执行情况上报期限
section (the committee only, its own values, Chinese errors, CSRF, due dates carried
over)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import (
    ExecutionDeadline,
    ExecutionReport,
    ExecutionState,
    ProjectState,
    RuleKind,
    Severity,
)
from tests.admin.conftest import csrf_from
from tests.admin.test_filing_rules_panel import rules_form
from tests.admin.test_projects import act, flashes, state_of
from tests.factories import make_project, make_tree
from tests.refusals import assert_expired, assert_refused_with
from workflow import Action, execution, execution_rules, filing_rules

S = ProjectState
TODAY = filing_rules.today()
LATER = TODAY + timedelta(days=60)
YEAR = 2024  # no demo project is of this year


@pytest.fixture
def tree(demo_accounts, session):
    """A separate committee's tree whose accounts sign in with the demo password."""
    accounts = make_tree(session, "ovp_")
    for user in accounts.values():
        user.password = demo_accounts["bma_cardio"].password
    session.commit()
    return accounts


def ended(session, owner, days_ago: int):
    end = TODAY - timedelta(days=days_ago)
    return make_project(
        session, owner, S.PUBLISHED, year=end.year, start_date=end - timedelta(days=1), end_date=end
    )


# -- the rule ----------------------------------------------------------------------------
def test_the_rules_page_offers_the_overdue_rule(login_as, browser, session, demo_accounts):
    login_as("bjcme")
    html, data = rules_form(browser, 2026)
    assert "执行情况逾期" in html and "逾期超过天数" in html
    data |= {
        "overdue_reports-active": "y",
        "overdue_reports-severity": "block",
        "overdue_reports-overdue_days": "45",
    }
    response = browser.client.post("/admin/rules/?year=2026", data=data)
    assert response.status_code == 302
    stored = filing_rules.settings_of(session, demo_accounts["bjcme"].unit_id, 2026)
    rule = stored[RuleKind.OVERDUE_REPORTS]
    assert rule.active and rule.severity is Severity.BLOCK and rule.param("overdue_days") == 45
    data["overdue_reports-overdue_days"] = "366"
    html = browser.client.post("/admin/rules/?year=2026", data=data).get_data(as_text=True)
    assert "请输入0至365之间的整数" in html


def test_a_unit_with_overdue_reports_is_held_back_on_report(login_as, browser, session, tree):
    branch = tree["branch"]
    oldest = ended(session, branch, 90)
    ended(session, branch, 50)
    project = make_project(
        session, branch, name="逾期单位的新项目", year=LATER.year, start_date=LATER, end_date=LATER
    )
    session.commit()
    filing_rules.set_rule(
        session,
        tree["committee"].unit_id,
        LATER.year,
        RuleKind.OVERDUE_REPORTS,
        severity=Severity.BLOCK,
        overdue_days=30,
    )
    session.commit()
    login_as("ovp_branch")
    # The form's yellow box says so before the unit reports.
    form = browser.get(f"/admin/projects/edit/?id={project.id}").get_data(as_text=True)
    assert "执行情况逾期" in form
    response = act(browser, "projects", "report", [project.id])
    text = flashes(browser.get(response.headers["Location"]))
    due = (oldest.end_date + timedelta(days=14)).isoformat()
    assert "“逾期单位的新项目”：执行情况逾期：该单位有2个项目的执行情况逾期超过30天未上报" in text
    assert f"最早一份应于{due}前上报" in text
    assert state_of(session, project.id) is S.DRAFT


# -- 撤销公布 -------------------------------------------------------------------------------
def test_withdrawal_of_a_project_with_an_accepted_report(login_as, browser, session, demo_accounts):
    """撤销公布 from 项目审核 of a project whose report is accepted: done, and the report
    goes back to its unit with the reason (its certificates revoked by that move)."""
    cardio, bma, bjcme = (demo_accounts[k] for k in ("bma_cardio", "bma", "bjcme"))
    project = make_project(session, cardio, S.PUBLISHED, name="执行情况已审核的项目")
    report = execution.open_report(session, cardio, project)
    session.commit()
    for account, action in ((cardio, Action.REPORT), (bma, Action.REPORT), (bjcme, Action.ACCEPT)):
        execution.move(session, report, action, account)
    session.commit()

    login_as("bjcme")
    withdraw = {"reason_confirmed": "1", "reason": "公布信息有误"}
    response = act(browser, "audit", "withdraw", [project.id], **withdraw)
    text = flashes(browser.get(response.headers["Location"]))
    assert "撤销公布：已处理 1 项" in text
    assert state_of(session, project.id) is S.AT_COMMITTEE
    session.expire_all()
    report = session.get(ExecutionReport, report.id)
    assert report.state is ExecutionState.RETURNED
    assert report.return_reason == "项目已撤销公布：公布信息有误"


# -- 执行情况上报期限 -----------------------------------------------------------------------------
def opened(session, owner, year=YEAR):
    project = make_project(
        session,
        owner,
        S.PUBLISHED,
        year=year,
        start_date=date(year, 4, 1),
        end_date=date(year, 4, 2),
    )
    return execution.open_report(session, owner, project)


def due_post(browser, days, year=YEAR):
    return browser.post(
        f"/admin/rules/due-days?year={year}",
        {"due_days": days},
        token_from=f"/admin/rules/?year={year}",
    )


def test_the_committee_sets_its_due_days(login_as, browser, session, demo_accounts, tree):
    cardio, bma, bjcme = (demo_accounts[k] for k in ("bma_cardio", "bma", "bjcme"))
    draft, sent, accepted = (opened(session, cardio) for _ in range(3))
    other_year = opened(session, cardio, YEAR + 1)
    theirs = opened(session, tree["branch"])
    session.commit()
    execution.move(session, sent, Action.REPORT, cardio)
    for account, action in ((cardio, Action.REPORT), (bma, Action.REPORT), (bjcme, Action.ACCEPT)):
        execution.move(session, accepted, action, account)
    session.commit()
    before = {r.id: r.due_date for r in (accepted, other_year, theirs)}

    login_as("bjcme")
    page = browser.get(f"/admin/rules/?year={YEAR}").get_data(as_text=True)
    assert "执行情况上报期限" in page and "项目结束后天数" in page
    assert 'name="due_days"' in page and 'value="14"' in page
    response = due_post(browser, "30")
    assert response.status_code == 302
    text = flashes(browser.get(response.headers["Location"]))
    assert f"{YEAR}年度执行情况上报期限已保存：项目结束后30天内上报" in text
    assert "已更新2份尚未审核的执行情况的应报日期" in text

    session.expire_all()
    due = {r.id: r.due_date for r in session.scalars(select(ExecutionReport))}
    assert due[draft.id] == due[sent.id] == date(YEAR, 4, 2) + timedelta(days=30)
    assert all(due[key] == value for key, value in before.items())
    assert session.get(ExecutionDeadline, (bjcme.unit_id, YEAR)).days == 30
    assert 'value="30"' in browser.get(f"/admin/rules/?year={YEAR}").get_data(as_text=True)
    # A report opened afterwards is due 30 days after its end.
    assert opened(session, cardio).due_date == date(YEAR, 4, 2) + timedelta(days=30)


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "请输入1至365之间的整数"), ("366", "请输入1至365之间的整数"), ("", "此项为必填项")],
)
def test_a_bad_number_of_days_is_refused_in_chinese(
    login_as, browser, session, demo_accounts, value, message
):
    login_as("bjcme")
    response = due_post(browser, value)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and "is-invalid" in html
    assert session.get(ExecutionDeadline, (demo_accounts["bjcme"].unit_id, YEAR)) is None


def test_another_committees_days_are_not_shown_nor_changed(
    login_as, browser, session, demo_accounts, tree
):
    execution_rules.set_due_days(session, tree["committee"].unit_id, YEAR, 60)
    theirs = opened(session, tree["branch"])
    session.commit()
    assert theirs.due_date == date(YEAR, 4, 2) + timedelta(days=60)
    login_as("bjcme")
    page = browser.get(f"/admin/rules/?year={YEAR}").get_data(as_text=True)
    assert 'value="14"' in page and 'value="60"' not in page
    due_post(browser, "20")
    session.expire_all()
    assert session.get(ExecutionReport, theirs.id).due_date == date(YEAR, 4, 2) + timedelta(days=60)
    assert session.get(ExecutionDeadline, (tree["committee"].unit_id, YEAR)).days == 60


@pytest.mark.parametrize("username", ["bma", "bma_cardio", "pumch"])
def test_only_a_committee_sets_due_days(login_as, session, demo_accounts, username):
    browser = login_as(username)
    assert_refused_with(browser.get(f"/admin/rules/?year={YEAR}"), 403)
    response = browser.post(f"/admin/rules/due-days?year={YEAR}", {"due_days": "30"},
                            token_from="/admin/")  # fmt: skip
    assert_refused_with(response, 403)
    assert session.scalar(select(ExecutionDeadline).where(ExecutionDeadline.year == YEAR)) is None


def test_the_due_days_form_needs_csrf(login_as, browser, session):
    login_as("bjcme")
    url = f"/admin/rules/due-days?year={YEAR}"
    assert_expired(browser.client.post(url, data={"due_days": "30"}))
    assert_expired(browser.client.post(url, data={"due_days": "30", "csrf_token": "forged"}))
    page = browser.get(f"/admin/rules/?year={YEAR}").get_data(as_text=True)
    assert csrf_from(page)
    assert session.scalar(select(ExecutionDeadline).where(ExecutionDeadline.year == YEAR)) is None
