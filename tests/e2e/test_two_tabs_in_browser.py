"""Submit once and two editors in Chromium (issue 26): Back then 提交 on the new-project
form adds one project and opens it; two tabs editing one project end on the merge page,
where the second tab's typing is all there, and its merge is saved."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import Project
from tests.e2e.test_workflow_in_browser import fill_project

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def count_named(session, name: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Project).where(Project.name == name))


def submit(page, landing: str = "**/admin/projects/**") -> None:
    """提交 the project form and wait for the page it leads to."""
    page.locator("form.project-form button[type=submit]", has_text="提交").first.click()
    page.wait_for_url(landing)


def filed(people, name: str):
    """bma_cardio files a new project named ``name`` through the form: the person."""
    person = people("bma_cardio", "/admin/projects/new/")
    fill_project(person.page, name=name)
    submit(person.page)
    return person


def test_back_and_submit_again_adds_one_project(people, session):
    person = filed(people, "浏览器里只提交一次")
    page = person.page
    assert count_named(session, "浏览器里只提交一次") == 1

    # Back to the filled-in form, and 提交 once more.
    page.go_back()
    page.wait_for_load_state()
    # Chromium draws the page afresh (a new token in data-submission) but restores what
    # was typed, the token field included: the form is the one that was sent.
    assert page.locator("input[name=name]").input_value() == "浏览器里只提交一次"
    submit(page, "**/admin/projects/details/**")
    alerts = " ".join(page.locator(".alert").all_inner_texts())
    assert "该表单已经提交过" in alerts, alerts
    person.shot("submit-once-back-and-submit")
    assert count_named(session, "浏览器里只提交一次") == 1


def test_two_tabs_end_on_the_merge_page_and_nothing_is_lost(people, session):
    person = filed(people, "两个标签页")
    tab_a = person.page
    project_id = session.scalar(select(Project.id).where(Project.name == "两个标签页"))
    edit = f"{person.base}/admin/projects/edit/?id={project_id}"

    tab_b = person.context.new_page()
    tab_a.goto(edit)
    tab_b.goto(edit)
    tab_a.fill("input[name=venue]", "甲标签页的地点")
    submit(tab_a)

    tab_b.fill("input[name=name]", "乙标签页改的名称")
    tab_b.fill("textarea[name=remarks]", "乙标签页写的备注")
    tab_b.locator("form.project-form button[type=submit]", has_text="提交").first.click()
    tab_b.wait_for_load_state()
    assert tab_b.locator("form.project-merge").is_visible()
    text = tab_b.locator("main, body").first.inner_text()
    for typed in ("甲标签页的地点", "乙标签页改的名称", "乙标签页写的备注", "已被他人修改"):
        assert typed in text, typed
    person.page = tab_b
    person.check_accessibility()
    person.shot("merge-page-1366")
    tab_b.set_viewport_size({"width": 390, "height": 844})
    person.shot("merge-page-390")
    tab_b.set_viewport_size({"width": 1366, "height": 900})

    tab_b.locator("form.project-merge button[type=submit]").click()
    tab_b.wait_for_url("**/admin/projects/**")
    session.expire_all()
    saved = session.get(Project, project_id)
    assert (saved.name, saved.remarks, saved.venue) == (
        "乙标签页改的名称",
        "乙标签页写的备注",
        "甲标签页的地点",
    )
