"""In Chromium: the 使用说明 page draws the manual's flow, and an error page is Chinese, in
the panel's layout, with a link back that works."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def support_phone(app):
    saved = app.config["SUPPORT_PHONE"]
    app.config["SUPPORT_PHONE"] = "400-812-8811"
    yield
    app.config["SUPPORT_PHONE"] = saved


def test_help_page_draws_the_flow(people, support_phone):
    person = people()
    person.login("bma_cardio")
    person.page.get_by_role("link", name="使用说明", exact=True).click()
    person.page.wait_for_url("**/admin/help/")
    flow = person.page.locator("svg.cme-flow").first
    assert flow.is_visible()
    assert flow.bounding_box()["width"] > 600  # drawn at a readable size, not collapsed
    assert person.page.get_by_text("上报举办活动的项目内容至学（协）会总会").is_visible()
    assert "400-812-8811" in person.page.locator("footer").inner_text()
    person.shot("help-bma_cardio")


def test_not_found_page_in_the_panel(people, support_phone):
    person = people()
    person.login("bma_peds")
    response = person.go("/admin/projects/details/?id=999999")
    assert response.status == 404
    page = person.page
    assert page.get_by_role("heading", name="页面不存在").is_visible()
    # The header names the account's unit (in its account menu).
    assert "北京医学会儿科学分会" in page.locator("#cme-account").get_attribute("title")
    person.shot("error-404-bma_peds")
    page.locator("section.cme-error").get_by_role("link", name="我的项目").click()
    page.wait_for_url("**/admin/projects/")
    # Chromium logs the expected 404 of the page itself as a console error.
    person.errors = [e for e in person.errors if "404" not in e]


def test_list_chrome_speaks_chinese(people):
    person = people()
    person.login("bma_cardio")
    person.go("/admin/projects/")
    page = person.page
    no_match = page.evaluate("jQuery.fn.select2.defaults.formatNoMatches()")
    assert no_match == "没有找到匹配项"
    toggle = page.locator("button.navbar-toggler").get_attribute("aria-label")
    assert toggle == "显示菜单"
    sizes = page.locator("a.dropdown-item[href*='page_size']").all_inner_texts()
    assert sizes and all(text.startswith("每页") for text in sizes)
