"""WCAG 2.1 AA with axe-core: for each kind of account, at 1366 and 390 px,
every page of its menu (with a row's details and the create form where the page
offers them), the sign-in page and the public catalog have no serious and no
critical violation. The pages × violations table (all impacts) is written to
test-output/e2e/axe-summary-<backend>.md for the closing note."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import AXE_FAILING, SHOTS

# The development server may leave a static file's handle to the GC (see conftest).
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
ACCOUNTS = ("bjcme", "bma", "bma_cardio", "pumch")
WIDTHS = (1366, 390)
PUBLIC = ("/", "/login", "/verify", "/credits", "/no-such-page")


def forget_expected_404(person) -> None:
    """The error pages are visited on purpose: their 404 is not a page's error."""
    person.errors = [e for e in person.errors if "no-such-page" not in e or "404" not in e]


def menu_pages(page) -> list[str]:
    """The panel's pages in the menu (links of the bar and of its drop-downs)."""
    return page.eval_on_selector_all(
        "nav a.nav-link[href^='/admin'], nav a.dropdown-item[href^='/admin']",
        "els => [...new Set(els.map(e => e.getAttribute('href')))]",
    )


def visit_all(person, paths: list[str]) -> dict[str, list[dict]]:
    """Each path, then the first row's details and the create form it links to."""
    page, seen, found = person.page, set(), {}
    queue = list(paths)
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        person.page.goto(person.base + path)
        found[path] = person.check_accessibility()
        # One <main> landmark and one <h1> per page (axe-core counts these as moderate).
        landmarks = (page.locator("main").count(), page.locator("h1").count())
        if landmarks != (1, 1):
            found[path].append(
                {"id": "one-main-one-h1", "impact": "serious", "nodes": landmarks, "targets": []}
            )
        if path in paths:
            for selector in (
                "a[href*='/details/?id=']",
                "a[href$='/new/'], a[href*='/new/?']",
                "main a[href^='/projects/']",
            ):
                link = page.locator(selector).first
                if link.count():
                    queue.append(link.get_attribute("href"))
    return found


def write_summary(backend: str, label: str, width: int, found: dict[str, list[dict]]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"axe-summary-{backend}.md"
    if not path.exists():
        path.write_text(
            "# axe-core summary\n\n"
            "| account | width | page | violations (rule, impact, elements) |\n"
            "| --- | --- | --- | --- |\n",
            encoding="utf-8",
        )
    with path.open("a", encoding="utf-8") as out:
        for url, violations in found.items():
            cell = "; ".join(f"{v['id']} ({v['impact']}, {v['nodes']})" for v in violations)
            out.write(f"| {label} | {width} | `{url}` | {cell or 'none'} |\n")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("username", ACCOUNTS)
def test_every_menu_page_passes_axe(people, backend, username, width):
    person = people()
    person.page.set_viewport_size({"width": width, "height": 900})
    person.login(username)
    paths = menu_pages(person.page)
    assert paths
    found = visit_all(person, paths)
    write_summary(backend, username, width, found)
    failing = {
        url: [v for v in violations if v["impact"] in AXE_FAILING]
        for url, violations in found.items()
    }
    assert {url: v for url, v in failing.items() if v} == {}
    assert len(found) >= len(paths)


@pytest.mark.parametrize("width", WIDTHS)
def test_public_and_sign_in_pages_pass_axe(people, backend, width):
    person = people()
    person.page.set_viewport_size({"width": width, "height": 900})
    found = visit_all(person, list(PUBLIC))
    forget_expected_404(person)
    write_summary(backend, "(public)", width, found)
    failing = {
        url: [v for v in violations if v["impact"] in AXE_FAILING]
        for url, violations in found.items()
    }
    assert {url: v for url, v in failing.items() if v} == {}


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_html_lang_follows_the_chosen_language(people, locale):
    """``<html lang>`` on the panel, the sign-in page, the public catalog and an error page."""
    person = people()
    person.go(f"/lang/{locale}")
    expected = "en" if locale == "en" else "zh-CN"
    for path in ("/", "/login", "/no-such-page"):
        person.go(path)
        assert person.page.get_attribute("html", "lang") == expected, path
    person.login("bma")
    for path in ("/admin/", "/admin/no-such-page"):
        person.go(path)
        assert person.page.get_attribute("html", "lang") == expected, path
    forget_expected_404(person)
