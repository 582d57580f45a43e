"""The browser suite: the real app served over HTTP on a free localhost port,
with a fresh database holding the demo data, driven by Debian's Chromium
through Playwright. Each step saves a screenshot under test-output/e2e/.

Every page a person opens with ``go`` (and every state saved with ``shot``) is
checked with axe-core (the ``axe-playwright-python`` package bundles its
JavaScript): a serious or critical violation fails the test at its end, like a
JavaScript error. Each check is appended to test-output/e2e/axe-pages.jsonl."""

from __future__ import annotations

import gc
import json
import os
import shutil
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "e2e"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# A phone's screen (an iPhone 12's CSS pixels).
PHONE = {"width": 390, "height": 844}


# axe-core's impacts that fail a test; "moderate" and "minor" are listed in the summary only.
AXE_FAILING = ("serious", "critical")
AXE_LOG = SHOTS / "axe-pages.jsonl"


def axe_check(page) -> list[dict]:
    """axe-core over the page as it stands: one record per violated rule
    (id, impact, help, the number of elements and the first targets). Injected
    through the DevTools protocol, so the page's CSP does not apply to it."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": len(violation["nodes"]),
            "targets": [", ".join(map(str, node["target"])) for node in violation["nodes"][:3]],
        }
        for violation in results.response["violations"]
    ]


def chromium_path() -> str | None:
    candidates = [os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")]
    return next((c for c in candidates if c and Path(c).exists()), None)


@pytest.fixture(scope="session")
def chromium():
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium not installed (apt-get install chromium); the browser suite needs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app, demo_accounts) -> Iterator[str]:
    """The app, on the demo data (``demo_accounts``), served on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # shutdown() waits for the serving loop's next poll: 0.5 s by default, per test.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        # The development server's request threads can drop a static file's
        # handle when the browser abandons a download (a reload, a redirect);
        # collect those here, not in whichever later test the GC happens to run.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


class Person:
    """One browser context (its own cookies), recording console errors and
    saving a numbered screenshot per step."""

    counter = 0

    def __init__(self, chromium, base: str, backend: str, downloads: Path):
        self.context = chromium.new_context(
            viewport={"width": 1366, "height": 900}, accept_downloads=True, locale="zh-CN"
        )
        self.page = self.context.new_page()
        self.base, self.backend, self.downloads = base, backend, downloads
        self.errors: list[str] = []
        # Serious and critical axe-core violations, "<url>: <rule> (<impact>) …", per page checked.
        self.a11y: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"{self.page.url}: {error}"))
        self.page.on("dialog", lambda dialog: dialog.accept())

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"{self.page.url}: {message.text}")

    def go(self, path: str):
        response = self.page.goto(self.base + path)
        self.check_accessibility()
        return response

    def check_accessibility(self) -> list[dict]:
        """axe-core on the current page: records its serious and critical
        violations (the test fails at its end) and logs every violation."""
        if not self.page.url.startswith(self.base):
            return []  # a download, about:blank
        violations = axe_check(self.page)
        width = self.page.viewport_size["width"] if self.page.viewport_size else None
        SHOTS.mkdir(parents=True, exist_ok=True)
        with AXE_LOG.open("a", encoding="utf-8") as log:
            record = {"url": self.page.url[len(self.base) :], "width": width}
            log.write(json.dumps({**record, "violations": violations}, ensure_ascii=False) + "\n")
        for v in violations:
            if v["impact"] in AXE_FAILING:
                self.a11y.append(
                    f"{self.page.url}: {v['id']} ({v['impact']}) {v['help']} — {v['targets']}"
                )
        return violations

    def shot(self, name: str) -> Path:
        Person.counter += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{self.backend}-{Person.counter:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.check_accessibility()
        return path

    def login(self, username: str, password: str = "demo-pass-2026") -> None:
        self.go("/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.locator("form [type=submit]").first.click()
        self.page.wait_for_url("**/admin/**")

    def logout(self) -> None:
        # 退出 sits in the account menu of the panel's header: open it first.
        account = self.page.locator("#cme-account")
        if account.count() and account.first.is_visible():
            account.first.click()
        self.page.locator("form[action$='/logout'] button").first.click()
        self.page.wait_for_load_state()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def people(chromium, live_server, backend, tmp_path):
    """A factory of people, each in a browser context of their own; at the end
    no page any of them visited may have logged a JavaScript error or have a
    serious or critical axe-core violation."""
    made: list[Person] = []

    def person(username: str | None = None, path: str | None = None) -> Person:
        """A new person; signed in as ``username`` and on ``path`` when given."""
        made.append(Person(chromium, live_server, backend, tmp_path))
        if username:
            made[-1].login(username)
        if path:
            made[-1].go(path)
        return made[-1]

    yield person
    errors = [error for p in made for error in p.errors]
    violations = [v for p in made for v in p.a11y]
    for p in made:
        p.close()
    assert errors == []
    assert violations == []


@contextmanager
def phone_page(chromium) -> Iterator:
    """A page in a phone's browser (``PHONE``, touch, in Chinese); its console and page
    errors are kept in ``page.errors``, and none may be left when the block ends."""
    context = chromium.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2, locale="zh-CN"
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.errors = errors
    try:
        yield page
    finally:
        context.close()
    assert errors == []


@pytest.fixture
def returned_project(demo_accounts, session):
    """The demo's project that bma sent back to 心血管病学分会 with a reason."""
    from sqlalchemy import select

    from models import Project, ProjectState

    return session.scalar(
        select(Project)
        .where(Project.state == ProjectState.RETURNED)
        .where(Project.owner_unit.has(name="北京医学会心血管病学分会"))
        .order_by(Project.id)
    )
