"""Every admin page a person can reach from the menu loads without a
JavaScript error, for each kind of account."""

from __future__ import annotations

import pytest

# The development server may leave a static file's handle to the GC (see conftest).
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
ACCOUNTS = ("bjcme", "bma", "bma_cardio", "pumch")


@pytest.mark.parametrize("username", ACCOUNTS)
def test_menu_pages_load_cleanly(people, username):
    person = people()
    person.login(username)
    page = person.page
    links = page.eval_on_selector_all(
        "nav a.nav-link[href^='/admin'], nav a.dropdown-item[href^='/admin']",
        "els => [...new Set(els.map(e => e.getAttribute('href')))]",
    )
    assert links
    visited = 0
    for href in links:
        response = person.go(href)
        assert response.status == 200, href
        visited += 1
        # The first row's details and, where offered, the create form.
        detail = page.locator("a[href*='/details/?id=']").first
        if detail.count():
            assert person.go(detail.get_attribute("href")).status == 200
        create = page.locator("a[href$='/new/'], a[href*='/new/?']").first
        if create.count():
            assert person.go(create.get_attribute("href")).status == 200
    assert visited == len(links)
    person.shot(f"menu-{username}")
