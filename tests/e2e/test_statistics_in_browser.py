"""In Chromium: the committee opens 统计 from the menu and reads this year's figures, the
charts drawn beside their tables (inline SVG, no script), then filters and downloads the
workbook; a society's page names only its branches."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def test_committee_reads_the_statistics(people):
    person = people()
    person.login("bjcme")
    page = person.page
    page.get_by_role("link", name="统计").first.click()
    page.wait_for_url("**/admin/statistics/**")
    assert page.get_by_role("heading", name="按状态").is_visible()
    chart = page.locator("[data-chart=by_state] svg")
    assert chart.is_visible() and chart.bounding_box()["width"] > 300
    # the table beside the chart, on the same row at 1366 px
    table = page.locator("table[data-table=by_state]")
    assert abs(table.bounding_box()["y"] - chart.bounding_box()["y"]) < 60
    assert "公布(已通过)" in table.inner_text()
    person.shot("statistics-bjcme")
    page.select_option("#stat-year", "all")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**year=all**")
    assert "2025" in page.locator("table[data-table=by_year]").inner_text()
    # 项目数 on the left axis, 学分 on a second axis on the right, each titled
    by_year = page.locator("[data-chart=by_year] svg")
    left, right = (by_year.locator("text.title", has_text=t) for t in ("项目数", "学分"))
    assert left.is_visible() and right.is_visible()
    assert right.bounding_box()["x"] > by_year.locator(".axis.y2").bounding_box()["x"]
    assert right.bounding_box()["x"] > left.bounding_box()["x"] + 300
    with page.expect_download() as download:
        page.locator("#stat-export").click()
    assert download.value.suggested_filename.startswith("统计_")
    person.shot("statistics-bjcme-all-years")


def test_society_sees_its_branches(people):
    person = people()
    person.login("bma")
    person.go("/admin/statistics/?year=all")
    units = person.page.locator("table[data-table=by_unit]").inner_text()
    assert "北京医学会心血管病学分会" in units and "北京中医药学会" not in units
    person.shot("statistics-bma")
