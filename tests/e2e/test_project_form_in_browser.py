"""The edit form of a returned project, as a branch secretary meets it: the
reason at the top, sections in two columns on a wide screen and one on a phone,
a lecturer row added in place and saved, and no JavaScript error."""

from __future__ import annotations

import pytest

from models import Project

# The development server may leave a static file's handle to the GC (see conftest).
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def test_a_returned_project_is_corrected_and_submitted(people, session, returned_project):
    # The demo data has a project bma sent back to 心血管病学分会 with a reason.
    project = returned_project
    before = len(project.lecturers)
    person = people("bma_cardio", f"/admin/projects/edit/?id={project.id}")
    page = person.page

    banner = page.locator(".project-return-notice")
    assert banner.is_visible()
    assert project.return_reason in banner.inner_text()
    assert page.locator("h1", has_text="修改项目").is_visible()
    # Two columns on a wide screen: 项目负责人 and its 职称 side by side.
    lead = page.locator("#principal").bounding_box()
    title = page.locator("#principal_title").bounding_box()
    assert abs(lead["y"] - title["y"]) < 2 and title["x"] > lead["x"] + 300
    person.shot("project-form-returned-1366")

    page.click("#lecturer-add")
    rows = page.locator("#lecturers tbody tr.lecturer-row")
    assert rows.count() == before + 1
    new = rows.last
    assert new.get_attribute("id") == f"lecturers-{before}"
    new.locator(f"[name='lecturers-{before}-name']").fill("孙丽")
    new.locator(f"[name='lecturers-{before}-topic']").fill("心衰患者随访")
    new.locator(f"[name='lecturers-{before}-hours']").fill("1.5")
    # A row added by mistake and removed again is not sent.
    page.click("#lecturer-add")
    assert rows.count() == before + 2
    rows.last.locator(".lecturer-remove").click()
    assert rows.count() == before + 1

    # On a phone: one column, each lecturer a block of labelled inputs.
    page.set_viewport_size({"width": 390, "height": 844})
    lead = page.locator("#principal").bounding_box()
    title = page.locator("#principal_title").bounding_box()
    assert title["y"] > lead["y"] + lead["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert new.locator("label.lecturer-label").first.is_visible()
    person.shot("project-form-returned-390")
    page.set_viewport_size({"width": 1366, "height": 900})

    page.locator("form.project-form button[type=submit]", has_text="提交").first.click()
    page.wait_for_url("**/admin/projects/**")
    # Said among the messages (the filing rules' warnings, if any, come with it).
    alerts = page.locator(".alert").all_inner_texts()
    assert any(f"已保存项目“{project.name}”" in alert for alert in alerts), alerts
    person.shot("project-form-returned-saved")
    session.expire_all()
    saved = session.get(Project, project.id)
    rows = [(lc.name, lc.topic, lc.hours) for lc in saved.lecturers]
    assert ("孙丽", "心衰患者随访", 1.5) in rows
    assert len(saved.lecturers) == before + 1


def test_the_year_follows_the_start_date_until_typed_by_hand(people):
    """添加项目: 年度 takes 开始日期's year as the date is entered (static/admin/cme-year.js),
    again when the date changes, but not once the user typed a year of their own."""
    person = people("bma_cardio", "/admin/projects/new/")
    page = person.page
    year, start = page.locator("#year"), page.locator("#start_date")
    proposed = year.input_value()
    assert proposed.isdigit()
    start.fill("2027-01-12")
    start.dispatch_event("change")
    assert year.input_value() == "2027"
    start.fill("2026-11-30")
    start.dispatch_event("change")
    assert year.input_value() == "2026"
    year.fill("2025")
    start.fill("2027-03-01")
    start.dispatch_event("change")
    assert year.input_value() == "2025"  # the user's own: the server judges it
    year.fill("")
    start.dispatch_event("change")
    assert year.input_value() == "2027"  # empty again: proposed
    person.shot("project-form-year-follows-start")
