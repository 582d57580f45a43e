"""In Chromium: 单位管理, 帐号管理 and 我的帐号 at 1366 px and on a phone (390 px).
The committee reads the unit tree with its counts, deactivates a branch through the
confirmation page, sends an empty 添加帐号 and reads the Chinese messages at the fields
(no browser bubble), and saves its own e-mail address on 我的帐号. On a phone each
list row is a card: no name printed one character per line, no sideways scroll.
Screenshots: test-output/e2e/<backend>-NN-management-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from models import Unit, User
from tests.e2e.conftest import PHONE, SHOTS, phone_page

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

# A cell narrower than this on a phone would print a Chinese name a character or two a line.
NARROWEST_CELL = 200


def test_management_at_1366(people, session):
    committee = people()
    committee.login("bjcme")
    page = committee.page

    committee.go("/admin/units/")
    expect(page.locator("h1")).to_have_text("单位管理")
    tree = page.locator("table.cme-unit-tree")
    expect(tree.locator("tr[data-level='2']").first).to_be_visible()
    cardio = page.locator("tr", has_text="北京医学会心血管病学分会")
    expect(cardio.locator("td.col-projects")).to_have_text("11")
    expect(page.get_by_role("link", name="添加单位")).to_be_visible()
    committee.shot("management-units")

    # 停用 a branch: asked first on its own page, then done.
    peds = page.locator("tr", has_text="北京医学会儿科学分会")
    peds.get_by_role("link", name="停用").click()
    expect(page.locator(".cme-confirm")).to_contain_text("停用“北京医学会儿科学分会”？")
    committee.shot("management-confirm")
    page.locator(".cme-confirm").get_by_role("button", name="停用").click()
    expect(page.locator(".alert")).to_contain_text("已停用 1 项")
    session.expire_all()
    assert not session.scalar(select(Unit.active).where(Unit.name == "北京医学会儿科学分会"))

    # 帐号管理: search by username, then an empty 添加帐号.
    committee.go("/admin/users/")
    expect(page.locator("h1")).to_have_text("帐号管理")
    committee.shot("management-accounts")
    page.fill("#cme-search", "pumch")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("table.cme-management-list tbody tr")).to_have_count(1)
    committee.go("/admin/users/new/")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#username-error")).to_have_text("此项为必填项。")
    expect(page.locator("#display_name-error")).to_be_visible()
    expect(page.locator(".alert")).to_contain_text("请更正下方标出的内容")
    committee.shot("management-empty-add")

    # 我的帐号: its own e-mail address, for the reminders.
    committee.go("/admin/me/")
    page.fill("#email", "bjcme-office@example.com")
    page.get_by_role("button", name="提交").click()
    expect(page.locator(".alert")).to_contain_text("您的帐号信息已保存")
    expect(page.get_by_role("link", name="修改密码").last).to_be_visible()
    committee.shot("management-my-account")
    session.expire_all()
    email = session.scalar(select(User.email).where(User.username == "bjcme"))
    assert email == "bjcme-office@example.com"


@pytest.fixture
def phone(chromium, live_server, backend, people):
    with phone_page(chromium) as page:
        page.goto(live_server + "/login")
        page.fill("input[name=username]", "bjcme")
        page.fill("input[name=password]", "demo-pass-2026")
        page.locator("form [type=submit]").first.click()
        page.wait_for_url("**/admin/**")
        page.base = live_server
        # The screenshots' numbering: the conftest's Person, as pytest loaded it.
        page.series = type(people())
        yield page


def _phone_shot(page, backend: str, name: str) -> None:
    page.series.counter += 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    number = page.series.counter
    page.screenshot(path=str(SHOTS / f"{backend}-{number:02d}-{name}.png"), full_page=True)


@pytest.mark.parametrize("path", ["/admin/units/", "/admin/users/"])
def test_lists_are_cards_on_a_phone(phone, backend, path):
    phone.goto(phone.base + path)
    rows = phone.locator("table.cme-management-list tbody tr")
    expect(rows.first).to_be_visible()
    # Each value cell as wide as the card (a name never one character per line).
    widths = phone.eval_on_selector_all(
        "table.cme-management-list tbody td",
        "cells => cells.filter(c => c.offsetParent).map(c => c.getBoundingClientRect().width)",
    )
    assert widths and min(widths) >= NARROWEST_CELL, widths
    # No sideways scroll.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    header_hidden = phone.eval_on_selector(
        "table.cme-management-list thead", "t => getComputedStyle(t).display"
    )
    assert header_hidden == "none"
    name = "units" if "units" in path else "accounts"
    _phone_shot(phone, backend, f"management-{name}-390")


def test_my_account_on_a_phone(phone, backend):
    phone.goto(phone.base + "/admin/me/")
    expect(phone.locator("h1")).to_have_text("我的帐号")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _phone_shot(phone, backend, "management-my-account-390")
