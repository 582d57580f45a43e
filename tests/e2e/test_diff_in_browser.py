"""修改对比 in Chromium: the branch fixes a project its society sent back and
reports it again; the society (bma) opens it from 项目审阅 and sees, beside its
own reason, exactly what the branch changed."""

from __future__ import annotations

import pytest

# The development server may leave a static file's handle to the GC (see conftest).
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def test_the_reviewer_sees_the_diff_of_a_re_reported_project(people, session, returned_project):
    project = returned_project
    reason = project.return_reason
    removed = project.lecturers[1].name
    old_hours = project.theory_hours

    # The branch changes a field, removes a lecturer, adds one, and reports again.
    cardio = people("bma_cardio", f"/admin/projects/edit/?id={project.id}")
    page = cardio.page
    page.fill("input[name=theory_hours]", "16")
    rows = page.locator("#lecturers tbody tr.lecturer-row")
    rows.nth(1).locator(".lecturer-remove").click()
    page.click("#lecturer-add")
    new = rows.last
    prefix = new.get_attribute("id")
    assert prefix.startswith("lecturers-")
    new.locator(f"[name='{prefix}-name']").fill("孙丽")
    new.locator(f"[name='{prefix}-title']").fill("主任医师")
    new.locator(f"[name='{prefix}-topic']").fill("心衰患者随访")
    new.locator(f"[name='{prefix}-hours']").fill("2")
    page.locator("form.project-form button[type=submit]", has_text="提交").first.click()
    page.wait_for_url("**/admin/projects/**")
    cardio.go(f"/admin/projects/details/?id={project.id}")
    page.locator("button", has_text="上报此项目").click()
    page.wait_for_load_state()
    assert "已处理 1 项" in " ".join(page.locator(".alert").all_inner_texts())
    cardio.logout()

    # The society finds it flagged on its list and opens the changes.
    bma = people("bma", "/admin/review/")
    badge = bma.page.locator(
        "tr", has=bma.page.locator(f"input.action-checkbox[value='{project.id}']")
    ).locator("a.cme-changed-badge")
    assert badge.inner_text().strip() == "已修改 3 项"
    bma.shot("review-list-changed-badge")
    badge.click()
    bma.page.wait_for_load_state()
    assert bma.page.url.endswith("#changes")
    changes = bma.page.locator("#changes")
    assert changes.is_visible()
    assert "自您上次审阅以来的修改" in changes.inner_text()
    assert reason in changes.locator(".cme-return-reasons").inner_text()
    fields = changes.locator("tr.cme-field-change")
    assert fields.count() == 1
    hours = f"{old_hours:g}"
    assert fields.first.inner_text().split() == ["理论学时", hours, "16"]
    lecturers = changes.locator("tr.cme-lecturer-change")
    assert lecturers.count() == 2
    assert f"删除授课教师：{removed}" in lecturers.nth(0).inner_text()
    assert "新增授课教师：孙丽" in lecturers.nth(1).inner_text()
    # Side by side on a wide screen: the reasons left of the changes.
    left = changes.locator(".cme-return-reasons").bounding_box()
    right = changes.locator(".cme-changes-table").bounding_box()
    assert right["x"] > left["x"] + left["width"] - 1
    bma.shot("project-details-changes-1366")
    bma.page.set_viewport_size({"width": 390, "height": 844})
    assert bma.page.evaluate("document.documentElement.scrollWidth") <= 390
    bma.shot("project-details-changes-390")
    bma.page.set_viewport_size({"width": 1366, "height": 900})

    # Any two versions: the compare form on the same page.
    bma.page.select_option("#cme-version-a", "1")
    bma.page.select_option("#cme-version-b", "2")
    bma.page.locator(".cme-compare-form button[type=submit]").click()
    bma.page.wait_for_load_state()
    assert "/admin/review/diff/" in bma.page.url
    assert bma.page.locator("tr.cme-field-change").count() == 1
    bma.shot("project-diff-versions")
