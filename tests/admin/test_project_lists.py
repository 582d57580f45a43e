"""The project lists as the manual shows them, through the real HTTP stack:
one button per workflow action, work-first tabs, the 年度 + 状态 bar, and
details pages offering only what can be done now."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from models import Certificate, CertificateEvent, ExecutionReport, Project, ProjectState
from tests.admin.test_projects import act, flashes, state_of
from tests.factories import make_project

S = ProjectState
BUTTON = re.compile(r'<button[^>]*name="action"[^>]*value="(\w+)"[^>]*>(.*?)</button>', re.S)


def page(browser, url) -> str:
    response = browser.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def buttons(html: str) -> dict[str, str]:
    return {value: re.sub(r"\s+", " ", text).strip() for value, text in BUTTON.findall(html)}


def listed_ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'class="action-checkbox" value="(\d+)"', html)}


def visible(session, account, *states, year=None) -> set[int]:
    stmt = select(Project.id).where(Project.owner_unit_id.is_not(None))
    from permissions import project_visibility

    stmt = stmt.where(project_visibility(account))
    if states:
        stmt = stmt.where(Project.state.in_(states))
    if year is not None:
        stmt = stmt.where(Project.year == year)
    return set(session.scalars(stmt))


@pytest.mark.parametrize(
    ("username", "url", "expected"),
    [
        ("bma_cardio", "/admin/projects/", {"report": "上报所选项目", "delete": "删除"}),
        ("pumch", "/admin/projects/", {"report": "上报所选项目", "delete": "删除"}),
        ("bma", "/admin/review/", {"report": "上报所选项目", "unlock": "设为可修改"}),
        (
            "bjcme",
            "/admin/audit/",
            {"publish": "审核通过并公布", "unlock": "设为可修改", "withdraw": "撤销公布"},
        ),
    ],
)
def test_each_list_has_one_disabled_button_per_action_and_no_menu(
    login_as, username, url, expected
):
    html = page(login_as(username), url)
    assert buttons(html) == expected
    for value in expected:
        tag = re.search(rf'<button[^>]*value="{value}"[^>]*>', html).group(0)
        assert "disabled" in tag and 'type="submit"' in tag
    # The buttons post the form the rows' checkboxes belong to, with its token.
    assert 'id="action_form"' in html and 'form="action_form"' in html
    form = re.search(r'<form id="action_form".*?</form>', html, re.S).group(0)
    assert 'name="csrf_token"' in form and "/action/" in form
    assert "选中的" not in html and "添加筛选器" not in html


def test_a_button_posts_the_ticked_rows_and_says_what_it_did(
    login_as, browser, session, demo_accounts
):
    drafts = [make_project(session, demo_accounts["bma_cardio"], S.DRAFT) for _ in range(2)]
    session.commit()
    login_as("bma_cardio")
    response = act(browser, "projects", "report", [p.id for p in drafts])
    assert "上报所选项目：已处理 2 项" in flashes(browser.get(response.headers["Location"]))
    assert all(state_of(session, p.id) is S.AT_SOCIETY for p in drafts)


def test_nothing_ticked_says_so(login_as, browser):
    login_as("bma_cardio")
    response = act(browser, "projects", "report", [])
    assert "请先勾选项目" in flashes(browser.get(response.headers["Location"]))


@pytest.mark.parametrize(
    ("username", "url", "states", "tab"),
    [
        ("bma_cardio", "/admin/projects/", (S.DRAFT, S.RETURNED), "待处理"),
        ("bma", "/admin/review/", (S.AT_SOCIETY,), "待审阅"),
        ("bjcme", "/admin/audit/", (S.AT_COMMITTEE,), "待审核"),
    ],
)
def test_each_list_opens_on_its_work_with_all_one_click_away(
    login_as, session, demo_accounts, username, url, states, tab
):
    browser = login_as(username)
    html = page(browser, url)
    work = visible(session, demo_accounts[username], *states)
    assert work and listed_ids(html) == work
    active = re.search(r'<a class="nav-link active"[^>]*>(.*?)</a>', html, re.S).group(1)
    assert tab in active and str(len(work)) in active
    everything = visible(session, demo_accounts[username])
    assert f'href="{url}?status=all"' in html
    listing = page(browser, url + "?status=all&page_size=200")
    assert listed_ids(listing) == everything and everything > work


def test_year_and_state_bar_filters_and_keeps_the_choice(login_as, session, demo_accounts):
    browser = login_as("bjcme")
    year = session.scalar(select(func.max(Project.year)))
    url = f"/admin/audit/?year={year}&status=published&page_size=200"
    html = page(browser, url)
    assert listed_ids(html) == visible(session, demo_accounts["bjcme"], S.PUBLISHED, year=year)
    # The bar shows the choice; paging, tabs and export keep it.
    assert f'<option value="{year}" selected>' in html
    assert '<option value="published" selected>' in html
    assert f"/admin/audit/export/xlsx/?year={year}&amp;status=published" in html
    assert f"status=at_committee&amp;year={year}" in html
    # A keyword narrows further.
    name = session.scalar(
        select(Project.name).where(Project.state == S.PUBLISHED, Project.year == year).limit(1)
    )
    narrowed = page(browser, f"{url}&search={name}")
    assert 0 < len(listed_ids(narrowed)) <= len(listed_ids(html))
    assert "没有符合条件的项目" in page(browser, f"{url}&search=不存在的项目名称")


def test_the_filter_builders_links_still_work(login_as, session, demo_accounts):
    browser = login_as("bma")
    html = page(browser, "/admin/review/?flt0_state=published&page_size=200")
    assert listed_ids(html) == visible(session, demo_accounts["bma"], S.PUBLISHED)
    # The filter builder names its arguments the same way, in any language.
    for name in ("year", "state", "modifiable", "level", "discipline", "unit"):
        assert f'"arg": "{name}"' in html, name


def test_an_old_numbered_filter_link_still_works(login_as, session, demo_accounts):
    """A link from before the filters were named (a bookmark, an e-mail) is sent on
    to its named form, keeping its other arguments; an export reads it as it is."""
    browser = login_as("bma")
    response = browser.get("/admin/review/?flt0_1=published&flt1_0=2099&page_size=200")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "flt0_state=published" in location and "flt1_year=2099" in location
    assert "page_size=200" in location and "flt0_1" not in location
    html = page(browser, "/admin/review/?flt0_state=published&page_size=200")
    assert listed_ids(page(browser, location.replace("&flt1_year=2099", ""))) == listed_ids(html)
    old = browser.get("/admin/review/export/csv/?flt0_1=published").get_data()
    new = browser.get("/admin/review/export/csv/?flt0_state=published").get_data()
    assert old == new and old.count(b"\n") > 1


def test_a_new_unit_is_told_what_to_do(login_as, session, demo_accounts):
    # The demo's certificates name its reports, which name its projects (only a test
    # deletes certificates: no code does).
    session.execute(CertificateEvent.__table__.delete())
    session.execute(Certificate.__table__.delete())
    session.execute(ExecutionReport.__table__.delete())
    session.execute(Project.__table__.delete())
    session.commit()
    html = page(login_as("bma_cardio"), "/admin/projects/")
    assert "添加项目" in html and "还没有项目" in html


@pytest.mark.parametrize(
    ("username", "state", "url", "offered", "not_offered"),
    [
        ("bma_cardio", S.DRAFT, "projects", ["上报此项目", "删除此项目", ">修改<"], []),
        ("bma_cardio", S.PUBLISHED, "projects", [], ["上报此项目", ">修改<", "删除"]),
        ("bma", S.AT_SOCIETY, "review", ["上报此项目", "设为可修改"], [">修改<"]),
        ("bjcme", S.AT_COMMITTEE, "audit", ["审核通过并公布", "设为可修改"], ["撤销公布"]),
        ("bjcme", S.PUBLISHED, "audit", ["撤销公布"], ["审核通过并公布", "设为可修改"]),
    ],
)
def test_details_offer_only_what_can_be_done_now(
    login_as, session, demo_accounts, username, state, url, offered, not_offered
):
    project = make_project(session, demo_accounts["bma_cardio"], state)
    session.commit()
    html = page(login_as(username), f"/admin/{url}/details/?id={project.id}")
    for text in offered:
        assert text in html
    for text in not_offered:
        assert text not in html.split("操作记录")[0]
    assert "fa_filter" not in html
    if "审核通过并公布" in offered:
        assert re.search(r'value="publish"[^>]*data-confirm="[^"]+"', html)


def test_a_skip_message_says_who_can_act_next(login_as, browser, session, demo_accounts):
    at_committee = make_project(
        session, demo_accounts["bma_cardio"], S.AT_COMMITTEE, name="已交市继委的项目"
    )
    session.commit()
    login_as("bma")
    response = act(browser, "review", "unlock", [at_committee.id], reason_confirmed="1")
    text = flashes(browser.get(response.headers["Location"]))
    assert "已上报市继委" in text and "只有市继委可以设为可修改" in text
    assert "。；" not in text and text.rstrip().endswith("。")


def test_the_return_reason_shows_in_the_row_and_on_the_details(
    login_as, browser, session, demo_accounts
):
    project = make_project(session, demo_accounts["bma_cardio"], S.AT_SOCIETY, name="待补充的项目")
    session.commit()
    login_as("bma")
    act(browser, "review", "unlock", [project.id], reason_confirmed="1", reason="请补充职称")
    browser.logout()
    login_as("bma_cardio")
    row = re.search(rf'value="{project.id}".*?</tr>', page(browser, "/admin/projects/"), re.S)
    assert "退回修改" in row.group(0) and "请补充职称" in row.group(0)
    details = page(browser, f"/admin/projects/details/?id={project.id}")
    assert "请补充职称" in details.split("操作记录")[0]


# -- the pager's count, capped at LIST_COUNT_CAP ---------------------------------------------
# The pager's enabled ">" (a disabled one is ``page-item disabled``).
NEXT = re.compile(r'<li class="page-item">\s*<a class="page-link" href="([^"]+)">&gt;</a>')


def _tabs(html: str) -> dict[str, str]:
    """Each status tab's count as shown, by its value."""
    return dict(
        re.findall(r'data-status="(\w+)">\s*[^<]*?<span class="cme-count">\(([^)]*)\)', html)
    )


def _walk(browser, url) -> tuple[list[int], list[str]]:
    """Every row of a list, page after page through the pager's ">" link; and each
    page's total line."""
    rows, totals = [], []
    while url:
        html = page(browser, url)
        rows += [int(i) for i in re.findall(r'class="action-checkbox" value="(\d+)"', html)]
        total = re.search(r'class="text-muted small ml-3 mb-3 cme-total">([^<]*)<', html)
        totals.append(total.group(1) if total else "")
        following = NEXT.search(html)
        url = following.group(1).replace("&amp;", "&") if following else None
        assert len(totals) < 50, "the pager never ends"
    return rows, totals


def test_above_the_cap_the_list_says_more_than_and_still_pages_to_the_end(
    app, login_as, session, demo_accounts, monkeypatch
):
    everything = visible(session, demo_accounts["bjcme"])
    assert len(everything) > 25  # three pages of 20 at least (the demo's data)
    monkeypatch.setitem(app.config, "LIST_COUNT_CAP", 5)
    browser = login_as("bjcme")
    # A filter of the filter builder (every level but none): counted up to the cap.
    levels = {p.level for p in session.scalars(select(Project).where(Project.id.in_(everything)))}
    level = max(levels, key=lambda lv: len(visible_at_level(session, everything, lv)))
    wanted = visible_at_level(session, everything, level)
    assert len(wanted) > 5
    rows, totals = _walk(browser, f"/admin/audit/?flt0_level={level.value}&page_size=2")
    # Every row once, in order, although the count stopped at 5.
    assert len(rows) == len(set(rows)) and set(rows) == wanted
    assert totals and all(t == "超过 5 个项目" for t in totals)
    # The status tabs count each state of that list up to the cap too.
    tabs = _tabs(page(browser, f"/admin/audit/?flt0_level={level.value}"))
    by_state = {
        state: len(wanted & visible(session, demo_accounts["bjcme"], state))
        for state in (S.AT_COMMITTEE, S.PUBLISHED, S.RETURNED, S.AT_SOCIETY)
    }
    # Above the cap in all, a tab is counted only when its state is the page's or was
    # found above the cap by the one pass over the list; else it shows no number.
    for state, n in by_state.items():
        assert tabs.get(state.value, "超过 5" if n > 5 else str(n)) == (
            "超过 5" if n > 5 else str(n)
        )
    assert tabs["all"] == "超过 5"


def visible_at_level(session, ids, level) -> set[int]:
    return set(
        session.scalars(select(Project.id).where(Project.id.in_(ids), Project.level == level))
    )


@pytest.mark.parametrize(
    ("cap", "search", "absent"),
    [
        # Nothing but the 状态 tab narrows the list: its count is read from the tallies,
        # exact whatever the cap.
        pytest.param(5, "", "超过 5", id="the_committee_s_tabs_and_total_are_exact_above_the_cap"),
        # A search matching every row of the scope (the counts are capped, not tallied).
        pytest.param(None, "&search=%25", "超过 ", id="under_the_cap_the_total_is_exact"),
    ],
)
def test_the_total_and_the_pager_s_last_page_are_exact(
    app, login_as, session, demo_accounts, monkeypatch, cap, search, absent
):
    """The list's total and its 全部 tab are the exact count, and the pager's last page
    (») is the real last page."""
    everything = visible(session, demo_accounts["bjcme"])
    monkeypatch.setitem(app.config, "LIST_COUNT_CAP", cap or len(everything))
    html = page(login_as("bjcme"), f"/admin/audit/?status=all&page_size=20{search}")
    assert f"共 {len(everything)} 个项目" in html and absent not in html
    assert _tabs(html)["all"] == str(len(everything))
    last = (len(everything) - 1) // 20
    assert f"page={last}" in html and f"page={last + 1}" not in html


def test_a_search_above_the_cap_pages_through_exactly_the_scan_s_rows(
    app, login_as, session, demo_accounts, monkeypatch
):
    monkeypatch.setitem(app.config, "LIST_COUNT_CAP", 2)
    term = "研讨"  # two characters: the scan alone, within the scope
    scope = select(Project).where(Project.id.in_(visible(session, demo_accounts["bjcme"])))
    expected = {
        p.id
        for p in session.scalars(scope)
        if term in p.name or term in (p.project_no or "") or term in (p.principal or "")
    }
    assert len(expected) > 2
    rows, totals = _walk(login_as("bjcme"), f"/admin/audit/?search={term}&page_size=20")
    assert set(rows) == expected and totals[0] == "超过 2 个项目"


def test_the_capped_count_costs_no_extra_statement_and_exports_stay_exact(
    app, login_as, session, demo_accounts, monkeypatch, count_statements
):
    browser = login_as("bjcme")
    url = "/admin/audit/?status=all&page_size=20"
    page(browser, url)  # warm: the first request loads what later ones reuse
    statements = {}
    for cap in (0, 5):  # 0: Flask-Admin's plain count
        monkeypatch.setitem(app.config, "LIST_COUNT_CAP", cap)
        with count_statements() as counter:
            page(browser, url)
        statements[cap] = counter.count
    assert statements[5] <= statements[0]
    # The export counts (and writes) every row, whatever the cap.
    export = browser.get("/admin/audit/export/csv/?status=all")
    assert export.status_code == 200
    lines = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(lines) - 1 == len(visible(session, demo_accounts["bjcme"]))


def test_each_row_speaks_chinese_and_escapes_the_projects_name(login_as, session, demo_accounts):
    """The texts a row repeats (勾选 label, 查看 / 修改 links, each cell's caption on a
    phone) are translated once per page; each row still has them, in Chinese, with the
    project's own name escaped inside its 勾选 label."""
    name = '心衰<b>"培训"</b> & 进展'
    project = make_project(session, demo_accounts["bma_cardio"], S.DRAFT, name=name)
    session.commit()
    html = page(login_as("bma_cardio"), "/admin/projects/")
    row = re.search(
        rf'<tr[^>]*>(?:(?!</tr>).)*value="{project.id}"(?:(?!</tr>).)*</tr>', html, re.S
    ).group(0)
    assert 'aria-label="勾选“心衰&lt;b&gt;&#34;培训&#34;&lt;/b&gt; &amp; 进展”"' in row
    assert ">查看</a>" in row and ">修改</a>" in row
    labels = re.findall(r'data-label="([^"]*)"', row)
    assert labels[:3] == ["年度", "项目编号", "项目名称"]
    assert all(label and not label.isascii() for label in labels)
    assert "<b>" not in row


@pytest.mark.parametrize(
    "account, url, index",
    [
        # 项目审核 filtered "2025年 已公布", the committee's commonest filter.
        ("bjcme", "/admin/audit/?status=published&year=2025", "committee_state_year_updated"),
        # 项目审阅 as a society opens it: on 待审阅.
        ("bma", "/admin/review/", "society_state_updated"),
    ],
)
def test_a_list_page_is_read_in_order_from_an_index(
    login_as, session, demo_accounts, backend, account, url, index
):
    """The page's rows come from an index in the list's order (newest change first), not
    from a sort of every project of the scope in that state (and year)."""
    if backend != "sqlite":
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    from sqlalchemy import event

    from extensions import db

    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        html = page(login_as(account), url)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert listed_ids(html)  # the demo has such projects
    sql, parameters = next(
        (s, p)
        for s, p in seen
        if s.startswith("SELECT projects.id AS projects_id")
        and "ORDER BY projects.updated_at DESC" in s
    )
    plan = " ".join(
        str(row[-1])
        for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
    )
    assert f"ix_projects_{index}" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
