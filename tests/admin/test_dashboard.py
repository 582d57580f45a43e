"""首页: the next step per role (添加项目 and 上报所选项目 for an entry unit, the
oldest waiting projects for a reviewer), the empty state of a new unit, the
项目查询 menu link, and a cost that does not grow with the projects."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from flask_security import hash_password
from sqlalchemy import update

import permissions
from demo import DEMO_PASSWORD
from models import Project, UnitKind
from models import ProjectState as S
from tests.factories import make_project, make_unit, make_user

LINK = re.compile(r'<a[^>]*href="([^"]+)"[^>]*>\s*([^<]*?)\s*</a>')


def _links(html: str) -> dict[str, str]:
    """Visible link text -> its URL (the last one of a text wins)."""
    return {text: url.replace("&amp;", "&") for url, text in LINK.findall(html) if text}


def test_an_entry_unit_is_told_to_add_and_to_tick_then_report(login_as, session, demo_accounts):
    held = session.scalars(
        permissions.visible_projects(demo_accounts["bma_cardio"]).where(
            Project.state.in_([S.DRAFT, S.RETURNED])
        )
    ).all()
    browser = login_as("bma_cardio")
    html = browser.get("/admin/").get_data(as_text=True)
    assert "勾选后点击“上报所选项目”。" in html
    assert f"有 {len(held)} 个项目未上报或被退回修改。" in html
    links = _links(html)
    assert links["添加项目"] == "/admin/projects/new/"
    assert browser.get(links["添加项目"]).status_code == 200
    # The projects to report: the 待处理 tab, every held project on it, and its button.
    listing = browser.get(links["查看待处理的项目"]).get_data(as_text=True)
    assert links["查看待处理的项目"] == "/admin/projects/?status=held"
    assert all(p.name in listing for p in held)
    assert re.search(r'class="nav-link active"[^>]*data-status="held"', listing)
    assert ">上报所选项目</button>" in listing


def test_a_new_entry_unit_sees_how_to_start(login_as, session, demo_accounts):
    unit = make_unit(
        session, UnitKind.BRANCH, demo_accounts["bma"].unit, name="北京医学会新成立分会"
    )
    make_user(session, unit, "new_branch", password=hash_password(DEMO_PASSWORD))
    session.commit()
    html = login_as("new_branch").get("/admin/").get_data(as_text=True)
    assert "cme-empty-state" in html
    assert "如何开始" in html
    assert "点击“添加项目”，填写项目信息后点击“提交”。" in html
    assert "上报完成后在“项目查询”中查看。" in html
    assert _links(html)["添加项目"] == "/admin/projects/new/"
    assert "display-4" not in html  # no row of zeros


def _stamp_reported(session, project: Project, when: datetime) -> None:
    session.execute(update(Project).where(Project.id == project.id).values(reported_at=when))


@pytest.mark.parametrize(
    ("username", "state", "tab"),
    [("bma", S.AT_SOCIETY, "待审阅"), ("bjcme", S.AT_COMMITTEE, "待审核")],
)
def test_a_reviewer_sees_the_oldest_waiting_projects_of_its_scope(
    login_as, session, demo_accounts, username, state, tab
):
    # Six waiting in scope, reported a day apart, and an older one of another
    # society (in the committee's scope, not the society's).
    base = datetime(2026, 3, 1, 2, 0)
    mine = []
    for day in range(6):
        project = make_project(session, demo_accounts["bma_cardio"], state, name=f"等待项目{day}")
        _stamp_reported(session, project, base + timedelta(days=day))
        mine.append(project)
    other = make_project(session, demo_accounts["tcm_acu"], state, name="别的学会的项目")
    _stamp_reported(session, other, base - timedelta(days=30))
    session.commit()

    browser = login_as(username)
    html = browser.get("/admin/").get_data(as_text=True)
    oldest = html[html.index("等待最久的项目") :]
    names = re.findall(r'<li class="mb-1">\s*<a href="[^"]+">([^<]+)</a>', oldest)
    waiting = session.scalars(
        permissions.visible_projects(demo_accounts[username])
        .where(Project.state == state)
        .order_by(Project.reported_at, Project.id)
    ).all()
    assert names == [p.name for p in waiting[:5]]
    assert len(names) == 5 and "等待项目5" not in names
    assert ("别的学会的项目" in names) is (username == "bjcme")
    # Each is a link to its details page; the first one opens.
    first = re.search(r'<li class="mb-1">\s*<a href="([^"]+)">', oldest).group(1)
    assert browser.get(first.replace("&amp;", "&")).status_code == 200
    # And the whole tab is one click away, its count said.
    see_all = f"查看全部{tab}项目（{len(waiting)}）"
    url = _links(html)[see_all]
    listing = browser.get(url).get_data(as_text=True)
    assert re.search(rf'class="nav-link active"[^>]*>\s*{tab} <span class="cme-count">', listing)
    assert all(p.name in listing for p in waiting)


def test_a_reviewer_with_nothing_waiting_is_told_so(login_as, session, demo_accounts):
    session.execute(
        update(Project).where(Project.state == S.AT_SOCIETY).values(state=S.AT_COMMITTEE)
    )
    session.commit()
    html = login_as("bma").get("/admin/").get_data(as_text=True)
    assert "目前没有等待您处理的项目。下级单位上报的项目会显示在这里。" in html


@pytest.mark.parametrize(
    ("username", "view"), [("bma_cardio", "projects"), ("bma", "review"), ("bjcme", "audit")]
)
def test_project_search_leads_to_the_whole_own_list(
    login_as, session, demo_accounts, username, view
):
    browser = login_as(username)
    html = browser.get("/admin/").get_data(as_text=True)
    searches = [url for url, text in LINK.findall(html) if text == "项目查询"]
    assert searches == [f"/admin/{view}/?status=all"]
    listing = browser.get(searches[0]).get_data(as_text=True)
    assert re.search(r'class="nav-link active"[^>]*data-status="all"', listing)
    everything = session.scalars(permissions.visible_projects(demo_accounts[username])).all()
    assert f"({len(everything)})" in listing
    assert all(p.name in listing for p in everything)


@pytest.mark.parametrize("username", ["bma_cardio", "bma", "bjcme"])
def test_the_dashboard_costs_the_same_whatever_the_number_of_projects(
    login_as, browser, session, demo_accounts, count_statements, username
):
    login_as(username)
    # The panel's chrome (the account, its login session, what the menu and the
    # header show) costs the same on every page: the help page has nothing else.
    browser.get("/admin/help/")
    with count_statements() as chrome:
        browser.get("/admin/help/")
    counts = []
    for _ in range(2):
        browser.get("/admin/")  # warm the session
        with count_statements() as counter:
            assert browser.get("/admin/").status_code == 200
        counts.append(counter.count)
        for state in (S.DRAFT, S.AT_SOCIETY, S.AT_COMMITTEE, S.PUBLISHED):
            for _ in range(4):
                make_project(session, demo_accounts["bma_cardio"], state)
        session.commit()
    # One row of counts, for a reviewer its oldest waiting projects, the execution
    # reports waiting for the unit, and the countdown of its filing windows.
    assert counts[0] == counts[1] <= chrome.count + 4, (counts, chrome.statements)


def test_the_oldest_waiting_are_those_of_every_year(login_as, session, demo_accounts):
    """The committee's oldest waiting projects, read per recent year and the other years
    together (admin_views/dashboard.py ``RECENT_YEARS``): the five oldest of any year,
    also one from a year long past and one from next year, in order."""
    this_year = date.today().year
    years = (this_year - 30, this_year + 1, this_year, this_year - 11, this_year - 12, 2001)
    base = datetime(2020, 1, 1, 2, 0)
    for n, year in enumerate(years):
        project = make_project(session, demo_accounts["bma_cardio"], S.AT_COMMITTEE)
        session.execute(
            update(Project)
            .where(Project.id == project.id)
            .values(year=year, name=f"跨年等待{n}", reported_at=base - timedelta(days=n))
        )
    session.commit()
    html = login_as("bjcme").get("/admin/").get_data(as_text=True)
    oldest = html[html.index("等待最久的项目") :]
    names = re.findall(r'<li class="mb-1">\s*<a href="[^"]+">([^<]+)</a>', oldest)
    waiting = session.scalars(
        permissions.visible_projects(demo_accounts["bjcme"])
        .where(Project.state == S.AT_COMMITTEE)
        .order_by(Project.reported_at, Project.id)
        .limit(5)
    ).all()
    assert names == [p.name for p in waiting]
    assert names == [f"跨年等待{n}" for n in (5, 4, 3, 2, 1)]
