"""The header's bell in Chromium: the branch's unread count goes up when its
society (bma) sends a project back, the 消息 page shows the sentence and the
reason, opening it shows the returned project, and the count goes down."""

from __future__ import annotations

import pytest

from models import ProjectState
from tests.factories import make_project

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
S = ProjectState


def bell_count(page) -> int:
    badge = page.locator("#cme-bell-count")
    return int(badge.inner_text()) if badge.count() else 0


def test_the_bell_counts_a_project_sent_back(people, demo_accounts, session):
    project = make_project(session, demo_accounts["bma_cardio"], S.AT_SOCIETY)
    session.commit()

    cardio = people()
    cardio.login("bma_cardio")
    before = bell_count(cardio.page)
    cardio.shot("bell-before")

    bma = people()
    bma.login("bma")
    bma.go("/admin/review/")
    bma.page.check(f"input.action-checkbox[value='{project.id}']")
    bma.page.locator("button.cme-list-button", has_text="设为可修改").click()
    bma.page.wait_for_load_state()
    bma.page.fill("textarea[name=reason]", "请补充授课教师的职称")
    bma.page.locator("button[type=submit]", has_text="确定").click()
    bma.page.wait_for_load_state()

    cardio.go("/admin/")
    assert bell_count(cardio.page) == before + 1
    bell = cardio.page.locator("#cme-bell")
    assert bell.get_attribute("aria-label") == f"消息：{before + 1} 条未读"
    cardio.shot("bell-after-send-back")

    bell.click()
    cardio.page.wait_for_load_state()
    newest = cardio.page.locator(".cme-messages li").first
    assert "北京医学会 退回修改了 1 个项目" in newest.inner_text()
    assert "原因：请补充授课教师的职称" in newest.inner_text()
    assert project.name in newest.inner_text()
    cardio.shot("messages-page")

    newest.locator("a", has_text="退回修改了").click()
    cardio.page.wait_for_load_state()
    assert "/admin/projects/" in cardio.page.url
    assert cardio.page.locator(f"input.action-checkbox[value='{project.id}']").count() == 1
    assert bell_count(cardio.page) == before
    cardio.shot("opened-message-list")
