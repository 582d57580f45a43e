"""One count everywhere (issue 26): for a unit with more projects than ``LIST_COUNT_CAP``,
首页's card, the list's 状态 tab, the pager's total and the export say the same count of
the same list, for several filters and keywords, through the real stack.

The cap is set to 20 and the unit given about 30 projects, so that a "large unit" is
cheap. Above the cap the pages say "超过 20" (a tab, a card), "超过 20 个项目" (the
pager), and the export, which writes every row, holds more than 20; the counts a society
or the committee reads from the tallies are exact whatever their size, the same figure
in every place."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from models import Project, ProjectLevel
from models import ProjectState as S
from permissions import project_visibility
from tests.factories import make_project

CAP = 20
CARD = re.compile(
    r'<a class="card[^"]*" href="([^"]+)">\s*<div class="card-body">\s*'
    r'<div class="text-muted">([^<]+)</div>\s*<div class="display-4[^"]*">([^<]+)</div>'
)
TAB = re.compile(r'data-status="(\w+)">\s*[^<]*?<span class="cme-count">\(([^)]*)\)')
ACTIVE = re.compile(r'class="nav-link active"[^>]*data-status="(\w+)"')
TOTAL = re.compile(r'cme-total">([^<]*)<')


@pytest.fixture
def capped(app, monkeypatch):
    monkeypatch.setitem(app.config, "LIST_COUNT_CAP", CAP)


def words(n: int, exact: bool = False) -> str:
    """A tab's or a card's count as the pages say it."""
    return f"{n:,}" if exact or n <= CAP else f"超过 {CAP}"


def total_line(n: int, exact: bool = False) -> str:
    if not n:
        return ""
    return f"共 {n:,} 个项目" if exact or n <= CAP else f"超过 {CAP} 个项目"


def html_of(browser, url: str) -> str:
    response = browser.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def exported(browser, view: str, args: dict) -> int:
    """The rows of the CSV export of list ``view`` with ``args`` (the list's own)."""
    response = browser.get(f"/admin/{view}/export/csv/?{urlencode(args)}")
    assert response.status_code == 200, response.headers.get("Location")
    body = response.get_data(as_text=True).lstrip("\ufeff")
    response.close()
    return len(list(csv.reader(io.StringIO(body)))) - 1


def said(browser, view: str, args: dict) -> tuple[str, str, dict[str, str]]:
    """(the active tab's count, the pager's total line, every tab's count) of a list."""
    html = html_of(browser, f"/admin/{view}/?{urlencode(args)}")
    tabs = dict(TAB.findall(html))
    active = ACTIVE.search(html).group(1)
    total = TOTAL.search(html)
    return tabs[active], total.group(1) if total else "", tabs


def matching(session, account, *, states=(), term=None, year=None, level=None) -> int:
    """How many projects of ``account``'s scope a list shows: counted here, in Python
    over the rows, not by the code under test."""
    rows = session.scalars(select(Project).where(project_visibility(account))).all()
    return sum(
        1
        for p in rows
        if (not states or p.state in states)
        and (year is None or p.year == year)
        and (level is None or p.level == level)
        and (term is None or any(term in (v or "") for v in (p.name, p.project_no, p.principal)))
    )


@pytest.fixture
def large_branch(session, demo_accounts):
    """bma_cardio with about 30 more drafts: 24 named 心衰 (above the cap with the
    demo's), 3 named 罕见病 (below), a few returned, some of them 2025's."""
    owner = demo_accounts["bma_cardio"]
    for n in range(24):
        make_project(session, owner, S.DRAFT, name=f"心衰规范化诊疗培训{n}", year=2025 + n % 2)
    for n in range(3):
        make_project(session, owner, S.DRAFT, name=f"罕见病诊治进展{n}")
    for n in range(3):
        make_project(session, owner, S.RETURNED, name=f"心衰退回项目{n}")
    session.commit()
    return owner


def test_an_entry_unit_s_card_tab_pager_and_export_agree(capped, large_branch, login_as, session):
    browser = login_as("bma_cardio")
    home = html_of(browser, "/admin/")
    cards = {title: (url.replace("&amp;", "&"), count) for url, title, count in CARD.findall(home)}
    drafts = matching(session, large_branch, states=(S.DRAFT,))
    assert drafts > CAP
    # The card says what the tab it links to says, and the pager and the export agree.
    for title, states in {"未上报": (S.DRAFT,), "退回修改": (S.RETURNED,)}.items():
        url, count = cards[title]
        n = matching(session, large_branch, states=states)
        assert count == words(n)
        view, query = url.split("/")[2], url.split("?", 1)[1]
        args = dict(arg.split("=") for arg in query.split("&"))
        tab, total, _ = said(browser, view, args)
        assert (tab, total) == (words(n), total_line(n))
        assert exported(browser, view, args) == n
    # The next step's sentence says the held projects the same way.
    held = matching(session, large_branch, states=(S.DRAFT, S.RETURNED))
    assert f"超过 {CAP} 个项目未上报或被退回修改。" in home and held > CAP

    # Filters and keywords: each tab counts the list as searched and filtered, and the
    # current one is the pager's total; the export writes exactly that list.
    cases = [
        ({"status": "held"}, {"states": (S.DRAFT, S.RETURNED)}),
        ({"status": "draft", "year": "2025"}, {"states": (S.DRAFT,), "year": 2025}),
        ({"status": "all", "search": "心衰"}, {"term": "心衰"}),
        ({"status": "draft", "search": "心衰"}, {"states": (S.DRAFT,), "term": "心衰"}),
        (
            {"status": "held", "search": "罕见病"},
            {"states": (S.DRAFT, S.RETURNED), "term": "罕见病"},
        ),
        ({"search": "心衰", "year": "2025"}, {"term": "心衰", "year": 2025}),
        ({"flt0_level": ProjectLevel.SOCIETY_I.value}, {"level": ProjectLevel.SOCIETY_I}),
        (
            {"status": "returned", "search": "心衰", "flt0_level": ProjectLevel.SOCIETY_I.value},
            {"states": (S.RETURNED,), "term": "心衰", "level": ProjectLevel.SOCIETY_I},
        ),
    ]
    seen = set()
    for args, wanted in cases:
        n = matching(session, large_branch, **wanted)
        tab, total, tabs = said(browser, "projects", args)
        assert (tab, total) == (words(n), total_line(n)), args
        assert exported(browser, "projects", args) == n, args
        # Every other tab of the same search and filters counts that state; when the
        # list holds more than the cap in all, a tab may go uncounted (no number, not a
        # wrong one): its states are not read to their end through every match.
        narrowing = {k: v for k, v in wanted.items() if k != "states"}
        in_all = matching(session, large_branch, **narrowing)
        for state in (S.DRAFT, S.RETURNED, S.AT_SOCIETY, S.PUBLISHED):
            n_state = matching(session, large_branch, states=(state,), **narrowing)
            if state.value in tabs:
                assert tabs[state.value] == words(n_state), (args, state)
            else:
                assert in_all > CAP, (args, state)
        assert "all" not in tabs or tabs["all"] == words(in_all)
        if in_all <= CAP:  # every tab counted
            assert {"draft", "returned", "at_society", "published", "all"} <= set(tabs)
        seen.add(n > CAP)
    assert seen == {True, False}  # above the cap and below it


def test_the_committee_s_counts_are_exact_everywhere_and_capped_with_a_keyword(
    capped, login_as, session, demo_accounts
):
    committee = demo_accounts["bjcme"]
    for n in range(CAP + 5):
        make_project(session, demo_accounts["bma_cardio"], S.AT_COMMITTEE, name=f"心衰审核{n}")
    session.commit()
    browser = login_as("bjcme")
    home = html_of(browser, "/admin/")
    cards = {title: (url.replace("&amp;", "&"), count) for url, title, count in CARD.findall(home)}
    waiting = matching(session, committee, states=(S.AT_COMMITTEE,))
    assert waiting > CAP
    # From the tallies: exact above the cap, on the card, the tab, the pager, the
    # reviewer's link and the export.
    url, count = cards["待审核"]
    assert count == words(waiting, exact=True)
    assert f"查看全部待审核项目（{waiting:,}）" in home
    args = dict(arg.split("=") for arg in url.split("?", 1)[1].split("&"))
    tab, total, _ = said(browser, "audit", args)
    assert (tab, total) == (words(waiting, exact=True), total_line(waiting, exact=True))
    assert exported(browser, "audit", args) == waiting
    # 本年已公布: the tab of that year.
    url, count = cards["本年已公布"]
    args = dict(arg.split("=") for arg in url.split("?", 1)[1].split("&"))
    published = matching(session, committee, states=(S.PUBLISHED,), year=int(args["year"]))
    tab, total, _ = said(browser, "audit", args)
    assert count == tab == words(published, exact=True)
    assert exported(browser, "audit", args) == published
    # With a keyword or a filter the counts are read from the list, capped.
    for args, wanted in [
        (
            {"status": "at_committee", "search": "心衰"},
            {"states": (S.AT_COMMITTEE,), "term": "心衰"},
        ),
        ({"status": "all", "search": "心衰"}, {"term": "心衰"}),
        ({"status": "all", "search": "研讨"}, {"term": "研讨"}),
        ({"flt0_level": ProjectLevel.SOCIETY_I.value}, {"level": ProjectLevel.SOCIETY_I}),
    ]:
        n = matching(session, committee, **wanted)
        tab, total, _ = said(browser, "audit", args)
        assert (tab, total) == (words(n), total_line(n)), args
        assert exported(browser, "audit", args) == n, args
