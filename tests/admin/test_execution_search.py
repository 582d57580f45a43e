"""The 执行情况 lists' keyword search read from the trigram indexes finds exactly the rows,
and counts exactly the tabs, of the plain ``LIKE`` search, on both databases.

执行情况 (an entry unit: its published projects; name, number, principal), 执行情况审阅
(a society) and 执行情况审核 (the committee: reports; the report's own name, its
project's number and principal), through the real HTTP stack: each term's rows and each
状态 tab's count are compared to the plain search computed here (SQLAlchemy's
``ilike``, what Flask-Admin sends), for names, numbers, principals, terms of one and two
characters (below the trigram), ``%`` and ``_`` (wildcards of Flask-Admin's pattern),
letters in either case, several terms and Flask-Admin's ``^``/``=`` prefixes, and a report
whose name differs from its project's. Each path of ``search_index.list_search`` is
taken: few matches named, more tested and counted in one pass, a common term left to
the ``LIKE`` (each tab's capped count on the committee's whole tree). And migration
0028 builds, drops and rebuilds the reports' index."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from html import unescape
from urllib.parse import quote

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, or_, select, text

from app import create_app
from extensions import db
from models import ExecutionReport, ExecutionState, Project, ProjectState, search_index
from permissions import execution_visibility, project_visibility
from tests.admin.conftest import csv_rows
from tests.admin.test_execution_lists import opened, published, reported, tab_counts
from tests.admin.test_project_lists import page
from tests.conftest import throwaway_database
from workflow import Action, execution

E = ExecutionState
LISTS = {"pumch": "executions", "bma": "execution-review", "bjcme": "execution-audit"}

TERMS = [
    "心",  # one character: the LIKE alone
    "心衰",  # two
    "心衰竭",
    "心力衰竭",
    "研讨会",
    "abc",
    "ABC",
    "AbC",
    "Heart",
    "heart failure",
    "100%",
    "a_b",
    "_",
    "%",
    "Zhang",
    "zhang",
    "旧名称",
    "新名称",
    "不存在的词",
    "心 研讨会",
    "^心衰",
    "=abc 心衰 小写",
    "Ａｂｃ",
]


@pytest.fixture
def searched(demo_accounts, session):
    """Projects and reports of the three lists with the names, numbers and principals
    the terms look for; a report whose project was renamed after it was opened (a
    project withdrawn, returned, renamed and published again keeps its report)."""
    pumch, cardio, bjcme = (demo_accounts[u] for u in ("pumch", "bma_cardio", "bjcme"))
    names = [
        "心衰ABC研讨会 Heart Failure",
        "abc 心衰 小写",
        "100% 达标 心力衰竭 培训",
        "a_b 下划线 心衰竭 课程",
        "全角 Ａｂｃ 心衰",
        "无关的课程",
    ]
    for n, name in enumerate(names):
        principal = "Dr Zhang" if n % 2 else "李医生"
        reported(session, cardio, name=f"分会{name}", principal=principal)
        reported(session, pumch, name=f"院内{name}", principal=principal)
        opened(session, pumch, name=f"草稿{name}", principal=principal)
        published(session, pumch, name=f"未填报{name}", principal=principal)
    accepted = reported(session, pumch, name="已审核的心衰研讨会")
    execution.move_bulk(session, Action.ACCEPT, bjcme, [accepted.id])
    renamed = reported(session, pumch, name="旧名称心衰课程")
    session.execute(
        text("UPDATE projects SET name = '新名称的课程' WHERE id = :id"),
        {"id": renamed.project_id},
    )
    session.commit()
    return session


def _plain_rows(session, user, search: str) -> list[tuple[str, str]]:
    """(name, 状态 value) of the rows the plain LIKE search lists for ``user``."""
    if user.username == "pumch":
        report = ExecutionReport
        stmt = (
            select(Project.name, report.state)
            .outerjoin(report, report.project_id == Project.id)
            .where(project_visibility(user), Project.state == ProjectState.PUBLISHED)
        )
        columns = [Project.name, Project.project_no, Project.principal]
    else:
        stmt = (
            select(ExecutionReport.name, ExecutionReport.state)
            .join(Project, Project.id == ExecutionReport.project_id)
            .where(execution_visibility(user))
        )
        columns = [ExecutionReport.name, Project.project_no, Project.principal]
    for word in (w for w in search.split(" ") if w):
        pattern = word[1:] + "%" if word[0] == "^" else word[1:] if word[0] == "=" else f"%{word}%"
        stmt = stmt.where(or_(*(c.ilike(pattern) for c in columns)))
    return [(name, state.value if state else "none") for name, state in session.execute(stmt)]


def _listed(browser, url: str, search: str) -> tuple[list[str], dict[str, int]]:
    html = page(browser, f"/admin/{url}/?status=all&page_size=200&search={quote(search)}")
    cells = re.findall(r'<td class="col-name"[^>]*>\s*(?:<a [^>]*>)?\s*([^<]+?)\s*<', html)
    return sorted(unescape(name) for name in cells), tab_counts(html)


def _check(session, browsers, demo_accounts, terms=TERMS):
    for username, url in LISTS.items():
        user = demo_accounts[username]
        for term in terms:
            expected = _plain_rows(session, user, term)
            names, tabs = _listed(browsers[username], url, term)
            assert names == sorted(n for n, _ in expected), (username, term)
            by_state = Counter(state for _, state in expected)
            assert tabs.get("all") == len(expected) or (not expected and not tabs.get("all")), (
                username,
                term,
                tabs,
            )
            for state in E:
                if state.value in tabs:
                    assert tabs[state.value] == by_state[state.value], (username, term, state)


@pytest.fixture
def browsers(searched, another_browser):
    signed = {}
    for username in LISTS:
        signed[username] = another_browser()
        signed[username].login(username)
    return signed


PATHS = {
    # (FEW_CANDIDATES, MOST_CANDIDATES): which path of list_search the terms take
    "few-matches-named": (2_000, 10_000),
    "more-matches-tested": (0, 10_000),
    "common-term-like-alone": (0, 0),
}


@pytest.mark.parametrize("path", list(PATHS))
def test_the_indexed_search_lists_and_counts_what_the_plain_search_does(
    path, searched, browsers, demo_accounts, monkeypatch
):
    few, most = PATHS[path]
    monkeypatch.setattr(search_index, "FEW_CANDIDATES", few)
    monkeypatch.setattr(search_index, "MOST_CANDIDATES", most)
    _check(searched, browsers, demo_accounts)


def test_the_comparison_is_not_vacuous(searched, demo_accounts):
    """The terms do find rows on each list, and the renamed report by its own name."""
    for username in LISTS:
        user = demo_accounts[username]
        for term in ("心衰", "abc", "100%", "Zhang"):
            assert _plain_rows(searched, user, term), (username, term)
    reviewer = demo_accounts["bjcme"]
    assert [n for n, _ in _plain_rows(searched, reviewer, "旧名称")] == ["旧名称心衰课程"]
    assert not _plain_rows(searched, reviewer, "新名称")
    assert _plain_rows(searched, demo_accounts["pumch"], "新名称")


def test_a_project_number_and_its_rows_through_the_join(searched, browsers, demo_accounts):
    """The reviewers find a report by its project's number (a term of the projects'
    index, joined through ``project_id``): fragments of every length."""
    number = searched.scalar(
        select(Project.project_no)
        .join(ExecutionReport, ExecutionReport.project_id == Project.id)
        .where(Project.project_no.is_not(None), ExecutionReport.name.like("院内%"))
        .limit(1)
    )
    terms = [number, number[-5:], number[:4], number[-2:], number.lower()]
    _check(searched, browsers, demo_accounts, terms)


def test_the_lists_read_the_indexes(searched, backend, demo_accounts):
    """On SQLite the reports' FTS5 table answers the reviewers' terms (kept in step when
    a name changes or a report goes); on both, ``list_search`` finds the matches."""
    session = searched
    for username, searched_rows in (
        ("bjcme", search_index.REPORT_ROWS),
        ("pumch", search_index.PROJECT_ROWS),
    ):
        found = search_index.list_search(session, searched_rows, "心衰竭")
        assert found is not None and found.exact
        expected = _plain_rows(session, demo_accounts[username], "心衰竭")
        table = searched_rows[0]
        model = ExecutionReport if table == "execution_reports" else Project
        assert session.scalar(select(func.count()).select_from(model).where(found.matches)) >= len(
            expected
        )
    assert search_index.list_search(session, search_index.REPORT_ROWS, "心") is None
    assert search_index.list_search(session, search_index.REPORT_ROWS, "a%b") is None
    if backend != "sqlite" or not search_index.SQLITE_HAS_TRIGRAM:
        return
    report = session.scalars(
        select(ExecutionReport).where(ExecutionReport.name == "旧名称心衰课程")
    ).one()
    hits = "SELECT rowid FROM execution_reports_search WHERE execution_reports_search MATCH :q"
    assert session.scalars(text(hits), {"q": '"旧名称"'}).all() == [report.id]
    session.execute(
        text("UPDATE execution_reports SET name = '改过的名字' WHERE id = :id"), {"id": report.id}
    )
    assert session.scalars(text(hits), {"q": '"旧名称"'}).all() == []
    assert session.scalars(text(hits), {"q": '"改过的名字"'}).all() == [report.id]
    session.execute(text("DELETE FROM execution_events WHERE report_id = :id"), {"id": report.id})
    session.execute(text("DELETE FROM execution_reports WHERE id = :id"), {"id": report.id})
    assert session.scalars(text(hits), {"q": '"改过的名字"'}).all() == []
    session.execute(
        text(
            "INSERT INTO execution_reports_search(execution_reports_search)"
            " VALUES ('integrity-check')"
        )
    )
    session.rollback()


def test_caseless_terms():
    assert search_index.caseless("心力衰竭") and search_index.caseless("2026-01")
    assert not search_index.caseless("abc") and not search_index.caseless("Ａｂｃ")
    assert not search_index.caseless("straße")


# -- migration 0028 -------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    with throwaway_database(request.param, tmp_path, prefix="cme_search") as url:
        yield url


def _reports_index(connection) -> set[int] | None:
    """The reports the index finds for 心衰竭 (SQLite), or whether the GIN index exists
    (PostgreSQL: {1} or set()); None on SQLite without the FTS5 table."""
    if connection.dialect.name == "sqlite":
        exists = connection.execute(
            text("SELECT 1 FROM sqlite_master WHERE name = 'execution_reports_search'")
        ).first()
        if exists is None:
            return None
        rows = connection.execute(
            text(
                "SELECT rowid FROM execution_reports_search"
                " WHERE execution_reports_search MATCH '\"心衰竭\"'"
            )
        )
        return {row[0] for row in rows}
    rows = connection.execute(
        text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_execution_reports_name_trgm'")
    )
    return {row[0] for row in rows}


def test_the_migration_builds_drops_and_rebuilds_the_reports_index(fresh_url):
    """Reports written at 0027, then 0028: the index holds them (SQLite: exactly the
    reports whose name holds the term); down to 0027 and up again gives the same."""
    from demo import seed

    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": fresh_url})
    with app.app_context():
        upgrade(revision="0027")
        seed(db.session)
        db.session.execute(
            text("UPDATE execution_reports SET name = name || '心衰竭' WHERE id % 2 = 0")
        )
        db.session.commit()
        wanted = set(
            db.session.scalars(
                select(ExecutionReport.id).where(ExecutionReport.name.like("%心衰竭%"))
            )
        )
        assert wanted
        db.session.remove()
        upgrade(revision="0028")
        with db.engine.connect() as conn:
            first = _reports_index(conn)
            if conn.dialect.name == "sqlite":
                assert first is None or first == wanted
            else:
                has_trgm = conn.execute(
                    text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
                ).first()
                assert first == ({1} if has_trgm else set())
        downgrade(revision="0027")
        with db.engine.connect() as conn:
            assert _reports_index(conn) in (None, set())
        upgrade(revision="0028")
        with db.engine.connect() as conn:
            assert _reports_index(conn) == first
        db.engine.dispose()


def test_the_tabs_of_a_search_equal_their_lists(searched, browsers):
    """Each tab's count, with a keyword, is the number of rows its own tab lists (the
    pager's total is the current tab's: no count of its own)."""
    for (username, url), term in itertools.product(LISTS.items(), ("心衰", "心衰竭", "abc")):
        browser = browsers[username]
        html = page(browser, f"/admin/{url}/?status=all&search={quote(term)}")
        tabs = tab_counts(html)
        assert tabs["all"] > 0
        for status, n in tabs.items():
            rows = page(
                browser, f"/admin/{url}/?status={status}&page_size=200&search={quote(term)}"
            ).count('<td class="col-name"')
            assert rows == n, (username, term, status)


def test_a_search_above_the_cap_counts_the_current_tab(searched, browsers, app, monkeypatch):
    """Above ``LIST_COUNT_CAP`` the one pass stops: 全部 says "more than the cap", and
    each tab, once current, is counted (up to the cap) as the rows it lists."""
    cap = 3
    monkeypatch.setitem(app.config, "LIST_COUNT_CAP", cap)
    for (username, url), term in itertools.product(LISTS.items(), ("心衰", "心衰竭")):
        browser = browsers[username]
        html = page(browser, f"/admin/{url}/?status=all&page_size=200&search={quote(term)}")
        listed = html.count('<td class="col-name"')
        if listed > cap:
            assert "all" not in tab_counts(html), (username, term)  # 超过 3
        else:
            assert tab_counts(html)["all"] == listed, (username, term)
        for status in sorted(set(re.findall(r'data-status="(\w+)"', html)) - {"all"}):
            address = f"/admin/{url}/?status={status}&page_size=200&search={quote(term)}"
            tab = page(browser, address)
            rows = tab.count('<td class="col-name"')
            if status in tab_counts(tab):
                assert tab_counts(tab)[status] == rows <= cap, (username, term, status)
            else:
                assert rows > cap, (username, term, status)


@pytest.mark.parametrize("path", list(PATHS))
def test_the_export_of_a_search_holds_its_rows(
    path, searched, browsers, demo_accounts, monkeypatch
):
    """导出 of a searched reviewers' list: the rows of the plain search, whatever the
    path the indexes take."""
    few, most = PATHS[path]
    monkeypatch.setattr(search_index, "FEW_CANDIDATES", few)
    monkeypatch.setattr(search_index, "MOST_CANDIDATES", most)
    for username in ("bma", "bjcme"):
        for term in ("心衰竭", "abc", "旧名称", "Zhang", "心"):
            url = f"/admin/{LISTS[username]}/export/csv/?status=all&search={quote(term)}"
            response = browsers[username].get(url)
            assert response.status_code == 200
            names = sorted(row[2] for row in csv_rows(response.get_data())[1:])
            expected = _plain_rows(searched, demo_accounts[username], term)
            assert names == sorted(n for n, _ in expected), (username, term)
