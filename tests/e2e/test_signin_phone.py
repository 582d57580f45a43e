"""In Chromium: the organiser opens the on-site sign-in and shows its QR code; a learner's
phone (390 × 844) opens the code's address, is told in Chinese what is wrong with a
mistyped ID number, signs in and reads 签到成功; the organiser's count goes up.
Closed, the same address says so. Screenshots: test-output/e2e/<backend>-NN-signin-*.png."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from models import ProjectState, rules
from models.base import beijing_today
from tests.e2e.conftest import PHONE, SHOTS, phone_page
from tests.factories import make_project
from workflow import execution

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def id_number() -> str:
    first17 = "11010519900307123"
    return first17 + rules.id_check_character(first17)


@pytest.fixture
def report(session, demo_accounts):
    owner = demo_accounts["bma_cardio"]
    name = "心血管急症规范化诊疗培训班"
    project = make_project(session, owner, ProjectState.PUBLISHED, name=name)
    report = execution.open_report(session, owner, project)
    today = beijing_today()
    report.start_date, report.end_date = today, today + timedelta(days=1)
    session.commit()
    return report


@pytest.fixture
def phone(chromium, backend):
    """A learner's phone: a mobile browser context at 390 × 844, in Chinese."""
    with phone_page(chromium) as page:
        yield page


def shot(person, page, name: str) -> None:
    """``page``'s screenshot, numbered in the same series as ``person.shot``'s."""
    series = type(person)  # the conftest's Person, as pytest loaded it
    series.counter += 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{person.backend}-{series.counter:02d}-{name}.png"
    page.screenshot(path=str(path), full_page=True)


def fits_the_screen(page, inputs: bool = True) -> None:
    """No sideways scrolling, and inputs large enough that the phone does not zoom in."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    if not inputs:
        return
    sizes = page.evaluate(
        "[...document.querySelectorAll('input:not([type=hidden]), select')]"
        ".map(e => parseFloat(getComputedStyle(e).fontSize))"
    )
    assert sizes and min(sizes) >= 16


def test_a_learner_signs_in_from_a_phone(people, phone, report):
    organiser = people()
    organiser.login("bma_cardio")
    organiser.go(f"/admin/signin-sheet/{report.id}/")
    organiser.page.get_by_role("button", name="开启签到").click()
    organiser.page.wait_for_selector("svg.cme-qr")
    qr = organiser.page.locator("svg.cme-qr")
    assert qr.bounding_box()["width"] >= 250  # large enough to scan from the hall
    address = organiser.page.locator("#signin-address").inner_text()
    assert "/signin/" in address
    assert organiser.page.locator("#signin-count").inner_text() == "0 人"
    organiser.shot("signin-sheet")

    phone.goto(address)
    assert phone.get_by_role("heading", name="现场签到").is_visible()
    assert "心血管急症规范化诊疗培训班" in phone.locator("main").inner_text()
    fits_the_screen(phone)
    shot(organiser, phone, "signin-form-390")

    number = id_number()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    phone.get_by_label("姓名").fill("王小明")
    phone.get_by_label("证件类型").select_option(label="居民身份证")
    phone.get_by_label("证件号码").fill(wrong)
    phone.get_by_label("工作单位").fill("北京大学第一医院")
    phone.get_by_label("职称").fill("主治医师")
    phone.get_by_role("button", name="签到").click()
    phone.wait_for_load_state()
    assert "校验码" in phone.locator(".invalid-feedback").inner_text()
    fits_the_screen(phone)
    shot(organiser, phone, "signin-error-390")

    phone.get_by_label("证件号码").fill(number.lower())
    phone.get_by_role("button", name="签到").click()
    phone.wait_for_selector("#signin-result")
    assert phone.locator("#signin-result").inner_text() == "签到成功"
    assert phone.locator("#signin-name").inner_text() == "王小明"
    assert number not in phone.content()
    fits_the_screen(phone, inputs=False)
    shot(organiser, phone, "signin-done-390")

    # The organiser's sheet counts the learner by itself (it polls every 5 s).
    # (Playwright's expect polls from outside the page: the CSP forbids eval.)
    expect(organiser.page.locator("#signin-count")).to_have_text("1 人", timeout=15000)

    # Closed: the same address now says so, in the phone's layout.
    organiser.page.get_by_role("button", name="关闭签到").click()
    organiser.page.wait_for_load_state()
    response = phone.goto(address)
    assert response.status == 410
    assert phone.get_by_role("heading", name="签到已关闭").is_visible()
    fits_the_screen(phone, inputs=False)
    shot(organiser, phone, "signin-closed-390")
    # Chromium logs the page's own 410 as a console error.
    phone.errors[:] = [e for e in phone.errors if "410" not in e]
