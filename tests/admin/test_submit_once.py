"""Submit once (issue 26): a create form's one-time token makes Back + 提交, a double
click or a retried request answer with the project already created instead of adding
another; a list's bulk action posted twice with its token moves nothing the second time
and says so. (The import's confirmation is idempotent through its batch:
tests/admin/test_import.py::test_confirm_twice_adds_once; the public sign-in through the
roster's unique ID number: tests/public/.)"""

from __future__ import annotations

import re
import threading

from sqlalchemy import func, select

from models import Project, ProjectEvent, ProjectState, Submission
from tests.admin.test_projects import act, flashes, project_form
from tests.factories import make_project

S = ProjectState
NEW = "/admin/projects/new/"
TOKEN = re.compile(r'<input[^>]*name="submission"[^>]*>')
FRESH = re.compile(r'<form[^>]*data-submission="([^"]+)"')


def token_of(html: str) -> str:
    """What the page's script leaves in the token field: the value the field was drawn
    with (a form sent back with errors), else the new form's token (data-submission)."""
    tag = TOKEN.search(html)
    assert tag, "the form carries no submission field"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    if value and value.group(1):
        return value.group(1)
    fresh = FRESH.search(html)
    assert fresh, "the form carries no submission token"
    return fresh.group(1)


def named(session, name: str) -> list[int]:
    session.expire_all()
    return list(session.scalars(select(Project.id).where(Project.name == name)))


def test_each_create_page_carries_a_fresh_token(login_as, browser):
    login_as("bma_cardio")
    first = token_of(browser.get(NEW).get_data(as_text=True))
    second = token_of(browser.get(NEW).get_data(as_text=True))
    assert len(first) >= 40 and first != second


def test_back_and_submit_again_creates_one_project(login_as, browser, session):
    login_as("bma_cardio")
    token = token_of(browser.get(NEW).get_data(as_text=True))
    form = project_form(session, name="只提交一次的项目", submission=token)
    first = browser.post(NEW, form, token_from=NEW)
    assert first.status_code == 302
    [project_id] = named(session, "只提交一次的项目")

    # Browser Back shows the same page with the same token; 提交 again.
    again = browser.post(NEW, form, token_from=NEW)
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/admin/projects/details/?id={project_id}")
    page = browser.get(again.headers["Location"])
    assert "该表单已经提交过" in flashes(page) and "只提交一次的项目" in flashes(page)
    assert named(session, "只提交一次的项目") == [project_id]
    # One history row (添加), one token row.
    events = select(func.count()).where(ProjectEvent.project_id == project_id)
    assert session.scalar(events.select_from(ProjectEvent)) == 1
    assert session.scalar(select(func.count()).select_from(Submission)) == 1


def test_a_refused_form_keeps_its_token_until_it_saves(login_as, browser, session):
    login_as("bma_cardio")
    token = token_of(browser.get(NEW).get_data(as_text=True))
    refused = browser.post(NEW, project_form(session, name="", submission=token), token_from=NEW)
    assert refused.status_code == 200
    assert token_of(refused.get_data(as_text=True)) == token
    saved = project_form(session, name="改正后提交", submission=token)
    assert browser.post(NEW, saved, token_from=NEW).status_code == 302
    assert len(named(session, "改正后提交")) == 1


def test_another_accounts_token_is_not_theirs(login_as, browser, another_browser, session):
    """Tokens are per account: the same string from another account is a new form."""
    login_as("bma_cardio")
    token = token_of(browser.get(NEW).get_data(as_text=True))
    browser.post(NEW, project_form(session, name="甲的项目", submission=token), token_from=NEW)
    other = another_browser()
    assert other.login("bma_peds").status_code == 302
    response = other.post(
        NEW, project_form(session, name="乙的项目", submission=token), token_from=NEW
    )
    assert response.status_code == 302
    assert len(named(session, "乙的项目")) == 1


def test_a_form_without_a_token_still_saves(login_as, browser, session):
    login_as("bma_cardio")
    form = project_form(session, name="旧页面的表单")
    assert browser.post(NEW, form, token_from=NEW).status_code == 302
    assert browser.post(NEW, form, token_from=NEW).status_code == 302
    # Without a token nothing tells a repeat from a second project: both are kept.
    assert len(named(session, "旧页面的表单")) == 2


def test_a_double_click_racing_creates_one_project(login_as, browser, another_browser, session):
    """Two POSTs of one token at once (a double click): the unique token decides; the
    loser answers like a retry."""
    login_as("bma_cardio")
    token = token_of(browser.get(NEW).get_data(as_text=True))
    form = project_form(session, name="双击的项目", submission=token)
    form["csrf_token"] = browser.token(NEW)
    answers = []

    def post():
        answers.append(browser.client.post(NEW, data=form))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [302, 302]
    [project_id] = named(session, "双击的项目")
    assert {a.headers["Location"].split("?")[0] for a in answers} <= {
        "/admin/projects/",
        "/admin/projects/details/",
    }
    assert any(a.headers["Location"].endswith(f"details/?id={project_id}") for a in answers)


def test_a_save_with_a_token_costs_two_statements_more(
    login_as, browser, session, count_statements
):
    """The token adds one SELECT (was it used?) and one INSERT, whatever the form."""
    login_as("bma_cardio")
    counts = []
    for name, token in (("不带令牌", ""), ("带令牌", "x" * 43)):
        form = project_form(session, name=name, submission=token)
        form["csrf_token"] = browser.token(NEW)
        with count_statements() as counter:
            assert browser.client.post(NEW, data=form).status_code == 302
        counts.append(counter.count)
    assert counts[1] == counts[0] + 2, counts


# -- bulk actions ---------------------------------------------------------------------------
def test_a_retried_bulk_action_moves_nothing_twice_and_says_so(
    login_as, browser, session, demo_accounts
):
    owner = demo_accounts["bma_cardio"]
    drafts = [make_project(session, owner, S.DRAFT, name=f"批量{i}") for i in range(3)]
    session.commit()
    ids = [p.id for p in drafts]
    login_as("bma_cardio")
    token = "t" * 43
    first = act(browser, "projects", "report", ids, submission=token, follow_redirects=True)
    assert "已处理 3 项" in flashes(first)
    events = select(func.count()).select_from(ProjectEvent).where(ProjectEvent.project_id.in_(ids))
    after_first = session.scalar(events)

    again = act(browser, "projects", "report", ids, submission=token, follow_redirects=True)
    assert "已经执行过（3 个项目），未再次执行" in flashes(again)
    assert "未处理" not in flashes(again)
    session.expire_all()
    assert session.scalar(events) == after_first
    assert {session.get(Project, i).state for i in ids} == {S.AT_SOCIETY}


def test_a_bulk_action_without_its_token_still_moves_nothing_twice(
    login_as, browser, session, demo_accounts
):
    """A repeated POST of an older page (no token): the compare-and-set refuses the rows
    that moved already, each named with why."""
    project = make_project(session, demo_accounts["bma_cardio"], S.DRAFT, name="重复上报")
    session.commit()
    login_as("bma_cardio")
    act(browser, "projects", "report", [project.id])
    again = act(browser, "projects", "report", [project.id], follow_redirects=True)
    assert "1 项未处理" in flashes(again) and "重复上报" in flashes(again)
    session.expire_all()
    reports = select(func.count()).select_from(ProjectEvent)
    assert session.scalar(reports.where(ProjectEvent.project_id == project.id)) == 2


def test_the_lists_action_form_carries_its_token_to_the_reason_page(
    login_as, browser, session, demo_accounts
):
    """The list draws a fresh token in its action form; 设为可修改 asks for a reason on a
    page of its own, which posts the same token: the second POST of that page moves
    nothing."""
    project = make_project(session, demo_accounts["bma_cardio"], S.AT_SOCIETY, name="带原因退回")
    session.commit()
    login_as("bma")
    listed = browser.get("/admin/review/?status=all").get_data(as_text=True)
    form = listed.split('id="action_form"', 1)[1].split("</form>", 1)[0]
    token = re.search(r'name="submission" value="([^"]+)"', form).group(1)
    assert len(token) >= 32
    again = browser.get("/admin/review/?status=all").get_data(as_text=True)
    assert token not in again  # each drawing of the list has its own token
    asked = act(browser, "review", "unlock", [project.id], submission=token)
    assert f'name="submission" value="{token}"' in asked.get_data(as_text=True)
    fields = {"submission": token, "reason_confirmed": "1", "reason": "请补充授课教师"}
    first = act(browser, "review", "unlock", [project.id], follow_redirects=True, **fields)
    assert "已处理 1 项" in flashes(first)
    second = act(browser, "review", "unlock", [project.id], follow_redirects=True, **fields)
    assert "已经执行过（1 个项目），未再次执行" in flashes(second)
    session.expire_all()
    assert session.get(Project, project.id).state is S.RETURNED
