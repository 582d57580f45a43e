"""A crawler through the panel as each demo account sees it, in Chinese.

From ``/admin/`` it follows every same-site panel link (menu, lists, tabs,
create and edit forms, details, help, the account's own pages), GET only and
bounded, plus the error pages a user can meet. On every page:

* the visible text (script and style left out; ``title``, ``placeholder``,
  ``aria-label``, ``alt`` and button values read) has no English word except
  a short allow-list, the demo data itself (unit names, usernames, project
  titles may be English) and text explicitly marked ``lang="en"`` (the
  language switch);
* every field that must be filled in (a ``required`` input, or a field the
  rules in ``models.rules`` / ``models.vocabulary`` require) has a ``*`` on
  its label.

The project screens (lists, form, details, dashboard) are reported apart from
the rest, so that one area's leftovers do not hide another's.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from sqlalchemy import String, Text, select

from extensions import db
from models import UnitKind, User
from models.rules import UNIT_REQUIRED
from models.vocabulary import LECTURER_REQUIRED, is_required

ACCOUNTS = ("bjcme", "bma", "bma_cardio", "pumch")
# The panel grew by the 执行情况 lists and the report pages: room for them and the rest.
MAX_PAGES = 80
# Pages of one shape (path and query parameter names, e.g. the details page of
# another project) after which more of the same teach nothing new.
MAX_PER_SHAPE = 2

# Words an English speaker would also write in a Chinese screen, and the units and
# encodings Chinese users know by their Latin names (UTF-8, GB18030, MB, IP).
ALLOWED = {"cme", "csv", "excel", "xlsx", "api", "openapi", "id", "ip", "utf", "gb", "kb", "mb"}
# File formats known by their Latin names (证书's PDF and ZIP, a seal's PNG) and the two
# fields a committee types into its certificate number format ({year}, {serial}).
ALLOWED |= {"pdf", "png", "zip", "year", "serial"}
# The public pages' addresses that 使用说明 gives learners to type (/verify, /credits).
ALLOWED |= {"verify", "credits"}
# 催办's two numbers, named on its page and in 使用说明 ("天数（N）", "每隔 M 天").
ALLOWED |= {"n", "m"}

# Panel URLs never followed: they change something, download a file, or leave.
SKIPPED = re.compile(
    r"/logout|/lang/|/export/|/action/|/delete/|/static/|/ajax/|/_debug|\.(css|js|png|svg|ico|pdf)$"
)
PANEL = ("/admin", "/change", "/login")

# Pages met only by mistake; each must still speak Chinese.
ERROR_PAGES = (
    "/admin/nope",
    "/admin/projects/details/?id=999999999",
    "/admin/units/edit/?id=999999999",
    "/admin/disciplines/",  # 403 for all but the committee
)

WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"(?:https?://|www\.)\S+")
MARKUP = re.compile(r"<(div|label|input|select|a|span)[\s>]")
ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input",
    "link", "meta", "source", "track", "wbr",
}  # fmt: skip


@dataclass
class Control:
    tag: str
    name: str
    id: str
    required: bool


@dataclass
class Page:
    """What the crawler reads on one page."""

    texts: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    controls: list[Control] = field(default_factory=list)


class PageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        # The open elements: (tag, hides its text, label it belongs to).
        self.stack: list[tuple[str, bool, str | None]] = []
        self.label_text: dict[int, list[str]] = {}
        self.label_for: dict[int, str] = {}
        self.data_block: str | None = None

    @property
    def hidden(self) -> bool:
        return any(hides for _, hides, _ in self.stack)

    def _open_labels(self) -> list[int]:
        return [key for _, _, key in self.stack if key is not None]

    def handle_starttag(self, tag, attrs) -> None:
        a = {k: (v or "") for k, v in attrs}
        # A <template> is read: it is what a script shows when asked (a new row).
        hides = tag in ("script", "style") or a.get("lang", "").startswith("en")
        label_key = None
        if tag == "label":
            label_key = len(self.label_text)
            self.label_text[label_key] = []
            self.label_for[label_key] = a.get("for", "")
        if tag == "a" and a.get("href"):
            self.page.links.append(a["href"])
        if not (hides or self.hidden):
            self.page.texts.extend(a[name] for name in ATTRIBUTES if a.get(name))
            if tag == "input" and a.get("type") in ("submit", "button", "reset"):
                self.page.texts.append(a.get("value", ""))
        if tag in ("input", "select", "textarea") and a.get("type") not in (
            "hidden",
            "submit",
            "button",
            "reset",
            "checkbox",
            "radio",
        ):
            self.page.controls.append(
                Control(tag, a.get("name", ""), a.get("id", ""), "required" in a)
            )
            for key in self._open_labels():
                # A control inside its label: the label is its.
                self.label_for[key] = self.label_for[key] or a.get("id", "")
        self.data_block = a["id"] if tag == "div" and a.get("id", "").endswith("-data") else None
        if tag not in VOID:
            self.stack.append((tag, hides, label_key))

    def handle_startendtag(self, tag, attrs) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag) -> None:
        self.data_block = None
        # Close up to the matching element (HTML in the wild leaves some open).
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data) -> None:
        if self.data_block is not None and data.strip():
            # Flask-Admin's texts for its scripts, kept as JSON in a hidden
            # <div id="…-data">: filter menus, confirmations, messages. Shown.
            keys = self.data_block == "filter-groups-data"
            self.page.texts.extend(json_labels(json.loads(data), keys=keys))
            return
        if self.hidden:
            return
        if MARKUP.search(data):
            # Escaped markup a script inserts when asked (Flask-Admin's template
            # of a new inline row): read as the page it becomes.
            inserted = read_page(data)
            self.page.texts.extend(inserted.texts)
            self.page.labels.update(inserted.labels)
            self.page.controls.extend(inserted.controls)
            return
        self.page.texts.append(data)
        for key in self._open_labels():
            self.label_text[key].append(data)

    def close(self) -> None:
        super().close()
        for key, target in self.label_for.items():
            if target:
                text = " ".join("".join(self.label_text[key]).split())
                self.page.labels[target] = self.page.labels.get(target, "") + text


# Keys of Flask-Admin's filter JSON that hold names for the script, not for people.
JSON_INTERNAL = {"arg", "index", "type"}


def json_labels(value, *, keys: bool) -> list[str]:
    """The strings of a script's data a person reads: the values, the labels (not
    the values) of options, and the keys only where they are names (the filter
    groups), not ids (the actions)."""
    if isinstance(value, dict):
        found = (
            [k for k in value if k not in JSON_INTERNAL | {"operation", "options"}] if keys else []
        )
        for key, item in value.items():
            if key == "options" and isinstance(item, list):
                found += [str(pair[1]) for pair in item if isinstance(pair, list) and len(pair) > 1]
            elif key not in JSON_INTERNAL:
                found += json_labels(item, keys=keys)
        return found
    if isinstance(value, list):
        return [text for item in value for text in json_labels(item, keys=keys)]
    return [value] if isinstance(value, str) else []


def read_page(html: str) -> Page:
    reader = PageReader()
    reader.feed(html)
    reader.close()
    return reader.page


def english_words(texts: list[str], allowed: set[str]) -> list[str]:
    found = []
    for text in texts:
        text = URL.sub(" ", EMAIL.sub(" ", text))
        for word in WORD.findall(text):
            if word.lower() not in allowed and word not in found:
                found.append(word)
    return found


def data_words(session) -> set[str]:
    """Every word in the demo data's text columns: names people typed in may be English."""
    words: set[str] = set()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text))]
        if not columns:
            continue
        for row in session.execute(select(*columns)):
            for value in row:
                if isinstance(value, str):
                    words.update(word.lower() for word in WORD.findall(value))
    return words


def rule_required(path: str, name: str, *, issuer: bool) -> bool:
    """Whether the rules require field ``name`` of the form at ``path``, whatever the
    form's own markup says (a field required only on saving must show its ``*`` too)."""
    if re.fullmatch(r"/admin/(projects|review|audit)/(new|edit)/", path):
        lecturer = re.fullmatch(r"lecturers-[^-]+-(\w+)", name)
        if lecturer:
            return lecturer.group(1) in LECTURER_REQUIRED
        return is_required(name, issuer=issuer)
    if re.fullmatch(r"/admin/units/(new|edit)/", path):
        return name in UNIT_REQUIRED
    return False


def unmarked_required(path: str, page: Page, *, issuer: bool) -> list[str]:
    problems = []
    for control in page.controls:
        if not (control.required or rule_required(path, control.name, issuer=issuer)):
            continue
        label = page.labels.get(control.id)
        if label is None:
            problems.append(f"{control.name or control.id}（没有标签）")
        elif "*" not in label:
            problems.append(f"{control.name or control.id}（标签“{label}”没有 *）")
    return problems


# -- the crawl ---------------------------------------------------------------------
# H7/H8's project screens; everything else is the panel's own chrome and
# management pages.
PROJECT_SCREENS = re.compile(r"^/admin/(projects|review|audit)/|^/admin/$")


def area(url: str) -> str:
    return "projects" if PROJECT_SCREENS.match(urlsplit(url).path) else "panel"


@dataclass
class Finding:
    url: str
    status: int
    english: list[str]
    unmarked: list[str]


def _shape(url: str) -> tuple:
    parts = urlsplit(url)
    return parts.path, tuple(sorted({k for k, _ in parse_qsl(parts.query)} - {"url"}))


def _panel_link(base: str, href: str) -> str | None:
    if href.startswith(("mailto:", "tel:", "javascript:", "#")):
        return None
    parts = urlsplit(urljoin(base, href))
    if parts.netloc not in ("", "localhost"):
        return None
    url = parts.path + (f"?{parts.query}" if parts.query else "")
    if not parts.path.startswith(PANEL) or SKIPPED.search(parts.path):
        return None
    return url


def crawl(browser, start: str, allowed: set[str], issuer: bool) -> list[Finding]:
    queue, seen, shapes, findings = deque([start, *ERROR_PAGES]), set(), {}, []
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        shape = _shape(url)
        if url in seen or shapes.get(shape, 0) >= MAX_PER_SHAPE:
            continue
        seen.add(url)
        shapes[shape] = shapes.get(shape, 0) + 1
        response = browser.get(url)
        if response.status_code in (301, 302, 303):
            location = _panel_link(url, response.headers["Location"])
            if location:
                queue.append(location)
            continue
        if "text/html" not in response.content_type:
            continue
        page = read_page(response.get_data(as_text=True))
        path = urlsplit(url).path
        findings.append(
            Finding(
                url,
                response.status_code,
                english_words(page.texts, allowed),
                unmarked_required(path, page, issuer=issuer),
            )
        )
        for href in page.links:
            link = _panel_link(url, href)
            if link and link not in seen:
                queue.append(link)
    return findings


_CRAWLS: dict[tuple[str, str], list[Finding]] = {}


@pytest.fixture
def crawled(login_as, session, demo_accounts, backend):
    """The findings of one account's crawl, crawled once per backend (read-only
    GETs: the other checks of the same account reuse it)."""

    def get(username: str) -> list[Finding]:
        key = (backend, username)
        if key not in _CRAWLS:
            user = session.scalars(select(User).where(User.username == username)).one()
            issuer = user.unit.kind == UnitKind.ISSUER
            allowed = ALLOWED | data_words(session)
            _CRAWLS[key] = crawl(login_as(username), "/admin/", allowed, issuer)
        return _CRAWLS[key]

    return get


def _report(username: str, findings: list[Finding], attribute: str) -> str:
    lines = [f"帐号 {username}:"]
    for finding in findings:
        found = getattr(finding, attribute)
        if found:
            lines.append(f"  {finding.url} [{finding.status}]: {', '.join(found)}")
    return "\n".join(lines)


# Failures left on the project screens (another piece of work): checks that are
# expected to fail until then, named by page. Not strict: they pass once fixed.
KNOWN: dict[tuple[str, str, str], str] = {}


def _params(check: str):
    params = []
    for username in ACCOUNTS:
        for where in ("panel", "projects"):
            reason = KNOWN.get((check, username, where))
            marks = [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
            params.append(pytest.param(username, where, id=f"{username}-{where}", marks=marks))
    return params


@pytest.mark.parametrize(("username", "where"), _params("english"))
def test_no_english_words(crawled, username, where):
    findings = [f for f in crawled(username) if area(f.url) == where]
    assert findings, "the crawl reached no page of this area"
    bad = [f for f in findings if f.english]
    assert not bad, "English words on Chinese pages\n" + _report(username, bad, "english")


@pytest.mark.parametrize(("username", "where"), _params("required"))
def test_required_fields_are_marked(crawled, username, where):
    findings = [f for f in crawled(username) if area(f.url) == where]
    bad = [f for f in findings if f.unmarked]
    assert not bad, "Required fields without *\n" + _report(username, bad, "unmarked")


def test_crawl_reaches_each_kind_of_page(crawled):
    """The crawl is no test if it stops at the dashboard: it must reach lists,
    forms, details, help, the account's own pages and the error pages."""
    urls = [f.url for f in crawled("bjcme")]
    for expected in (
        "/admin/help/",
        "/admin/units/",
        "/admin/units/new/",
        "/admin/units/edit/",
        "/admin/users/details/",
        "/admin/users/password/",
        "/admin/disciplines/",
        "/change",
        "/admin/nope",
    ):
        assert any(url.startswith(expected) for url in urls), (expected, urls)
    statuses = {f.status for f in crawled("bjcme")}
    assert 404 in statuses


def test_signed_out_pages_speak_chinese(browser, session):
    allowed = ALLOWED | data_words(session)
    for url in ("/login", "/admin/nope"):
        response = browser.get(url)
        page = read_page(response.get_data(as_text=True))
        assert not english_words(page.texts, allowed), (url, english_words(page.texts, allowed))
        assert not unmarked_required(url, page, issuer=False), url


def test_the_reader_sees_what_a_user_sees():
    """The crawler finds English where a user would meet it, and only there."""
    html = """<html><head><title>List</title><style>.x{}</style></head><body>
      <script>var english = "words";</script>
      <a href="/admin/x/" title="Edit Record">修改</a>
      <input type="text" placeholder="Search" value="typed data">
      <input type="submit" value="Save"><button aria-label="Toggle navigation"></button>
      <img alt="Logo"><a lang="en" href="/lang/en">English</a>
      <div id="filter-groups-data" class="d-none">{"Status": [{"arg": "0", "index": 0,
        "operation": "equals", "options": [["draft", "Draft"]], "type": null}]}</div>
      <div id="actions-confirmation-data" class="d-none">{"deactivate": "Sure?"}</div>
      <div class="d-none">&lt;label for="n"&gt;Name&lt;/label&gt;&lt;input id="n" required&gt;</div>
      <label for="a">单位</label><input id="a" name="a" required>
      <label for="b">地址 <strong>*</strong></label><input id="b" name="b" required>
    </body></html>"""
    page = read_page(html)
    words = english_words(page.texts, {"data"})
    assert words == [
        "List", "Edit", "Record", "Search", "Save", "Toggle", "navigation", "Logo",
        "Status", "equals", "Draft", "Sure", "Name",
    ]  # fmt: skip
    assert page.links == ["/admin/x/", "/lang/en"]
    assert unmarked_required("/x", page, issuer=False) == [
        "n（标签“Name”没有 *）",
        "a（标签“单位”没有 *）",
    ]
    assert rule_required("/admin/projects/edit/", "project_no", issuer=True)
    assert not rule_required("/admin/projects/edit/", "project_no", issuer=False)
    assert rule_required("/admin/units/new/", "postal_code", issuer=False)


MANAGEMENT_PAGES = (
    "/admin/units/",
    "/admin/units/new/",
    "/admin/units/edit/?id={unit}",
    "/admin/units/details/?id={unit}",
    "/admin/users/",
    "/admin/users/new/",
    "/admin/users/edit/?id={user}",
    "/admin/disciplines/",
    "/admin/disciplines/new/",
)


def test_management_screens_use_the_manuals_words(login_as, demo_accounts):
    """添加 / 修改 / 提交, not Flask-Admin's 创建 / 编辑 / 保存 / 记录, nor its page-size menu."""
    browser = login_as("bjcme")
    ids = {"unit": demo_accounts["bma"].unit_id, "user": demo_accounts["bma"].id}
    for url in MANAGEMENT_PAGES:
        response = browser.get(url.format(**ids))
        assert response.status_code == 200, url
        text = " ".join(read_page(response.get_data(as_text=True)).texts)
        for stock in ("创建", "编辑", "保存", "记录", "50 项目"):
            # 创建时间 (the "Created" column) is a time, not the action.
            assert stock not in text.replace("创建时间", ""), (url, stock)
    text = " ".join(read_page(browser.get("/admin/units/").get_data(as_text=True)).texts)
    assert "添加单位" in text and "修改" in text and "条/页" not in text


def test_a_saved_unit_is_named_in_the_message(login_as, demo_accounts):
    browser = login_as("bjcme")
    unit_id = demo_accounts["bma_cardio"].unit_id
    form = browser.get(f"/admin/units/edit/?id={unit_id}").get_data(as_text=True)
    values = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', form))
    fields = {name: values.get(name, "") for name in UNIT_REQUIRED}
    fields["manager"] = "王主任"
    response = browser.post(f"/admin/units/edit/?id={unit_id}", fields, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert f"已修改单位“{values['name']}”。" in html, html[:3000]
    assert "保存记录成功" not in html
