"""The project lists at 1366 × 768 (issue 26), over HTTP: the 备案规则提示 badge only
on projects the filing rules still check (not once published), and the panel's own
words (brand, <title>, 首页) in the account's language. The layout itself (no header
wraps at 1366 px) is checked in Chromium: tests/e2e/test_lists_in_browser.py."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import ProjectState, ProjectWarning, RuleKind, Severity
from tests.admin.test_filing_rules_panel import good, only
from tests.admin.test_projects import act, state_of
from tests.factories import make_project

S = ProjectState
BADGE = "备案规则提示"


def row_of(html: str, name: str) -> str:
    """The list row (<tr>…</tr>) showing project ``name``."""
    rows = [row for row in re.findall(r"<tr\b.*?</tr>", html, re.S) if name in row]
    assert len(rows) == 1, name
    return rows[0]


def test_the_rule_badge_only_on_projects_still_checked(
    login_as, browser, another_browser, session, demo_accounts
):
    """Three projects moved up with a 学时与学分 warning: the one sent back to its
    owner and the one at the committee keep the badge; the published one, whose
    warning is still recorded, shows none."""
    only(session, demo_accounts["bjcme"].unit_id, RuleKind.CREDITS, Severity.WARN)
    names = {
        "returned": "退回后仍超学分的项目",
        "audit": "待审核超学分项目",
        "done": "已公布超学分项目",
    }
    projects = {
        key: make_project(session, demo_accounts["bma_cardio"], **good(name=name, theory_hours=6))
        for key, name in names.items()
    }
    session.commit()
    ids = {key: p.id for key, p in projects.items()}
    login_as("bma_cardio")
    act(browser, "projects", "report", ids.values())
    society = another_browser()
    society.login("bma")
    act(society, "review", "report", [ids["audit"], ids["done"]])
    act(society, "review", "unlock", [ids["returned"]], reason_confirmed="1")
    committee = another_browser()
    committee.login("bjcme")
    act(committee, "audit", "publish", [ids["done"]])
    assert [state_of(session, ids[k]) for k in ("returned", "audit", "done")] == [
        S.RETURNED,
        S.AT_COMMITTEE,
        S.PUBLISHED,
    ]
    # Every one of them carries its recorded warning.
    warned = set(session.scalars(select(ProjectWarning.project_id)))
    assert set(ids.values()) <= warned

    audit = committee.get("/admin/audit/?status=all").get_data(as_text=True)
    assert BADGE in row_of(audit, names["audit"])
    assert BADGE not in row_of(audit, names["done"])
    assert "超过总学时" not in row_of(audit, names["done"])
    mine = browser.get("/admin/projects/?status=all").get_data(as_text=True)
    assert BADGE in row_of(mine, names["returned"])
    assert BADGE not in row_of(mine, names["done"])


def test_english_mode_names_the_system_and_home_in_english(login_as):
    browser = login_as("bma_cardio")
    browser.get("/lang/en")
    try:
        html = browser.get("/admin/").get_data(as_text=True)
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
        assert "Beijing CME Project Filing and Publication System" in title
        assert "北京" not in title and "首页" not in title
        brand = re.search(r'<a class="navbar-brand"[^>]*>(.*?)</a>', html, re.S).group(1)
        assert brand.strip() == "Beijing CME Project Filing and Publication System"
        assert re.search(r'<a class="nav-link[^"]*" href="/admin/">\s*Home</a>', html)
        assert "首页" not in html
    finally:
        browser.get("/lang/zh_Hans_CN")
    html = browser.get("/admin/").get_data(as_text=True)
    assert "<title>首页 - 北京CME项目备案、发布系统</title>" in html
