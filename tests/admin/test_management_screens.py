"""单位管理, 帐号管理 and 学科 as the project lists show a list (issue 26): a crawler
over the management pages finds none of Flask-Admin's chrome words and no action that
is an icon alone; the unit tree is indented with each unit's counts in a constant
number of statements; the search bar's keyword and selects never reach another
unit's rows; each change is confirmed on a page of its own; an empty 添加 is answered
in Chinese at the fields."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import func, select

from accounts import lockout
from models import AuditEntry, Project, Unit, UnitKind, User
from tests.admin.test_accounts import (  # noqa: F401 (the ``world`` fixture and its rows)
    DEMO_UNITS,
    OUTSIDERS,
    _snapshot,
    _unit,
    _user,
    world,
    world_rows,
)
from tests.factories import make_project, make_unit, make_user
from tests.refusals import assert_expired

# The demo tree plus another committee's tree (test_accounts.py), for every test here.
pytestmark = pytest.mark.usefixtures("world")

MANAGEMENT = re.compile(r"^/admin/(units|users|disciplines|me)/")
# Flask-Admin's list chrome the issue names (列表 · 添加 · 添加筛选器 · 50 条/页 · 选中的),
# its details page's filter box, and its row-action titles.
CHROME = ("选中的", "添加筛选器", "筛选器", "条/页", "查看记录", "编辑记录", "全选")
CHROME_CLASSES = ("fa-eye", "fa-pencil", "fa-key", "fa-trash", "glyphicon", "fa_filter")
MAX_PAGES = 60


class Actions(HTMLParser):
    """The page's links and buttons with their visible text, its nav tabs' texts,
    and its forms (to know whether a form asks the browser to validate)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[dict] = []
        self.actions: list[dict] = []
        self.tabs: list[str] = []
        self.forms: list[dict] = []
        self.in_tabs = 0

    def handle_starttag(self, tag, attrs) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "ul" and "nav-tabs" in a.get("class", ""):
            self.in_tabs += 1
        if tag == "form":
            self.forms.append(a)
        if tag in ("a", "button"):
            self.open.append({"tag": tag, "attrs": a, "text": ""})

    def handle_endtag(self, tag) -> None:
        if tag == "ul" and self.in_tabs:
            self.in_tabs -= 1
        if tag in ("a", "button") and self.open:
            element = self.open.pop()
            self.actions.append(element)
            if self.in_tabs:
                self.tabs.append(element["text"].strip())

    def handle_data(self, data) -> None:
        for element in self.open:
            element["text"] += data


def read_actions(html: str) -> Actions:
    reader = Actions()
    reader.feed(html)
    reader.close()
    return reader


def icon_only(actions: Actions) -> list[str]:
    """Links and buttons with no visible text (an icon, at most a title). The
    navigation toggler of the panel's header (labelled, shown on a phone) is the
    header's, not an action of these pages."""
    return [
        str(element["attrs"])
        for element in actions.actions
        if not element["text"].strip() and "navbar-toggler" not in element["attrs"].get("class", "")
    ]


def crawl_management(browser, starts) -> dict[str, str]:
    """{url: html} of the management pages reachable from ``starts`` (GET only)."""
    queue, pages = deque(starts), {}
    while queue and len(pages) < MAX_PAGES:
        url = queue.popleft()
        if url in pages:
            continue
        response = browser.get(url)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        html = response.get_data(as_text=True)
        pages[url] = html
        for element in read_actions(html).actions:
            href = element["attrs"].get("href", "")
            parts = urlsplit(urljoin(url, href))
            if parts.netloc not in ("", "localhost") or not MANAGEMENT.match(parts.path):
                continue
            if re.search(r"/(action|delete|export|ajax)/", parts.path):
                continue
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if link not in pages:
                queue.append(link)
    return pages


@pytest.mark.parametrize("username", ["bjcme", "bma"])
def test_crawl_finds_no_flask_admin_chrome_and_no_icon_only_action(login_as, username):
    browser = login_as(username)
    starts = ["/admin/units/", "/admin/users/", "/admin/me/"]
    if username == "bjcme":
        starts.append("/admin/disciplines/")
    pages = crawl_management(browser, starts)
    kinds = {re.sub(r"\?.*", "", url) for url in pages}
    # Lists, details, forms, the confirmation and the reset pages were all reached.
    for expected in (
        "/admin/units/",
        "/admin/units/details/",
        "/admin/units/new/",
        "/admin/units/edit/",
        "/admin/units/confirm/",
        "/admin/users/",
        "/admin/users/details/",
        "/admin/users/new/",
        "/admin/users/edit/",
        "/admin/users/confirm/",
        "/admin/users/password/",
        "/admin/me/",
    ):
        assert expected in kinds, (expected, sorted(kinds))
    problems = []
    for url, page in pages.items():
        # The page's own part: the panel's header (menu, bell, account) is not these pages'.
        html = re.sub(r'<nav class="navbar.*?</nav>', "", page, count=1, flags=re.S)
        actions = read_actions(html)
        text = re.sub(r"<script.*?</script>", "", html, flags=re.S)
        problems += [f"{url}: {word}" for word in CHROME if word in text]
        problems += [f"{url}: class {name}" for name in CHROME_CLASSES if name in text]
        problems += [f"{url}: icon-only {found}" for found in icon_only(actions)]
        # No 列表 · 添加 tabs, no javascript: address (the CSP refuses it).
        problems += [f"{url}: tab {tab}" for tab in actions.tabs]
        problems += [f"{url}: javascript: link" for _ in re.findall(r'href="javascript:', html)]
        problems += [
            f"{url}: form without novalidate"
            for form in actions.forms
            if form.get("method", "").upper() == "POST"
            and "novalidate" not in form
            and re.search(r"/(new|edit|password)/|/me/", url)
            and "logout" not in form.get("action", "")
        ]
        # One heading names the page (not the layout's title above ours as well).
        assert html.count("<h1") == 1 and '<h4 class="mb-4">' not in html, url
    assert not problems, "\n".join(problems)


def test_the_unit_tree_is_indented_and_counted(session, login_as):
    html = login_as("bjcme").get("/admin/units/?page_size=200").get_data(as_text=True)
    rows = re.findall(r'<tr data-level="(\d)"[^>]*>(.*?)</tr>', html, flags=re.S)
    names = [re.search(r'class="col-name[^"]*"[^>]*>(.*?)</td>', row).group(1) for _, row in rows]
    names = [re.sub(r"<[^>]+>|└", "", name).strip() for name in names]
    levels = dict(zip(names, (int(level) for level, _ in rows), strict=True))
    assert names[0] == DEMO_UNITS["bjcme"] and levels[DEMO_UNITS["bjcme"]] == 0
    assert levels[DEMO_UNITS["bma"]] == 1 and levels[DEMO_UNITS["pumch"]] == 1
    assert levels[DEMO_UNITS["bma_cardio"]] == 2
    # Each branch right under its society.
    for branch, society in (("bma_cardio", "bma"), ("bma_peds", "bma"), ("tcm_acu", "bjtcm")):
        between = names[names.index(DEMO_UNITS[society]) + 1 : names.index(DEMO_UNITS[branch])]
        assert all(levels[name] == 2 for name in between), (branch, between)
    # The counts are the database's.
    for name, (_, row) in zip(names, rows, strict=True):
        unit = session.scalar(select(Unit).where(Unit.name == name))
        accounts = session.scalar(select(func.count()).where(User.unit_id == unit.id))
        projects = session.scalar(select(func.count()).where(Project.owner_unit_id == unit.id))
        shown = re.findall(r'class="col-(accounts|projects) cme-number"[^>]*>(\d+)</td>', row)
        assert dict(shown) == {"accounts": str(accounts), "projects": str(projects)}, name


def _list_statements(browser, count_statements, url: str) -> int:
    with count_statements() as counter:
        response = browser.get(url)
    assert response.status_code == 200
    return counter.count


def test_the_counts_cost_the_same_statements_for_3_or_40_units(session, login_as, count_statements):
    browser = login_as("bma")
    url = "/admin/units/?page_size=200"
    browser.get(url)  # warm: the first request loads what every later one reuses
    few = _list_statements(browser, count_statements, url)
    bma = _unit(session, "bma")
    owner = None
    for number in range(37):
        branch = make_unit(session, UnitKind.BRANCH, bma, name=f"北京医学会第{number}分会")
        owner = make_user(session, branch, f"extra_branch_{number}")
        make_user(session, branch, f"extra_branch_{number}_b")
    make_project(session, owner)
    session.commit()
    many = _list_statements(browser, count_statements, url)
    assert many == few, (few, many)
    html = browser.get(url).get_data(as_text=True)
    assert html.count('data-level="2"') == 39
    assert "北京医学会第36分会" in html


def test_the_accounts_list_costs_the_same_statements_for_2_or_40_accounts(
    session, login_as, count_statements
):
    browser = login_as("bma")
    url = "/admin/users/?page_size=200"
    browser.get(url)
    few = _list_statements(browser, count_statements, url)
    peds = _unit(session, "bma_peds")
    for number in range(38):
        make_user(session, peds, f"extra_peds_{number}")
    session.commit()
    many = _list_statements(browser, count_statements, url)
    assert many == few, (few, many)
    html = browser.get(url).get_data(as_text=True)
    # Each row's own links: 查看 · 修改 · 停用 · 重置密码.
    assert html.count("do=deactivate") == 40 and html.count("/admin/users/password/?id=") == 40


def _row_names(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>|└", "", name).strip()
        for name in re.findall(
            r'<td class="col-(?:name|username)[^"]*"[^>]*>(.*?)</td>', html, re.S
        )
    ]


@pytest.mark.parametrize(
    "query",
    [
        "search=外省",
        "search=外省医学会外科分会",
        "search=010",
        "kind=branch",
        "kind=committee",
        "kind=society&status=1",
        "status=0",
    ],
)
def test_the_units_bar_never_reaches_another_units_rows(session, login_as, query):
    html = login_as("bma").get(f"/admin/units/?{query}").get_data(as_text=True)
    names = _row_names(html)
    managed = {DEMO_UNITS[k] for k in ("bma", "bma_cardio", "bma_peds")}
    assert set(names) <= managed, names
    # The search box repeats the term; nothing else may name another tree's unit.
    shown = re.sub(r'(id="cme-search"[^>]*value=")[^"]*"', r'\1"', html)
    for outsider, *_ in OUTSIDERS.values():
        assert outsider not in shown
    assert DEMO_UNITS["tcm_acu"] not in html and DEMO_UNITS["pumch"] not in html
    if query == "kind=branch":
        assert set(names) == {DEMO_UNITS["bma_cardio"], DEMO_UNITS["bma_peds"]}
        assert "共 2 项" in html


@pytest.mark.parametrize("key", ["out_branch", "out_committee", "tcm_acu", "bjcme", "bma"])
def test_the_accounts_unit_select_never_reaches_another_units_accounts(session, login_as, key):
    unit = _unit(session, key)
    html = login_as("bma").get(f"/admin/users/?unit={unit.id}").get_data(as_text=True)
    assert _row_names(html) == [] and "共 0 项" in html, key
    # The select offers the society's branches alone.
    select = re.search(r'<select[^>]*name="unit">(.*?)</select>', html, re.S).group(1)
    options = re.findall(r'<option value="(\d+)"', select)
    branches = {str(_unit(session, k).id) for k in ("bma_cardio", "bma_peds")}
    assert set(options) == branches


@pytest.mark.parametrize("term", ["外省", "out_", "bjtcm", "tcm_acu", "bma", "010"])
def test_the_accounts_keyword_never_reaches_another_units_accounts(login_as, term):
    html = login_as("bma").get(f"/admin/users/?search={term}").get_data(as_text=True)
    assert set(_row_names(html)) <= {"bma_cardio", "bma_peds"}, term


def test_the_accounts_keyword_searches_contact_details(session, login_as):
    peds = _user(session, "bma_peds")
    peds.email, peds.phone = "peds-office@example.com", "010-55550123"
    session.commit()
    browser = login_as("bma")
    for term in ("peds-office", "55550123", "儿科学分会秘书", "bma_peds"):
        html = browser.get(f"/admin/users/?search={term}").get_data(as_text=True)
        assert _row_names(html) == ["bma_peds"], term


# -- confirmations ---------------------------------------------------------------------
def test_deactivating_a_unit_is_confirmed_first(session, login_as):
    browser = login_as("bjcme")
    peds = _unit(session, "bma_peds")
    listing = browser.get("/admin/units/").get_data(as_text=True)
    link = re.search(
        rf'href="(/admin/units/confirm/\?id={peds.id}&amp;do=deactivate[^"]*)"', listing
    )
    assert link, "no 停用 link on the row"
    url = link.group(1).replace("&amp;", "&")
    before = _snapshot(session)
    page = browser.get(url).get_data(as_text=True)
    assert f"停用“{peds.name}”？" in page and "取消" in page
    assert "该单位的帐号将不能登录" in page  # what else it stops, said before it is done
    assert _snapshot(session) == before  # asking changes nothing
    assert_expired(browser.client.post(url, data={}))
    assert _snapshot(session) == before
    response = browser.post(url, {})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/units/")
    assert "已停用 1 项" in browser.get(response.headers["Location"]).get_data(as_text=True)
    session.expire_all()
    assert not _unit(session, "bma_peds").active
    # The row now offers 启用, confirmed the same way.
    listing = browser.get("/admin/units/").get_data(as_text=True)
    assert f"/admin/units/confirm/?id={peds.id}&amp;do=activate" in listing
    browser.post(f"/admin/units/confirm/?id={peds.id}&do=activate", {})
    session.expire_all()
    assert _unit(session, "bma_peds").active


def test_an_account_change_is_confirmed_and_scoped(session, login_as):
    browser = login_as("bma")
    before = _snapshot(session)
    own, foreign = _user(session, "bma"), _user(session, "tcm_acu")
    outsider = _user(session, "out_branch")
    for user in (foreign, outsider):
        for what in ("deactivate", "activate", "unlock"):
            url = f"/admin/users/confirm/?id={user.id}&do={what}"
            assert browser.get(url).status_code == 404
            assert browser.post(url, {}, token_from="/admin/").status_code == 404
    # Its own account is outside a society's reach; a made-up change is not found.
    assert browser.get(f"/admin/users/confirm/?id={own.id}&do=deactivate").status_code == 404
    peds = _user(session, "bma_peds")
    assert browser.get(f"/admin/users/confirm/?id={peds.id}&do=delete").status_code == 404
    assert _snapshot(session) == before
    browser.post(f"/admin/users/confirm/?id={peds.id}&do=deactivate", {})
    session.expire_all()
    assert not _user(session, "bma_peds").active


def test_nobody_is_offered_or_allowed_their_own_unit_or_account(session, login_as):
    browser = login_as("bjcme")
    own_unit, own = _unit(session, "bjcme"), _user(session, "bjcme")
    units = browser.get("/admin/units/").get_data(as_text=True)
    users = browser.get("/admin/users/").get_data(as_text=True)
    assert f"confirm/?id={own_unit.id}&amp;do=" not in units
    assert f"confirm/?id={own.id}&amp;do=" not in users
    assert f"password/?id={own.id}&amp;" not in users
    before = _snapshot(session)
    token = "/admin/"  # the confirmation page itself is not shown for one's own
    response = browser.post(
        f"/admin/users/confirm/?id={own.id}&do=deactivate", {}, token_from=token
    )
    assert response.status_code == 302
    assert "不能停用或启用自己的帐号" in browser.get(response.headers["Location"]).get_data(
        as_text=True
    )
    browser.post(f"/admin/units/confirm/?id={own_unit.id}&do=deactivate", {}, token_from=token)
    assert _snapshot(session) == before


def test_unlock_is_offered_on_a_locked_accounts_details(session, login_as, another_browser, app):
    peds = _user(session, "bma_peds")
    browser = login_as("bma")
    details = f"/admin/users/details/?id={peds.id}"
    assert "do=unlock" not in browser.get(details).get_data(as_text=True)
    # Locked the real way: failed logins through the login page.
    stranger = another_browser()
    for _ in range(app.config["LOGIN_LOCKOUT_FAILURES"]):
        stranger.login("bma_peds", "not-the-password-1")
    session.expire_all()
    assert lockout.is_locked(session, peds)
    page = browser.get(details).get_data(as_text=True)
    link = re.search(r'href="(/admin/users/confirm/\?id=\d+&amp;do=unlock[^"]*)"', page)
    assert link and "解除锁定" in page
    browser.post(link.group(1).replace("&amp;", "&"), {})
    session.expire_all()
    assert not lockout.is_locked(session, peds)


# -- forms -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "sections", "fields"),
    [
        (
            "/admin/users/new/",
            ["帐号", "基本信息", "联系方式"],
            ["username", "password", "password_confirm", "display_name", "unit"],
        ),
        ("/admin/units/new/", ["基本信息", "联系方式"], ["kind", "parent", "name", "manager"]),
    ],
)
def test_an_empty_add_is_answered_in_chinese_at_the_fields(
    session, login_as, url, sections, fields
):
    browser = login_as("bjcme")
    form = browser.get(url).get_data(as_text=True)
    assert re.search(r"<form[^>]*novalidate", form)
    assert " required" not in re.sub(r"aria-required", "", form.split("<form", 2)[-1])
    legends = re.findall(r"<legend[^>]*>(.*?)</legend>", form)
    assert legends == sections
    before = _snapshot(session)
    response = browser.post(url, {})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "请更正下方标出的内容" in html and "创建记录失败" not in html
    for name in fields:
        block = html[html.index(f'id="{name}"') :]
        block = block[: block.find('class="form-group')]
        assert re.search(r"invalid-feedback[^>]*>[^<]*[\u4e00-\u9fff]", block), name
    assert _snapshot(session) == before


def test_a_saved_form_names_the_row_and_writes_the_security_log(session, login_as):
    browser = login_as("bjcme")
    entries = session.scalar(select(func.count()).select_from(AuditEntry))
    data = {
        "username": "new_clerk",
        "display_name": "新录入员",
        "unit": str(_unit(session, "pumch").id),
        "phone": "",
        "email": "",
        "password": "given-by-boss-1",
        "password_confirm": "given-by-boss-1",
    }
    response = browser.post("/admin/users/new/", data)
    assert response.status_code == 302
    assert "已添加帐号“new_clerk”" in browser.get(response.headers["Location"]).get_data(
        as_text=True
    )
    # 帐号已创建: written where the account was flushed.
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == entries + 1
