"""首页 · 执行情况: an entry unit sees how many reports it has to file and how many are
overdue, a society those waiting for its review, the committee those waiting for its
audit, each a card linking to the 执行情况 list that holds them; counted here again."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

import permissions
from models import ExecutionReport, ExecutionState, ProjectState
from models.base import beijing_today
from tests.admin.test_execution_stats import _published
from tests.factories import make_project
from tests.test_execution_workflow import learner
from workflow import Action, execution

CARD = re.compile(
    r'<a class="card[^"]*" href="([^"]+)">\s*<div class="card-body">\s*'
    r'<div class="text-muted">([^<]+)</div>\s*<div class="display-4([^"]*)">(\d+)</div>'
)


def cards(browser) -> dict[str, tuple[str, int, bool]]:
    """Card title -> (its link, its count, marked overdue)."""
    html = browser.get("/admin/").get_data(as_text=True)
    return {
        title: (url.replace("&amp;", "&"), int(count), "text-danger" in marks)
        for url, title, marks, count in CARD.findall(html)
    }


def own_to_do(session, user) -> tuple[int, int]:
    """(to file, overdue) of the entry unit, counted here from its rows."""
    today = beijing_today()
    reports = {r.project_id: r for r in session.scalars(select(ExecutionReport))}
    to_file = overdue = 0
    for p in session.scalars(permissions.visible_projects(user)):
        if p.state is not ProjectState.PUBLISHED:
            continue
        report = reports.get(p.id)
        if report is not None and not ExecutionState(report.state).modifiable:
            continue
        due = report.due_date if report else p.end_date + timedelta(days=14)
        to_file += p.end_date < today
        overdue += due < today
    return to_file, overdue


def setup(session, demo) -> None:
    """bma_cardio: one never opened and one opened draft (both long overdue), one
    ending next year (not to file yet), one reported (at its society), and one the
    society passed on (at the committee)."""
    cardio, bma = demo["bma_cardio"], demo["bma"]
    _published(session, cardio)
    execution.open_report(session, cardio, _published(session, cardio))
    later = date.today() + timedelta(days=400)
    make_project(session, cardio, ProjectState.PUBLISHED, end_date=later, start_date=later)
    reported = execution.open_report(session, cardio, _published(session, cardio))
    execution.add_learner(session, cardio, reported, learner())
    execution.move(session, reported, Action.REPORT, cardio)
    passed = execution.open_report(session, cardio, _published(session, cardio))
    execution.move(session, passed, Action.REPORT, cardio)
    execution.move(session, passed, Action.REPORT, bma)
    session.commit()


def _follow(app, browser, url: str, endpoint: str) -> None:
    """The list answers (once its helper registered it: until then the link is its path)."""
    if f"{endpoint}.index_view" in app.view_functions:
        assert browser.get(url).status_code == 200


def test_an_entry_unit_sees_its_reports_to_file_and_overdue(app, login_as, session, demo_accounts):
    before = own_to_do(session, demo_accounts["bma_cardio"])
    setup(session, demo_accounts)
    to_file, overdue = own_to_do(session, demo_accounts["bma_cardio"])
    assert (to_file - before[0], overdue - before[1]) == (2, 2)
    browser = login_as("bma_cardio")
    found = cards(browser)
    assert found["待填报执行情况"] == ("/admin/executions/?status=held", to_file, False)
    assert found["执行情况已逾期"] == ("/admin/executions/?status=overdue", overdue, True)
    assert "执行情况待审阅" not in found and "执行情况待审核" not in found
    _follow(app, browser, found["待填报执行情况"][0], "executions")


@pytest.mark.parametrize(
    ("username", "title", "state", "url", "endpoint"),
    [
        ("bma", "执行情况待审阅", "at_society", "/admin/execution-review/", "execution_review"),
        ("bjcme", "执行情况待审核", "at_committee", "/admin/execution-audit/", "execution_audit"),
    ],
)
def test_a_reviewer_sees_the_reports_waiting_for_it(
    app, login_as, session, demo_accounts, username, title, state, url, endpoint
):
    setup(session, demo_accounts)
    user = demo_accounts[username]
    waiting = len(
        session.scalars(
            permissions.visible_executions(user).where(ExecutionReport.state == state)
        ).all()
    )
    assert waiting >= 1
    browser = login_as(username)
    found = cards(browser)
    assert found[title] == (f"{url}?status={state}", waiting, False)
    assert "待填报执行情况" not in found and "执行情况已逾期" not in found
    _follow(app, browser, found[title][0], endpoint)


def test_another_societys_reports_are_not_counted(login_as, session, demo_accounts):
    setup(session, demo_accounts)
    # bjtcm's branches reported nothing of bma_cardio's: its card counts its own only.
    own = session.scalars(
        permissions.visible_executions(demo_accounts["bjtcm"]).where(
            ExecutionReport.state == "at_society"
        )
    ).all()
    assert cards(login_as("bjtcm"))["执行情况待审阅"][1] == len(own)
    assert all(r.owner_unit_id != demo_accounts["bma_cardio"].unit_id for r in own)
