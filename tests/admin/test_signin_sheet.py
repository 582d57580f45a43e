"""签到 sheet (admin_views/signin_sheet.py): only the report's owner unit, while it may
edit the report, opens and closes the on-site sign-in and sees its QR code; every other
account, of this tree or another, and the owner once the report went upward get 404, and
nothing changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import ExecutionEvent, ExecutionReport, ProjectState, RosterSource, rules
from models.base import beijing_today
from tests.factories import make_project, make_tree
from tests.refusals import assert_expired, assert_not_found
from workflow import Action, execution, signin

OTHERS = ("bma_peds", "bma", "bjtcm", "bjcme", "pumch", "tcm_acu")


def open_report(session, owner, *, around_today: bool = True) -> ExecutionReport:
    """A published project's report of ``owner``'s unit, held today (Beijing) if asked."""
    project = make_project(session, owner, ProjectState.PUBLISHED)
    report = execution.open_report(session, owner, project)
    if around_today:
        today = beijing_today()
        report.start_date, report.end_date = today - timedelta(days=1), today + timedelta(days=1)
    session.commit()
    return report


def sheet_url(report_id: int, what: str = "") -> str:
    return f"/admin/signin-sheet/{report_id}/{what}"


def state_of(session, report_id: int):
    session.expire_all()
    report = session.get(ExecutionReport, report_id)
    return report.signin_open, report.signin_nonce, report.version


def test_the_owner_opens_and_closes_the_signin(login_as, session, demo_accounts):
    report = open_report(session, demo_accounts["bma_cardio"])
    browser = login_as("bma_cardio")
    page = browser.get(sheet_url(report.id)).get_data(as_text=True)
    assert "开启签到" in page and "签到已关闭" in page and 'class="cme-qr"' not in page

    response = browser.post(sheet_url(report.id, "open"), token_from=sheet_url(report.id))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(sheet_url(report.id))
    is_open, nonce, _ = state_of(session, report.id)
    assert is_open and nonce and len(nonce) == 12
    page = browser.get(sheet_url(report.id)).get_data(as_text=True)
    assert "签到已开启" in page and "关闭签到" in page
    # The QR code is drawn inline, with the public address beside it as text.
    assert "<svg" in page and 'class="cme-qr"' in page
    assert "http://localhost/signin/" in page
    assert "已签到" in page and "0 人" in page

    # The address shown leads to the learner's form.
    address = page.split('id="signin-address"')[0].rsplit('href="', 1)[1].split('"')[0]
    form = browser.get(address.removeprefix("http://localhost"))
    assert form.status_code == 200 and "现场签到" in form.get_data(as_text=True)

    # A new code voids the old one.
    browser.post(sheet_url(report.id, "open"), token_from=sheet_url(report.id))
    _, newer, _ = state_of(session, report.id)
    assert newer != nonce
    assert browser.get(address.removeprefix("http://localhost")).status_code == 410

    response = browser.post(sheet_url(report.id, "close"), token_from=sheet_url(report.id))
    assert response.status_code == 302
    is_open, _, _ = state_of(session, report.id)
    assert not is_open
    assert "开启签到" in browser.get(sheet_url(report.id)).get_data(as_text=True)

    reasons = session.scalars(
        select(ExecutionEvent.reason)
        .where(ExecutionEvent.report_id == report.id, ExecutionEvent.action == "edit")
        .order_by(ExecutionEvent.id)
    ).all()
    assert reasons == ["开启现场签到", "开启现场签到", "关闭现场签到"]


def test_the_open_sheet_counts_its_learners_by_itself(login_as, session, demo_accounts):
    """The count the open sheet polls (static/admin/cme-signin.js) follows the roster
    without a reload: the page's words, never cached, no learner's name."""
    owner = demo_accounts["bma_cardio"]
    report = open_report(session, owner)
    browser = login_as("bma_cardio")
    browser.post(sheet_url(report.id, "open"), token_from=sheet_url(report.id))
    page = browser.get(sheet_url(report.id)).get_data(as_text=True)
    assert f'data-count-url="{sheet_url(report.id, "count")}"' in page
    assert "cme-signin.js" in page
    response = browser.get(sheet_url(report.id, "count"))
    assert response.get_json() == {"count": 0, "text": "0 人"}
    assert response.headers["Cache-Control"] == "no-store"
    row = {"name": "王签到", "id_number": "11010519800101003X", "workplace": "北京协和医院"}
    row["id_number"] = row["id_number"][:17] + rules.id_check_character(row["id_number"][:17])
    session.expire_all()
    fresh = session.get(ExecutionReport, report.id)
    assert execution.add_learner(session, owner, fresh, row, RosterSource.SIGNIN)[1] == {}
    session.commit()
    body = browser.get(sheet_url(report.id, "count")).get_data(as_text=True)
    assert '"count":1' in body.replace(" ", "") and "王签到" not in body


def test_the_sheet_says_when_today_is_not_an_event_day(login_as, session, demo_accounts):
    report = open_report(session, demo_accounts["bma_cardio"], around_today=False)
    browser = login_as("bma_cardio")
    browser.post(sheet_url(report.id, "open"), token_from=sheet_url(report.id))
    page = browser.get(sheet_url(report.id)).get_data(as_text=True)
    assert "今天不在活动日期内" in page


@pytest.mark.parametrize("username", OTHERS)
def test_another_unit_gets_404_and_changes_nothing(login_as, session, demo_accounts, username):
    report = open_report(session, demo_accounts["bma_cardio"])
    before = state_of(session, report.id)
    browser = login_as(username)
    assert_not_found(browser.get(sheet_url(report.id)))
    for what in ("open", "close"):
        assert_not_found(browser.post(sheet_url(report.id, what), token_from="/admin/"))
    assert_not_found(browser.get(sheet_url(report.id, "count")))
    assert state_of(session, report.id) == before


def test_another_tree_gets_404(login_as, session, demo_accounts):
    other = make_tree(session, prefix="s_")
    report = open_report(session, other["branch"])
    before = state_of(session, report.id)
    for username in ("bma_cardio", "bjcme"):
        browser = login_as(username)
        assert_not_found(browser.get(sheet_url(report.id)))
        assert_not_found(browser.post(sheet_url(report.id, "open"), token_from="/admin/"))
        browser.logout()
    assert state_of(session, report.id) == before


def test_the_owner_gets_404_once_the_report_went_up(login_as, session, demo_accounts):
    cardio = demo_accounts["bma_cardio"]
    report = open_report(session, cardio)
    signin.open_signin(session, cardio, report)
    execution.move(session, report, Action.REPORT, cardio)
    session.commit()
    browser = login_as("bma_cardio")
    assert_not_found(browser.get(sheet_url(report.id)))
    before = state_of(session, report.id)
    assert_not_found(browser.post(sheet_url(report.id, "close"), token_from="/admin/"))
    assert state_of(session, report.id) == before


@pytest.mark.parametrize("segment", ["999999", str(2**64), "0", "١٢٣"])
def test_an_id_that_is_no_report_is_not_found(login_as, segment):
    browser = login_as("bma_cardio")
    assert_not_found(browser.get(f"/admin/signin-sheet/{segment}/"))
    assert_not_found(browser.get("/admin/signin-sheet/"))


def test_opening_needs_the_csrf_token(login_as, session, demo_accounts):
    report = open_report(session, demo_accounts["bma_cardio"])
    before = state_of(session, report.id)
    browser = login_as("bma_cardio")
    assert_expired(browser.client.post(sheet_url(report.id, "open")))
    assert_expired(browser.client.post(sheet_url(report.id, "open"), data={"csrf_token": "x"}))
    assert state_of(session, report.id) == before


def test_signed_out_visitors_are_sent_to_the_login(browser, session, demo_accounts):
    report = open_report(session, demo_accounts["bma_cardio"])
    response = browser.get(sheet_url(report.id))
    assert response.status_code == 302 and "/login" in response.headers["Location"]
