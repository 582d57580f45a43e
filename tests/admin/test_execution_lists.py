"""The 执行情况 lists through the real HTTP stack, on both databases: 执行情况 (entry
units: published projects, report state, due date, overdue, 填报执行情况, 上报所选),
执行情况审阅 (societies) and 执行情况审核 (the committee): scope, bulk actions with
CSRF, the reason of 设为可修改, statements that do not grow with the ticked rows."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from flask import current_app
from flask_security import hash_password
from sqlalchemy import func, select
from sqlalchemy import text as text_sql

from demo import DEMO_PASSWORD
from models import ExecutionReport, ExecutionState, ProjectState
from tests.admin.conftest import (
    csv_rows,
    download_job,
    exports_in_background,
    job_of,
    streamed_rows,
)
from tests.admin.test_project_lists import page
from tests.admin.test_projects import act, flashes
from tests.factories import make_project, make_tree
from tests.refusals import assert_expired, assert_refused_with
from workflow import Action, execution, execution_rules

E = ExecutionState
LISTS = {"executions": "pumch", "execution-review": "bma", "execution-audit": "bjcme"}


def published(session, owner, **fields):
    return make_project(session, owner, ProjectState.PUBLISHED, **fields)


def opened(session, owner, **fields) -> ExecutionReport:
    report = execution.open_report(session, owner, published(session, owner, **fields))
    session.flush()
    return report


def reported(session, owner, **fields) -> ExecutionReport:
    """A report its owner reported upwards (a branch's to its society, an issuer's to
    the committee)."""
    report = opened(session, owner, **fields)
    result = execution.move_bulk(session, Action.REPORT, owner, [report.id])
    assert result.done == [report.id], result.skipped
    return report


def state_of(session, report_id) -> E:
    session.expire_all()
    return E(session.get(ExecutionReport, report_id).state)


def row_of(html: str, text: str) -> str:
    """The list row (``<tr>``) that holds ``text``."""
    for row in re.findall(r"<tr[^>]*>.*?</tr>", html, re.S):
        if text in row:
            return row
    raise AssertionError(f"no row holds {text!r}")


def future_dates(days: int = 10) -> dict:
    start = date.today() + timedelta(days=days)
    return {"year": start.year, "start_date": start, "end_date": start + timedelta(days=1)}


# -- who opens which list ---------------------------------------------------------------
@pytest.mark.parametrize("url", list(LISTS))
def test_only_the_right_kind_of_account_opens_each_list(another_browser, url):
    assert another_browser().get(f"/admin/{url}/").status_code == 302  # to the login page
    for username in ("bjcme", "bma", "bma_cardio", "pumch"):
        browser = another_browser()
        assert browser.login(username).status_code == 302
        response = browser.get(f"/admin/{url}/")
        allowed = username == LISTS[url] or (url == "executions" and username == "bma_cardio")
        if allowed:
            assert response.status_code == 200, (username, url)
        else:
            assert_refused_with(response, 403)


def test_the_menu_names_each_list_in_chinese(login_as):
    for username, title in (
        ("pumch", "执行情况"),
        ("bma", "执行情况审阅"),
        ("bjcme", "执行情况审核"),
    ):
        browser = login_as(username)
        html = page(browser, "/admin/")
        assert f">{title}<" in re.sub(r"\s+", "", html) or f">{title}</a>" in html, username
        browser.logout()


# -- 执行情况: the entry unit's published projects ----------------------------------------
def test_the_entry_list_shows_published_projects_with_report_state_due_date_and_overdue(
    login_as, session, demo_accounts
):
    pumch = demo_accounts["pumch"]
    late = published(session, pumch, name="逾期未填报项目")
    coming = published(session, pumch, name="将来举办项目", **future_dates())
    draft = make_project(session, pumch, ProjectState.DRAFT, name="草稿项目不显示")
    held = opened(session, pumch, name="已填报未上报项目")
    session.commit()
    html = page(login_as("pumch"), "/admin/executions/?status=all")
    assert draft.name not in html
    row = row_of(html, late.name)
    assert "报告未填报" in row and "已逾期" in row and "填报执行情况" in row
    assert (late.end_date + timedelta(days=14)).isoformat() in row
    assert 'class="badge badge-danger cme-overdue">已逾期<' in row  # words, not colour alone
    row = row_of(html, coming.name)
    assert "报告未填报" in row and "已逾期" not in row
    row = row_of(html, held.name)
    assert "未上报" in row and "已逾期" in row and held.due_date.isoformat() in row
    assert f'value="{held.id}"' in row  # ticked for 上报所选
    assert "填报执行情况" not in row
    if "execution.details" in current_app.view_functions:
        assert f"/admin/execution/{held.id}/" in row
    assert 'data-title="上报所选"' in html  # the report's words, not 上报所选项目


def test_the_entry_list_opens_on_the_work_and_filters_by_year_and_keyword(
    login_as, session, demo_accounts
):
    pumch = demo_accounts["pumch"]
    waiting = published(session, pumch, name="等待填报的项目")
    done = reported(session, pumch, name="已经上报的执行情况")
    older = published(session, pumch, name="二〇二五年的项目", year=2025)
    session.commit()
    browser = login_as("pumch")
    html = page(browser, "/admin/executions/")
    assert waiting.name in html and done.name not in html  # 待填报 first
    assert "待填报" in html
    html = page(browser, "/admin/executions/?status=all&year=2025")
    assert older.name in html and waiting.name not in html
    html = page(browser, "/admin/executions/?status=all&search=已经上报")
    assert done.name in html and waiting.name not in html
    html = page(browser, f"/admin/executions/?status={E.AT_COMMITTEE.value}")
    assert done.name in html and waiting.name not in html


def test_the_overdue_tab_holds_what_was_not_reported_by_its_due_date(
    login_as, session, demo_accounts
):
    pumch = demo_accounts["pumch"]
    today = date.today()
    execution_rules.set_due_days(session, pumch.unit.committee_id, today.year, 14)
    session.commit()

    def ended(days_ago: int) -> dict:
        end = today - timedelta(days=days_ago)
        return {"year": today.year, "start_date": end - timedelta(days=1), "end_date": end}

    late = published(session, pumch, name="逾期未开的项目", **ended(15))
    recent = published(session, pumch, name="刚结束的项目", **ended(13))
    held = opened(session, pumch, name="逾期未报的执行情况", **ended(15))
    sent = reported(session, pumch, name="按时上报的执行情况", **ended(15))
    session.commit()
    browser = login_as("pumch")

    def overdue() -> set[str]:
        html = page(browser, f"/admin/executions/?status=overdue&year={today.year}")
        return {p.name for p in (late, recent, held, sent) if p.name in html}

    assert overdue() == {late.name, held.name}
    html = page(browser, f"/admin/executions/?status=all&year={today.year}")
    tabs = dict(re.findall(r'data-status="(\w+)">\s*[^<]+<span class="cme-count">\((\d+)\)', html))
    assert int(tabs["all"]) == html.count('class="col-name"')  # each project once
    assert int(tabs["overdue"]) >= 2
    # The committee gives this year's projects 10 days: the one ended 13 days ago is late.
    execution_rules.set_due_days(session, pumch.unit.committee_id, today.year, 10)
    session.commit()
    assert overdue() == {late.name, held.name, recent.name}


def test_filing_opens_the_report_of_the_owners_published_project_only(
    login_as, session, demo_accounts
):
    pumch = demo_accounts["pumch"]
    project = published(session, pumch, name="待填报执行情况")
    draft = make_project(session, pumch, ProjectState.DRAFT)
    others = published(session, demo_accounts["bma_cardio"])
    session.commit()
    browser = login_as("pumch")
    url = f"/admin/executions/open/{project.id}"
    assert_expired(browser.client.post(url))  # no CSRF token
    response = browser.post(url, token_from="/admin/executions/")
    assert response.status_code == 302
    report = session.scalar(select(ExecutionReport).where(ExecutionReport.project_id == project.id))
    assert report is not None and report.state is E.DRAFT
    if "execution.details" in current_app.view_functions:
        assert response.headers["Location"].endswith(f"/admin/execution/{report.id}/")
    # Twice opens the same report.
    assert browser.post(url, token_from="/admin/executions/").status_code == 302
    count = select(func.count()).select_from(ExecutionReport)
    before = session.scalar(count)
    # Another unit's project, a draft, an id that is not one: not found.
    for other in (others.id, draft.id, 2**31 - 1, 2**64, "١٢٣"):
        response = browser.post(f"/admin/executions/open/{other}", token_from="/admin/executions/")
        assert_refused_with(response, 404)
    session.expire_all()
    assert session.scalar(count) == before
    # A society cannot open one at all.
    browser.logout()
    society = login_as("bma")
    response = society.post(url, token_from="/admin/")
    assert_refused_with(response, 403)


# -- scope ------------------------------------------------------------------------------
def test_each_list_shows_only_the_reports_in_its_scope(login_as, session, demo_accounts):
    cardio = reported(session, demo_accounts["bma_cardio"], name="心血管分会的执行情况")
    issuer = reported(session, demo_accounts["pumch"], name="协和的执行情况")
    tree = make_tree(session, "exl_")
    for user in tree.values():
        user.password = hash_password(DEMO_PASSWORD)
    far_branch = reported(session, tree["branch"], name="另一棵树分会的执行情况")
    far_issuer = reported(session, tree["issuer"], name="另一棵树单位的执行情况")
    session.commit()
    everything = {cardio.name, issuer.name, far_branch.name, far_issuer.name}

    def names(username, url):
        browser = login_as(username)
        html = page(browser, f"/admin/{url}/?status=all")
        browser.logout()
        return {name for name in everything if name in html}

    assert names("bma_cardio", "executions") == {cardio.name}
    assert names("bma_peds", "executions") == set()  # another branch
    assert names("pumch", "executions") == {issuer.name}
    assert names("bma", "execution-review") == {cardio.name}
    assert names("bjtcm", "execution-review") == set()  # another society
    assert names("bjcme", "execution-audit") == {cardio.name, issuer.name}
    assert names("exl_committee", "execution-audit") == {far_branch.name, far_issuer.name}
    assert names("exl_society", "execution-review") == {far_branch.name}


def test_the_reviewers_bar_finds_a_report_by_project_number_year_and_state(
    login_as, session, demo_accounts
):
    report = reported(session, demo_accounts["pumch"], name="按编号查找的执行情况")
    session.commit()
    browser = login_as("bjcme")

    def listed(**args) -> bool:
        return report.name in page(browser, f"/admin/execution-audit/?{urlencode(args)}")

    assert listed()  # 待审核
    assert listed(status="all", search=report.project.project_no)
    assert not listed(status="all", search="没有这样的编号")
    assert listed(status="all", year=report.year)
    assert not listed(status="all", year=report.year - 1)
    assert not listed(status=E.ACCEPTED.value)


def tab_counts(html: str) -> dict[str, int]:
    found = re.findall(r'data-status="(\w+)">\s*[^<]+<span class="cme-count">\((\d+)\)', html)
    return {status: int(n) for status, n in found}


def test_the_tabs_count_the_list_as_searched(login_as, another_browser, session, demo_accounts):
    """A keyword narrows the tabs' counts as it narrows the rows, on the entry unit's
    list and the committee's (whose search reads the project's number through a join)."""
    pumch = demo_accounts["pumch"]
    for i in range(3):
        published(session, pumch, name=f"关键词计数待填报{i}")
    sent = reported(session, pumch, name="关键词计数已上报")
    published(session, pumch, name="另一个无关项目")
    session.commit()
    browser = login_as("pumch")
    html = page(browser, "/admin/executions/?status=all&search=关键词计数")
    tabs = tab_counts(html)
    assert tabs["all"] == 4 == html.count('class="col-name"')
    assert tabs[E.AT_COMMITTEE.value] == 1
    everything = tab_counts(page(browser, "/admin/executions/?status=all"))
    assert everything["all"] > tabs["all"]

    committee = another_browser()
    committee.login("bjcme")
    html = page(committee, f"/admin/execution-audit/?status=all&search={sent.project.project_no}")
    tabs = tab_counts(html)
    assert tabs["all"] == 1 and sent.name in html
    assert tabs[E.AT_COMMITTEE.value] == 1


def test_the_reviewers_export_their_list_and_nothing_else(login_as, session, demo_accounts):
    mine = reported(session, demo_accounts["bma_cardio"], name="导出的执行情况")
    draft = opened(session, demo_accounts["bma_cardio"], name="未上报不导出")
    tree = make_tree(session, "exx_")
    theirs = reported(session, tree["branch"], name="另一棵树不导出")
    session.commit()
    browser = login_as("bma")
    response = browser.get("/admin/execution-review/export/csv/?status=all")
    assert response.status_code == 200
    rows = csv_rows(response.get_data())
    assert rows[0][:4] == ["年度", "项目编号", "项目名称", "申报单位"]
    assert "应报日期" in rows[0] and "审核时间" in rows[0]
    names = {row[2] for row in rows[1:]}
    assert mine.name in names and draft.name not in names and theirs.name not in names
    row = next(row for row in rows[1:] if row[2] == mine.name)
    assert "已上报总会" in row and mine.due_date.isoformat() in row
    # The entry units' list has no export.
    browser.logout()
    assert_refused_with(login_as("bma_cardio").get("/admin/executions/export/csv/"), 404)


def test_a_large_export_runs_as_a_job_with_the_same_rows(
    app, login_as, session, demo_accounts, monkeypatch, tmp_path
):
    for n in range(3):
        reported(session, demo_accounts["pumch"], name=f"后台导出{n}")
    session.commit()
    exports_in_background(app, monkeypatch, tmp_path, rows=2)
    browser = login_as("bjcme")
    url = "/admin/execution-audit/export/csv/?status=at_committee"
    job = job_of(browser.get(url))
    assert csv_rows(download_job(browser, job)) == streamed_rows(browser, app, url)


def test_a_draft_report_is_not_on_the_reviewers_lists(login_as, session, demo_accounts):
    draft = opened(session, demo_accounts["bma_cardio"], name="尚未上报的执行情况")
    session.commit()
    for username, url in (("bma", "execution-review"), ("bjcme", "execution-audit")):
        browser = login_as(username)
        assert draft.name not in page(browser, f"/admin/{url}/?status=all")
        browser.logout()


# -- bulk actions -----------------------------------------------------------------------
HEADERS = ["年度", "项目编号", "项目名称", "申报单位", "举办日期", "学员人数", "状态", "应报日期"]


def headers(html: str) -> list[str]:
    """The columns' visible titles (the row links' column is named for screen readers only)."""
    html = re.sub(r'<span class="sr-only">.*?</span>', "", html)
    cells = re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)
    return [text for text in (re.sub(r"<[^>]+>|\s+|&nbsp;", "", c) for c in cells) if text]


def test_a_branchs_report_goes_up_its_society_to_the_committee(login_as, session, demo_accounts):
    report = opened(session, demo_accounts["bma_cardio"], name="分会执行情况上报")
    session.commit()
    # (who, list, what its page opens on and shows, button, message, state after)
    steps = [
        ("bma_cardio", "executions", ["上报所选"], "report", "上报所选：已处理 1 项。",
         E.AT_SOCIETY),
        ("bma", "execution-review", ["待审阅", "上报所选", "设为可修改"], "report",
         "上报所选：已处理 1 项。", E.AT_COMMITTEE),
        ("bjcme", "execution-audit", ["待审核", "审核通过", "设为可修改"], "accept",
         "审核通过：已处理 1 项。", E.ACCEPTED),
    ]  # fmt: skip
    for username, url, texts, action, message, state in steps:
        browser = login_as(username)
        html = page(browser, f"/admin/{url}/")
        assert report.name in html and all(t in html for t in texts), username
        if url != "executions":
            assert headers(html) == HEADERS
        response = act(browser, url, action, [report.id], follow_redirects=True)
        assert message in flashes(response)
        assert state_of(session, report.id) is state
        browser.logout()
    html = page(login_as("bjcme"), f"/admin/execution-audit/?status={E.ACCEPTED.value}")
    assert report.name in html


def test_setting_modifiable_requires_a_reason(login_as, session, demo_accounts):
    report = reported(session, demo_accounts["bma_cardio"], name="需要退回的执行情况")
    session.commit()
    browser = login_as("bma")
    # The button asks for the reason first.
    html = act(browser, "execution-review", "unlock", [report.id]).get_data(as_text=True)
    assert "原因" in html and report.name in html and 'name="reason"' in html
    # Confirmed without one: refused, nothing moves.
    response = act(
        browser, "execution-review", "unlock", [report.id], reason_confirmed="1", reason=" "
    )
    assert "原因" in flashes(response) or "原因" in response.get_data(as_text=True)
    assert state_of(session, report.id) is E.AT_SOCIETY
    response = act(
        browser,
        "execution-review",
        "unlock",
        [report.id],
        reason_confirmed="1",
        reason="学员名单缺少身份证号",
        follow_redirects=True,
    )
    assert "设为可修改：已处理 1 项。" in flashes(response)
    assert state_of(session, report.id) is E.RETURNED
    browser.logout()
    # The branch sees the reason on its list.
    html = page(login_as("bma_cardio"), "/admin/executions/")
    assert "学员名单缺少身份证号" in row_of(html, report.name)


def test_a_forbidden_id_in_a_bulk_post_is_skipped_as_not_found(login_as, session, demo_accounts):
    mine = reported(session, demo_accounts["tcm_acu"], name="中医学会分会的执行情况")
    theirs = reported(session, demo_accounts["bma_cardio"], name="医学会分会的执行情况")
    session.commit()
    browser = login_as("bjtcm")
    response = act(
        browser, "execution-review", "report", [mine.id, theirs.id], follow_redirects=True
    )
    text = flashes(response)
    assert "已处理 1 项" in text and "1 项未处理" in text and "不存在" in text
    assert state_of(session, mine.id) is E.AT_COMMITTEE
    assert state_of(session, theirs.id) is E.AT_SOCIETY
    # Not even the skip message names the other society's report.
    assert theirs.name not in text


def test_a_bulk_post_needs_its_csrf_token(login_as, session, demo_accounts):
    report = opened(session, demo_accounts["pumch"])
    session.commit()
    browser = login_as("pumch")
    data = {"action": "report", "rowid": [str(report.id)]}
    assert_expired(browser.client.post("/admin/executions/action/", data=data))
    assert state_of(session, report.id) is E.DRAFT


def test_an_action_of_another_list_is_refused(login_as, session, demo_accounts):
    """A society cannot accept; an entry unit cannot set its own report modifiable."""
    report = reported(session, demo_accounts["bma_cardio"])
    session.commit()
    browser = login_as("bma")
    act(browser, "execution-review", "accept", [report.id], follow_redirects=True)
    assert state_of(session, report.id) is E.AT_SOCIETY
    assert "审核通过" not in page(browser, "/admin/execution-review/")


# (who, list, button, more fields, how the reports start, where they end)
BULK = {
    "report": ("pumch", "executions", {}, opened, E.AT_COMMITTEE),
    "accept": ("bjcme", "execution-audit", {}, reported, E.ACCEPTED),
    "unlock": (
        "bjcme",
        "execution-audit",
        {"reason_confirmed": "1", "reason": "请补充学员名单"},
        reported,
        E.RETURNED,
    ),
}


@pytest.mark.parametrize("action", list(BULK))
def test_bulk_statements_do_not_grow_with_the_ticked_rows(
    another_browser, session, demo_accounts, count_statements, action
):
    username, url, extra, start, target = BULK[action]
    pumch = demo_accounts["pumch"]
    ids = [start(session, pumch, name=f"批量{action}{n}").id for n in range(22)]
    session.commit()
    counts = []
    for ticked in (ids[:2], ids[2:22]):
        browser = another_browser()
        browser.login(username)
        token = browser.token(f"/admin/{url}/")
        data = {"action": action, "rowid": [str(i) for i in ticked], "csrf_token": token, **extra}
        with count_statements() as counter:
            response = browser.client.post(f"/admin/{url}/action/", data=data)
        assert response.status_code == 302
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert {state_of(session, i) for i in ids} == {target}


def test_list_statements_do_not_grow_with_the_rows(
    another_browser, session, demo_accounts, count_statements
):
    """Each list page reads its rows' reports and due days once, whatever the rows."""
    pumch = demo_accounts["pumch"]
    lists = (("pumch", "executions"), ("bjcme", "execution-audit"))
    browsers = {}
    for username, _ in lists:
        browsers[username] = another_browser()
        browsers[username].login(username)

    def add_rows(count):
        for n in range(count):
            (reported if n % 2 else published)(session, pumch, name=f"页面行{count}-{n}")
        session.commit()

    def statements():
        counts = []
        for username, url in lists:
            address = f"/admin/{url}/?status=all"
            page(browsers[username], address)  # warm
            with count_statements() as counter:
                page(browsers[username], address)
            counts.append(counter.count)
        return counts

    add_rows(2)
    few = statements()
    add_rows(20)
    assert statements() == few


def test_the_entry_units_tabs_are_exact_and_equal_their_lists(
    app, login_as, session, demo_accounts, monkeypatch
):
    """The entry unit's 状态 tabs, read from ``execution_owner_tallies`` when only 年度
    narrows the list: each equals the rows its own tab lists, above ``LIST_COUNT_CAP``
    too (said exactly, not "超过"), after a 上报 and after a report deleted by hand."""
    monkeypatch.setitem(app.config, "LIST_COUNT_CAP", 2)
    pumch = demo_accounts["pumch"]
    today = date.today()
    ended = today - timedelta(days=200)
    past = {"year": today.year, "start_date": ended - timedelta(days=1), "end_date": ended}
    for n in range(4):
        published(session, pumch, name=f"计数逾期未开{n}", **past)
    for n in range(3):
        published(session, pumch, name=f"计数未到期{n}", **future_dates())
    held = [opened(session, pumch, name=f"计数未上报{n}", **past) for n in range(3)]
    session.commit()
    browser = login_as("pumch")

    def check() -> dict[str, int]:
        tabs = tab_counts(page(browser, f"/admin/executions/?status=all&year={today.year}"))
        wanted = {"held", "all", "overdue", "none", *(s.value for s in E)}
        assert wanted <= set(tabs), tabs  # every tab counted exactly
        for status, n in tabs.items():
            url = f"/admin/executions/?status={status}&year={today.year}&page_size=100"
            assert page(browser, url).count('class="col-name"') == n, (status, tabs)
        return tabs

    tabs = check()
    assert tabs["none"] >= 7 and tabs["overdue"] >= 7 and tabs[E.DRAFT.value] >= 3
    execution.move_bulk(session, Action.REPORT, pumch, [held[0].id])
    session.commit()
    after = check()
    assert after[E.DRAFT.value] == tabs[E.DRAFT.value] - 1
    assert after["overdue"] == tabs["overdue"] - 1
    session.execute(
        text_sql("DELETE FROM execution_events WHERE report_id = :r"), {"r": held[1].id}
    )
    session.execute(text_sql("DELETE FROM execution_reports WHERE id = :r"), {"r": held[1].id})
    session.commit()
    last = check()
    assert last["none"] == after["none"] + 1 and last["overdue"] == after["overdue"]
