"""首页 in Chromium: each account follows its next step by the link's Chinese text
(an entry unit to the projects to report, the committee to its oldest waiting
project and to its 待审核 tab), and 项目查询 opens the list on 全部."""

from __future__ import annotations

import re

import pytest

# The development server may leave a static file's handle to the GC (see conftest).
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def test_an_entry_unit_follows_its_next_step(people):
    person = people("bma_cardio", "/admin/")
    page = person.page
    assert page.get_by_role("heading", name="下一步").is_visible()
    assert page.get_by_text("勾选后点击“上报所选项目”。").is_visible()
    person.shot("dashboard-bma_cardio-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    person.shot("dashboard-bma_cardio-390")
    page.set_viewport_size({"width": 1366, "height": 900})

    page.get_by_role("link", name="查看待处理的项目").click()
    page.wait_for_url(re.compile(r"/admin/projects/\?status=held$"))
    assert page.locator("button.cme-list-button", has_text="上报所选项目").is_visible()

    page.get_by_role("link", name="项目查询").click()
    page.wait_for_url(re.compile(r"/admin/projects/\?status=all$"))
    assert page.locator(".cme-status-tabs .nav-link.active").inner_text().startswith("全部")


def test_the_committee_opens_its_oldest_waiting_project(people):
    person = people("bjcme", "/admin/")
    page = person.page
    oldest = page.locator(".cme-oldest ol li a")
    assert oldest.count() == 5
    person.shot("dashboard-bjcme-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    person.shot("dashboard-bjcme-390")
    page.set_viewport_size({"width": 1366, "height": 900})

    name = oldest.first.inner_text()
    oldest.first.click()
    page.wait_for_url(re.compile(r"/admin/audit/details/\?id=\d+"))
    assert page.get_by_text(name).first.is_visible()

    person.go("/admin/")
    page.get_by_role("link", name=re.compile(r"^查看全部待审核项目（\d+）$")).click()
    page.wait_for_url(re.compile(r"/admin/audit/\?status=at_committee$"))
    assert page.locator(".cme-status-tabs .nav-link.active").inner_text().startswith("待审核")
