"""In Chromium: a branch copies one of its projects (复制为新项目 on its details page); the
form opens with the copied name and, above it, a notice naming the project copied."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def test_a_copy_says_it_is_one_above_the_name(people):
    person = people()
    person.login("bma_cardio")
    page = person.page
    person.go("/admin/projects/?status=all")
    page.locator("a[href*='/admin/projects/details/']").first.click()
    page.wait_for_url("**/details/**")
    page.locator(".cme-copy-project").click()
    page.wait_for_url("**/new/?copy=**")
    name = page.locator("#name")
    original = name.input_value()
    notice = page.locator("#name-copy")
    assert notice.is_visible()
    assert re.fullmatch(
        rf"这是“{re.escape(original)}”（\d{{4}}年度）的副本，请修改项目名称；同一项目的新年度可保留原名称。",
        notice.inner_text().strip(),
    )
    # Above the field, and read by a screen reader with it.
    assert notice.bounding_box()["y"] < name.bounding_box()["y"]
    assert "name-copy" in name.get_attribute("aria-describedby").split()
    person.shot("project-copy-notice")
