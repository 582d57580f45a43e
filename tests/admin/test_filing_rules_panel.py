"""备案规则 through the real HTTP stack: the committee's page (its own rules,
CSRF, 403 for the others), a rule's block and warn path through the list's
buttons, the warnings reviewers see, the form's yellow box, and 复制为新项目."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import FilingRule, Project, ProjectState, RuleKind, Severity
from tests.admin.conftest import csrf_from
from tests.admin.test_projects import act, flashes, project_form, state_of
from tests.factories import make_project, make_tree
from tests.refusals import assert_expired, assert_refused_with
from workflow import filing_rules

S = ProjectState
LATER = filing_rules.today() + timedelta(days=60)
SOON = filing_rules.today() + timedelta(days=3)


def good(**overrides):
    return {
        "year": LATER.year,
        "start_date": LATER,
        "end_date": LATER,
        "theory_hours": 12,
        "credits": 4,
    } | overrides


def only(session, committee_id, kind, severity, **params):
    for rule in session.scalars(select(FilingRule).where(FilingRule.committee_id == committee_id)):
        rule.active = False
    filing_rules.set_rule(session, committee_id, LATER.year, kind, severity=severity, **params)
    session.commit()


def rules_form(browser, year) -> tuple[str, dict]:
    """The page and its current values, as a browser would post them back."""
    html = browser.get(f"/admin/rules/?year={year}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html)}
    for name, value in re.findall(r'<input[^>]*name="([\w-]+)"[^>]*value="([^"]*)"', html):
        if name != "csrf_token":
            data[name] = value
    for name in re.findall(r'<input[^>]*checked[^>]*name="([\w-]+)"', html):
        data[name] = "y"
    for name in re.findall(r'<select[^>]*name="([\w-]+-severity)"', html):
        data.setdefault(name, "warn")
    return html, data


# -- the rules page -----------------------------------------------------------------
def test_the_committee_sets_its_rules_per_year(login_as, browser, session, demo_accounts):
    login_as("bjcme")
    html, data = rules_form(browser, 2026)
    assert "备案规则" in html and "备案期限" in html and "开始日期前天数" in html
    assert "学（协）会Ⅰ类项目学分上限" in html and "阻止（不能上报或公布）" in html
    data |= {"deadline-active": "y", "deadline-severity": "block", "deadline-days": "21"}
    response = browser.client.post("/admin/rules/?year=2026", data=data)
    assert response.status_code == 302
    assert "2026年度备案规则已保存" in flashes(browser.get(response.headers["Location"]))
    rules = filing_rules.settings_of(session, demo_accounts["bjcme"].unit_id, 2026)
    deadline = rules[RuleKind.DEADLINE]
    assert deadline.active and deadline.severity is Severity.BLOCK
    assert deadline.param("days") == 21
    # Another year is untouched.
    assert not filing_rules.settings_of(session, demo_accounts["bjcme"].unit_id, 2027)[
        RuleKind.DEADLINE
    ].active


def test_a_bad_parameter_is_refused_next_to_its_field(login_as, browser, session, demo_accounts):
    login_as("bjcme")
    _, data = rules_form(browser, 2026)
    data |= {"deadline-days": "-3", "quota-max_projects": ""}
    html = browser.client.post("/admin/rules/?year=2026", data=data).get_data(as_text=True)
    assert "请输入0至365之间的整数" in html and "此项为必填项" in html
    stored = filing_rules.settings_of(session, demo_accounts["bjcme"].unit_id, 2026)
    assert stored[RuleKind.DEADLINE].param("days") == 14


def test_the_rules_page_needs_csrf(login_as, browser):
    login_as("bjcme")
    _, data = rules_form(browser, 2026)
    del data["csrf_token"]
    assert_expired(browser.client.post("/admin/rules/?year=2026", data=data))


@pytest.mark.parametrize("username", ["bma", "bma_cardio", "pumch"])
def test_only_a_committee_reaches_the_rules(login_as, username):
    browser = login_as(username)
    assert_refused_with(browser.get("/admin/rules/"), 403)
    assert browser.client.post("/admin/rules/", data={}).status_code in (400, 403)


def test_signed_out_is_sent_to_the_login(browser):
    response = browser.get("/admin/rules/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_committee_edits_its_own_rules_only(app, login_as, browser, session, demo_accounts):
    make_tree(session, "r2_")
    session.commit()
    login_as("bjcme")
    _, data = rules_form(browser, 2026)
    data |= {"lecturers-active": "y", "lecturers-severity": "block"}
    browser.client.post("/admin/rules/?year=2026", data=data)
    stored = session.scalars(select(FilingRule.committee_id).distinct()).all()
    assert stored == [demo_accounts["bjcme"].unit_id]


# -- block and warn through the list's buttons ------------------------------------------
def test_a_blocked_report_names_the_project_and_the_rule(login_as, browser, session, demo_accounts):
    cardio = demo_accounts["bma_cardio"]
    fine = make_project(session, cardio, **good(name="按时上报的项目"))
    late = make_project(
        session, cardio, **good(name="临近开班的项目", start_date=SOON, end_date=SOON)
    )
    session.commit()
    only(session, demo_accounts["bjcme"].unit_id, RuleKind.DEADLINE, Severity.BLOCK)
    login_as("bma_cardio")
    response = act(browser, "projects", "report", [fine.id, late.id])
    text = flashes(browser.get(response.headers["Location"]))
    assert "1 项未处理" in text and "“临近开班的项目”：备案期限" in text
    assert "须在开始日期" in text and "按时上报的项目" not in text
    assert state_of(session, late.id) is S.DRAFT and state_of(session, fine.id) is S.AT_SOCIETY


def test_a_warning_moves_and_reviewers_see_it(login_as, browser, session, demo_accounts):
    cardio = demo_accounts["bma_cardio"]
    project = make_project(
        session, cardio, **good(name="学分偏高的项目", theory_hours=6, credits=4)
    )
    session.commit()
    only(session, demo_accounts["bjcme"].unit_id, RuleKind.CREDITS, Severity.WARN)
    login_as("bma_cardio")
    act(browser, "projects", "report", [project.id])
    assert state_of(session, project.id) is S.AT_SOCIETY
    browser.logout()

    login_as("bma")
    listing = browser.get("/admin/review/").get_data(as_text=True)
    row = listing[listing.index("学分偏高的项目") :]
    assert "备案规则提示" in row[:600] and "超过总学时6÷3=2分" in row[:800]
    details = browser.get(f"/admin/review/details/?id={project.id}").get_data(as_text=True)
    assert "cme-rule-warnings" in details and "超过总学时6÷3=2分" in details
    # The society reports it on: the committee sees the warning too.
    act(browser, "review", "report", [project.id])
    browser.logout()
    login_as("bjcme")
    assert "超过总学时6÷3=2分" in browser.get("/admin/audit/").get_data(as_text=True)


def test_a_publish_blocked_by_a_rule(login_as, browser, session, demo_accounts):
    project = make_project(
        session, demo_accounts["pumch"], S.AT_COMMITTEE, **good(name="待公布项目")
    )
    project.lecturers = []
    session.commit()
    only(session, demo_accounts["bjcme"].unit_id, RuleKind.LECTURERS, Severity.BLOCK)
    login_as("bjcme")
    response = act(browser, "audit", "publish", [project.id])
    text = flashes(browser.get(response.headers["Location"]))
    assert "“待公布项目”：授课教师：请至少填写一名授课教师" in text
    assert state_of(session, project.id) is S.AT_COMMITTEE


# -- the form's yellow box ------------------------------------------------------------------
def test_the_form_warns_before_reporting(login_as, browser, session, demo_accounts):
    only(session, demo_accounts["bjcme"].unit_id, RuleKind.CREDITS, Severity.BLOCK)
    login_as("bma_cardio")
    data = project_form(
        session,
        year=str(LATER.year),
        start_date=LATER.isoformat(),
        end_date=LATER.isoformat(),
        theory_hours="6",
        practice_hours="0",
        credits="4",
    )
    response = browser.post("/admin/projects/new/", data, token_from="/admin/projects/new/")
    assert response.status_code == 302
    assert "按备案规则检查：【阻止上报】学时与学分" in flashes(
        browser.get(response.headers["Location"])
    )
    project = session.scalar(select(Project).where(Project.name == data["name"]))
    edit = browser.get(f"/admin/projects/edit/?id={project.id}").get_data(as_text=True)
    assert "如现在上报，本项目将违反以下备案规则" in edit and "超过总学时6÷3=2分" in edit
    # Its details page says so too.
    details = browser.get(f"/admin/projects/details/?id={project.id}").get_data(as_text=True)
    assert "如现在上报" in details


# -- 复制为新项目 ------------------------------------------------------------------------------
def test_copy_a_published_project_of_last_year(login_as, browser, session, demo_accounts):
    cardio = demo_accounts["bma_cardio"]
    old = make_project(
        session,
        cardio,
        S.PUBLISHED,
        year=date.today().year - 1,
        name="去年的学习班",
        start_date=date(date.today().year - 1, 5, 1),
        end_date=date(date.today().year - 1, 5, 2),
    )
    session.commit()
    login_as("bma_cardio")
    details = browser.get(f"/admin/projects/details/?id={old.id}").get_data(as_text=True)
    assert "复制为新项目" in details
    form = browser.get(f"/admin/projects/new/?copy={old.id}").get_data(as_text=True)
    assert 'value="去年的学习班"' in form and 'value="王教授"' in form
    assert f'value="{date.today().year}"' in form
    assert not re.search(r'name="start_date"[^>]*value="\d', form)
    assert not re.search(r'name="end_date"[^>]*value="\d', form)

    data = project_form(
        session,
        name="去年的学习班",
        year=str(LATER.year),  # 年度 follows 开始日期
        start_date=LATER.isoformat(),
        end_date=LATER.isoformat(),
    )
    response = browser.post(
        "/admin/projects/new/", data, token_from=f"/admin/projects/new/?copy={old.id}"
    )
    assert response.status_code == 302
    copies = session.scalars(select(Project).where(Project.name == "去年的学习班")).all()
    new = next(p for p in copies if p.id != old.id)
    assert new.state is S.DRAFT and new.year == LATER.year and new.project_no is None
    assert [lecturer.name for lecturer in new.lecturers] == ["刘强", "陈静"]
    assert session.get(Project, old.id).state is S.PUBLISHED


def test_copy_is_scoped_to_the_units_own_projects(login_as, browser, session, demo_accounts):
    theirs = make_project(session, demo_accounts["bma_peds"], S.PUBLISHED)
    other_tree = make_project(session, make_tree(session, "c2_")["branch"], S.DRAFT)
    session.commit()
    login_as("bma_cardio")
    assert browser.get(f"/admin/projects/new/?copy={theirs.id}").status_code == 404
    assert browser.get(f"/admin/projects/new/?copy={other_tree.id}").status_code == 404
    assert browser.get("/admin/projects/new/?copy=x").status_code == 404
    browser.logout()
    login_as("bma")
    details = browser.get(f"/admin/review/details/?id={theirs.id}").get_data(as_text=True)
    assert "复制为新项目" not in details


def test_an_unknown_severity_is_refused_in_chinese(login_as, browser, session, demo_accounts):
    login_as("bjcme")
    _, data = rules_form(browser, 2026)
    data["deadline-severity"] = "sometimes"
    html = browser.client.post("/admin/rules/?year=2026", data=data).get_data(as_text=True)
    assert "请从列表中选择" in html
    assert (
        filing_rules.settings_of(session, demo_accounts["bjcme"].unit_id, 2026)[
            RuleKind.DEADLINE
        ].severity
        is Severity.WARN
    )


# -- a year without rules of its own follows the latest earlier year ------------------
def test_a_year_without_rules_says_it_follows_the_previous_years(login_as, browser, session):
    """The demo's committee has rules for 2025 and 2026 only: 2027 follows 2026's,
    shown read-only with 复制并修改 and 本年度不设规则; its own year's page is as before."""
    login_as("bjcme")
    html = browser.get("/admin/rules/?year=2027").get_data(as_text=True)
    follow = html.split('id="rules-follow"', 1)[1].split("</div>\n  ", 1)[0]
    assert "2027 年度沿用 2026 年度的规则" in follow
    assert "复制并修改" in follow and "本年度不设规则" in follow
    assert re.search(r"<fieldset disabled", html)
    assert 'id="rules-copy"' in html and 'id="rules-none"' in html
    assert "沿用" not in browser.get("/admin/rules/?year=2026").get_data(as_text=True)
    # A crafted save of the shown rules changes nothing: the year has to be copied first.
    _, data = rules_form(browser, 2026)
    data |= {"deadline-active": "y", "deadline-severity": "block"}
    response = browser.client.post("/admin/rules/?year=2027", data=data)
    assert response.status_code == 302
    assert "2027 年度沿用 2026 年度的规则" in flashes(browser.get(response.headers["Location"]))
    assert session.scalars(select(FilingRule).where(FilingRule.year == 2027)).all() == []


def test_copy_and_edit_gives_the_year_its_own_rules(login_as, browser, session, demo_accounts):
    committee_id = demo_accounts["bjcme"].unit_id
    filing_rules.set_rule(
        session, committee_id, 2026, RuleKind.DEADLINE, severity=Severity.BLOCK, days=9
    )
    session.commit()
    login_as("bjcme")
    assert_expired(browser.client.post("/admin/rules/copy?year=2027", data={}))
    assert session.scalars(select(FilingRule).where(FilingRule.year == 2027)).all() == []

    response = browser.post("/admin/rules/copy?year=2027", token_from="/admin/rules/?year=2027")
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "已将 2026 年度的规则复制到 2027 年度" in page
    assert "沿用" not in page.split('id="rules-form"', 1)[0].split("alert-success", 1)[0]
    assert 'id="rules-follow"' not in page
    session.expire_all()
    own = filing_rules.settings_of(session, committee_id, 2027)
    assert len([rule for rule in own.values() if rule.id is not None]) == len(RuleKind)
    assert own[RuleKind.DEADLINE].severity is Severity.BLOCK
    assert own[RuleKind.DEADLINE].param("days") == 9

    # Now 2027's own rules are edited; 2026's stay.
    _, data = rules_form(browser, 2027)
    data |= {"deadline-days": "5"}
    assert browser.client.post("/admin/rules/?year=2027", data=data).status_code == 302
    session.expire_all()
    assert (
        filing_rules.settings_of(session, committee_id, 2027)[RuleKind.DEADLINE].param("days") == 5
    )
    assert (
        filing_rules.settings_of(session, committee_id, 2026)[RuleKind.DEADLINE].param("days") == 9
    )
    # Nothing to copy any more: refused with a message, nothing changes.
    response = browser.post("/admin/rules/copy?year=2027", token_from="/admin/rules/?year=2027")
    assert "无可复制" in flashes(browser.get(response.headers["Location"]))


def carried_over(session, demo_accounts):
    """A blocking 2026 deadline rule of the committee (none of its own in 2027) and a 2027
    draft of bma_cardio's it holds back, committed: (bma_cardio, committee id, project)."""
    cardio, committee_id = demo_accounts["bma_cardio"], demo_accounts["bjcme"].unit_id
    filing_rules.set_rule(
        session, committee_id, 2026, RuleKind.DEADLINE, severity=Severity.BLOCK, days=400
    )
    session.commit()
    project = make_project(
        session, cardio, year=2027, start_date=date(2027, 3, 1), end_date=date(2027, 3, 2)
    )
    session.commit()
    return cardio, committee_id, project


def test_no_rules_this_year_stops_the_carry_over(login_as, browser, session, demo_accounts):
    cardio, committee_id, project = carried_over(session, demo_accounts)
    assert filing_rules.check_values(session, cardio, [filing_rules.values_of(project)])[0]

    login_as("bjcme")
    assert_expired(browser.client.post("/admin/rules/none?year=2027", data={}))
    response = browser.post("/admin/rules/none?year=2027", token_from="/admin/rules/?year=2027")
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "2027 年度已设为不设规则" in page
    assert 'id="rules-off"' in page and 'id="rules-follow"' not in page
    session.expire_all()
    own = filing_rules.settings_of(session, committee_id, 2027)
    assert all(rule.id is not None and not rule.active for rule in own.values())
    assert filing_rules.check_values(session, cardio, [filing_rules.values_of(project)])[0] == []


def test_the_form_box_follows_the_carried_rules(login_as, browser, session, demo_accounts):
    """The project form's yellow box of a 2027 project shows 2026's blocking rule."""
    _, _, project = carried_over(session, demo_accounts)
    login_as("bma_cardio")
    html = browser.get(f"/admin/projects/edit/?id={project.id}").get_data(as_text=True)
    assert "备案期限" in html and "阻止上报" in html


@pytest.mark.parametrize("action", ["copy", "none"])
def test_only_the_committee_copies_or_clears_a_year(login_as, browser, session, action):
    login_as("bma")
    response = browser.post(f"/admin/rules/{action}?year=2027", token_from="/admin/messages/")
    assert_refused_with(response, 403)
    assert session.scalars(select(FilingRule).where(FilingRule.year == 2027)).all() == []
