"""修改对比 on the pages: a project back after 退回修改 shows its reviewer what
changed since they last saw it, beside the reason they gave; the review list
flags it; any two versions compare; all scoped like the project."""

from __future__ import annotations

import re

import pytest

import workflow
from models import Project, ProjectState
from tests.factories import make_project
from tests.test_versions import _returned_and_fixed
from workflow import Action

TAG = re.compile(r"<[^>]+>")


def text(html: str) -> str:
    return re.sub(r"\s+", " ", TAG.sub(" ", html)).strip()


def section(html: str, marker: str = 'id="changes"') -> str:
    start = html.index(marker)
    return html[start : html.index("</section>", start)]


@pytest.fixture
def fixed(demo_accounts, session):
    project = _returned_and_fixed(session, demo_accounts)
    return project.id


def test_details_list_exactly_the_changes_beside_the_reason(login_as, fixed):
    html = login_as("bma").get(f"/admin/review/details/?id={fixed}").get_data(as_text=True)
    changes = section(html)
    fields = re.findall(r'data-field="([^"]+)"', changes)
    lecturers = re.findall(r'data-kind="([^"]+)"', changes)
    assert fields == ["theory_hours"]
    assert lecturers == ["removed", "added"]
    shown = text(changes)
    assert "已修改 3 项" in shown
    assert "理论学时 12 16" in shown
    assert "删除授课教师：赵老师" in shown and "职称：副教授" in shown
    assert "新增授课教师：孙主任" in shown and "工作单位：协和医院" in shown
    assert "请把理论学时改为16，换掉赵老师" in shown
    assert "第1版" in shown and "第2版" in shown
    # The versions, and the form comparing two of them.
    assert 'action="/admin/review/diff/"' in html
    assert "版本记录" in html


def test_only_a_reviewer_sees_changes_since_last_seen(login_as, browser, fixed):
    html = login_as("bma_cardio").get(f"/admin/projects/details/?id={fixed}").get_data(as_text=True)
    assert 'id="changes"' not in html  # the branch made them
    assert "版本记录" in html and 'action="/admin/projects/diff/"' in html
    browser.logout()
    html = login_as("bjcme").get(f"/admin/audit/details/?id={fixed}").get_data(as_text=True)
    assert 'id="changes"' not in html  # not the committee's yet


def test_review_list_flags_the_project_with_one_statement(login_as, fixed, count_statements):
    bma = login_as("bma")
    with count_statements() as counter:
        html = bma.get("/admin/review/").get_data(as_text=True)
    badges = re.findall(r'<a class="badge badge-info cme-changed-badge" href="([^"]+)"', html)
    assert len(badges) == 1
    assert f"id={fixed}" in badges[0] and badges[0].endswith("#changes")
    assert "已修改 3 项" in html
    reading_versions = [s for s in counter.statements if "project_versions" in s]
    assert len(reading_versions) == 1


def assert_shows_the_fix(browser, url: str) -> None:
    """The diff at ``url`` is the branch's fix: theory hours alone, with the reason it was
    sent back for."""
    page = browser.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.findall(r'data-field="([^"]+)"', html) == ["theory_hours"]
    assert "请把理论学时改为16，换掉赵老师" in text(html)


def test_any_two_versions_compare(login_as, demo_accounts, session, fixed):
    bma = login_as("bma")
    assert_shows_the_fix(bma, f"/admin/review/diff/?id={fixed}&a=1&b=2")
    backwards = bma.get(f"/admin/review/diff/?id={fixed}&a=2&b=1").get_data(as_text=True)
    assert re.findall(r'data-kind="([^"]+)"', backwards) == ["removed", "added"]
    same = bma.get(f"/admin/review/diff/?id={fixed}&a=2&b=2").get_data(as_text=True)
    assert "这两个版本之间没有修改" in same
    for query in ("a=1&b=7", "a=1", "a=x&b=2", "a=1&b=2&id=0"):
        url = (
            f"/admin/review/diff/?id={fixed}&{query}"
            if "id=" not in query
            else (f"/admin/review/diff/?{query}")
        )
        assert bma.get(url).status_code == 404, query


@pytest.mark.parametrize(
    ("username", "view"),
    [("bjtcm", "review"), ("bma_peds", "projects"), ("pumch", "projects")],
)
def test_outside_the_scope_is_not_found(login_as, fixed, username, view):
    someone = login_as(username)
    for path in (f"/admin/{view}/diff/?id={fixed}&a=1&b=2", f"/admin/{view}/details/?id={fixed}"):
        response = someone.get(path)
        assert response.status_code == 404, path
        assert "赵老师" not in response.get_data(as_text=True)


def test_a_published_project_opens_on_the_step_that_changed_fields(
    login_as, demo_accounts, session, fixed
):
    """Reported on and published after its fix: 修改对比 opens on the fix (versions
    1 → 2), not on the publish (3 → 4), which changed no field (its number is the
    move's own)."""
    project = session.get(Project, fixed)
    workflow.apply(session, project, Action.REPORT, demo_accounts["bma"])
    workflow.apply(session, project, Action.PUBLISH, demo_accounts["bjcme"])
    session.commit()
    assert project.state is ProjectState.PUBLISHED and project.project_no
    bjcme = login_as("bjcme")
    details = bjcme.get(f"/admin/audit/details/?id={fixed}").get_data(as_text=True)
    form = details[details.index('class="form-inline cme-compare-form"') :]
    chosen = re.findall(r'<option value="(\d+)" selected>', form[: form.index("</form>")])
    assert chosen == ["1", "2"]
    assert_shows_the_fix(bjcme, f"/admin/audit/diff/?id={fixed}")
    # Asked for, the publish step is still there: only the number it gave.
    publish = bjcme.get(f"/admin/audit/diff/?id={fixed}&a=3&b=4").get_data(as_text=True)
    assert re.findall(r'data-field="([^"]+)"', publish) == ["project_no"]


def test_never_changed_opens_on_the_whole_history(login_as, session, demo_accounts):
    """No step changed a field: the first version against the last."""
    project = make_project(session, demo_accounts["bma_cardio"], ProjectState.DRAFT)
    for username in ("bma_cardio", "bma", "bjcme"):
        action = Action.PUBLISH if username == "bjcme" else Action.REPORT
        workflow.apply(session, project, action, demo_accounts[username])
    session.commit()
    html = login_as("bjcme").get(f"/admin/audit/diff/?id={project.id}").get_data(as_text=True)
    assert re.search(r"第1版（[^）]*） → 第3版（", text(html))
