"""In Chromium: the "使用说明" link beside a page's title opens the help section that explains
that page, scrolled into view; the guide of the committee and of a branch reads at 1366 and
at 390 px (the steps' boxes wrap into a column, nothing scrolls sideways). Screenshots in
test-output/e2e/: help-<account>-<width>.png, help-link-on-the-list-<account>.png and
help-opened-at-the-section-<account>.png."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

# account: (its project list, the section that list's link opens, a section only it reads)
ACCOUNTS = {
    "bjcme": ("/admin/audit/", "help-projects", "help-statistics"),
    "bma_cardio": ("/admin/projects/", "help-projects", "help-import"),
}


@pytest.mark.parametrize("username", list(ACCOUNTS))
def test_the_link_beside_the_title_opens_the_section(people, username):
    listing, anchor, own = ACCOUNTS[username]
    person = people()
    person.login(username)
    person.go(listing)
    page = person.page
    link = page.get_by_role("link", name="使用说明：项目列表", exact=True)
    assert link.is_visible()
    # Beside the title: on the title's line, at its right.
    title = page.locator("h1").first.bounding_box()
    box = link.bounding_box()
    assert (
        abs((box["y"] + box["height"] / 2) - (title["y"] + title["height"] / 2)) < title["height"]
    )
    person.shot(f"help-link-on-the-list-{username}")
    link.click()
    page.wait_for_url(f"**/admin/help/#{anchor}")
    section = page.locator(f"#{anchor}")
    assert section.is_visible()
    assert section.bounding_box()["y"] < page.viewport_size["height"]  # scrolled to it
    assert section.locator("ol.cme-help-steps > li").count() >= 2
    assert page.locator(f"#{own}").count() == 1
    person.shot(f"help-opened-at-the-section-{username}")


@pytest.mark.parametrize("username", list(ACCOUNTS))
@pytest.mark.parametrize("width", [1366, 390])
def test_the_guide_reads_at_desktop_and_phone_width(people, username, width):
    person = people()
    person.page.set_viewport_size({"width": width, "height": 900})
    person.login(username)
    person.go("/admin/help/")
    page = person.page
    assert page.locator("nav.cme-help-toc").is_visible()
    # Nothing wider than the screen.
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, scroll
    steps = page.locator(f"#{ACCOUNTS[username][1]} ol.cme-help-steps > li")
    first, second = steps.nth(0).bounding_box(), steps.nth(1).bounding_box()
    if width == 390:
        assert second["y"] > first["y"] + first["height"] - 1  # one box under the other
    else:
        assert abs(second["y"] - first["y"]) < 2  # side by side
    # A button named in the guide is marked as on screen.
    assert page.locator(".cme-help-button", has_text="上报所选项目").first.is_visible() or (
        username == "bjcme"
        and page.locator(".cme-help-button", has_text="审核通过并公布").first.is_visible()
    )
    person.shot(f"help-{username}-{width}")
