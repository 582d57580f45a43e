"""使用说明: every account finds it in the menu and reads its own unit's flow and duties, in
the manual's words, with the support contact from the configuration; one section per
feature its kind of unit uses (and none of the others'), each with its steps drawn; and
every page it may open links to the section explaining that page ("使用说明" beside the
title), whose anchor is on its own help page. The button labels the guide names are the
screens' own: translated in the compiled catalogs, and found on the screens."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from flask_babel import force_locale, gettext

from admin_views import help as guide


@pytest.fixture
def support(app):
    saved = app.config["SUPPORT_PHONE"], app.config["SUPPORT_EMAIL"]
    app.config.update(SUPPORT_PHONE="400-812-8811", SUPPORT_EMAIL="help@example.org")
    yield
    app.config["SUPPORT_PHONE"], app.config["SUPPORT_EMAIL"] = saved


# account: (words only its page has, box highlighted in the flow)
ROLES = {
    "bjcme": ("最终审核和项目内容的公布", "北京市继续医学教育委员会"),
    "bma": ("审阅下级上报项目内容", "六学(协)会总会（行政单位）"),
    "bma_cardio": ("上报举办活动的项目内容至学（协）会总会", "六学(协)会分会（立项单位）"),
    "pumch": ("项目直接上报至北京市继续医学教育委员会", "发放证书单位（立项单位）"),
}


@pytest.mark.parametrize("username", list(ROLES))
def test_each_role_reads_its_flow_and_duties(support, login_as, username):
    browser = login_as(username)
    dashboard = browser.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/help/"' in dashboard and "使用说明" in dashboard
    response = browser.get("/admin/help/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    duty, own_box = ROLES[username]
    assert duty in html
    # The flow is drawn inline, without any external file.
    assert "<svg" in html and "<img" not in html
    svg = html[html.index('<svg class="cme-flow"') : html.rindex("</svg>")]
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    # The account's own box has the thick border.
    own = re.search(r'<rect[^>]*stroke-width="3"[^>]*/>\s*<text[^>]*>([^<]+)</text>', html, re.S)
    assert own and own.group(1).strip() == own_box
    assert "400-812-8811" in html and "help@example.org" in html
    # Other roles' duties are not on this page.
    for other, (other_duty, _) in ROLES.items():
        if other != username:
            assert other_duty not in html


def test_flows_follow_the_manual(login_as):
    branch = login_as("bma_cardio").get("/admin/help/").get_data(as_text=True)
    assert "三级单位结构" in branch and "二级单位结构" not in branch
    # The first flow drawn (the header has an icon of its own: the messages bell).
    start = branch.index('<svg class="cme-flow"')
    svg = branch[start : branch.index("</svg>", start)]
    order = [svg.index(box) for box in ("分会（立项单位）", "总会（行政单位）", "审核", "发布")]
    assert order == sorted(order)


def test_committee_sees_both_flows(login_as):
    html = login_as("bjcme").get("/admin/help/").get_data(as_text=True)
    assert "三级单位结构" in html and "二级单位结构" in html


def test_support_line_in_the_footer_only_when_configured(login_as, support, app):
    browser = login_as("bma")
    assert "联系电话：" in browser.get("/admin/").get_data(as_text=True)
    app.config["SUPPORT_PHONE"] = ""
    footer = browser.get("/admin/").get_data(as_text=True).split('class="cme-footer')[1]
    assert "联系电话" not in footer


def test_anonymous_is_sent_to_login(browser):
    response = browser.get("/admin/help/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_support_phone_comes_from_the_environment(monkeypatch):
    from app import create_app

    monkeypatch.setenv("SUPPORT_PHONE", "400-812-8811")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SUPPORT_PHONE"] == "400-812-8811"
    monkeypatch.delenv("SUPPORT_PHONE")
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SUPPORT_PHONE"] == ""


# ---- One section per feature, for the kinds of unit that use it -------------------------

EVERYONE = {
    "help-dashboard",
    "help-projects",
    "help-versions",
    "help-rules",
    "help-windows",
    "help-reminders",
    "help-executions",
    "help-certificates",
    "help-jobs",
    "help-messages",
    "help-account",
}
ENTRY_ONLY = {"help-project-form", "help-copy", "help-import", "help-roster"}
REVIEWERS_ONLY = {"help-statistics", "help-units"}
SECTIONS_OF = {
    "bjcme": EVERYONE | REVIEWERS_ONLY,
    "bma": EVERYONE | REVIEWERS_ONLY,
    "bma_cardio": EVERYONE | ENTRY_ONLY,
    "pumch": EVERYONE | ENTRY_ONLY,
}
# Sentences (in Chinese) for one kind of unit only: (who reads them, who does not).
ROLE_WORDS = {
    "直接上报至北京市继续医学教育委员会。": ({"pumch"}, {"bjcme", "bma", "bma_cardio"}),
    "分会的项目上报至学（协）会总会": ({"bma_cardio"}, {"bjcme", "bma", "pumch"}),
    "予以公布": ({"bjcme"}, {"bma", "bma_cardio", "pumch"}),
    "立即发送今天应发的催办": ({"bjcme"}, {"bma", "bma_cardio", "pumch"}),
    "为本会的分会设置截止日期": ({"bma"}, {"bjcme", "bma_cardio", "pumch"}),
    "学（协）会总会只能添加、管理本会的分会及其帐号。": ({"bma"}, {"bjcme", "bma_cardio", "pumch"}),
    "请向上级单位申请例外": ({"bma_cardio", "pumch"}, {"bjcme", "bma"}),
}


def help_page(browser) -> str:
    response = browser.get("/admin/help/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section_ids(page: str) -> set[str]:
    return set(re.findall(r'<section class="cme-help-section[^"]*" id="(help-[\w-]+)"', page))


@pytest.mark.parametrize("username", list(SECTIONS_OF))
def test_each_role_reads_the_sections_of_its_features_only(login_as, username):
    page = help_page(login_as(username))
    expected = SECTIONS_OF[username]
    assert section_ids(page) == expected | {"help-flow", "help-support"}
    # The table of contents links to every section, in the page's order.
    toc = page[page.index('class="cme-help-toc') : page.index("</nav>", page.index("cme-help-toc"))]
    linked = re.findall(r'href="#(help-[\w-]+)"', toc)
    assert set(linked) == expected | {"help-flow", "help-support"}
    order = [page.index(f'id="{anchor}"') for anchor in linked]
    assert order == sorted(order)
    # Each feature's section has its diagram: numbered steps, at least two of them.
    for anchor in expected:
        start = page.index(f'id="{anchor}"')
        body = page[start : page.index("</section>", start)]
        steps = body[body.index('<ol class="cme-help-steps"') : body.index("</ol>")]
        assert steps.count("<li>") >= 2, anchor
    # Every placeholder was filled: no %(…)s left, no English where Chinese is due.
    assert "%(" not in page
    assert "Report selected projects" not in page
    for words, (readers, others) in ROLE_WORDS.items():
        assert (words in page) == (username in readers), (username, words)
        assert username in readers | others


def test_the_guide_names_the_pages_as_the_menu_does(another_browser):
    names = {
        "bjcme": (
            "项目审核",
            "执行情况审核",
            "备案规则",
            "申报时间",
            "催办",
            "单位管理",
            "帐号管理",
        ),
        "bma_cardio": ("我的项目", "批量导入", "执行情况", "消息", "我的帐号"),
    }
    for username, pages in names.items():
        browser = another_browser()
        assert browser.login(username).status_code == 302
        page = help_page(browser)
        for name in pages:
            assert f'<span class="cme-help-page">{name}</span>' in page, name


def test_english_mode_reads_the_english_guide(login_as):
    browser = login_as("bma_cardio")
    browser.get("/lang/en")
    page = help_page(browser)
    assert '<span class="cme-help-button">Report selected projects</span>' in page
    assert "Batch import" in page and "批量导入" not in page
    browser.get("/lang/zh_Hans_CN")


# ---- The "使用说明" link beside each page's title --------------------------------------

HELP_LINK = re.compile(
    r'<a class="cme-help-link[^"]*" href="/admin/help/#([\w-]+)" aria-label="([^"]+)">(.*?)</a>',
    re.S,
)

# Per account: the pages it opens, and the section each one's link must open.
PAGES = {
    "bjcme": {
        "/admin/": "help-dashboard",
        "/admin/audit/": "help-projects",
        "/admin/execution-audit/": "help-executions",
        "/admin/certificates/": "help-certificates",
        "/admin/units/": "help-units",
        "/admin/users/": "help-units",
        "/admin/disciplines/": "help-units",
        "/admin/security-log/": "help-units",
        "/admin/rules/": "help-rules",
        "/admin/windows/": "help-windows",
        "/admin/reminders/": "help-reminders",
        "/admin/certificate-settings/": "help-certificates",
        "/admin/statistics/": "help-statistics",
        "/admin/messages/": "help-messages",
        "/admin/jobs/": "help-jobs",
        "/admin/me/": "help-account",
    },
    "bma": {
        "/admin/": "help-dashboard",
        "/admin/review/": "help-projects",
        "/admin/execution-review/": "help-executions",
        "/admin/units/": "help-units",
        "/admin/users/": "help-units",
        "/admin/security-log/": "help-units",
        "/admin/windows/": "help-windows",
        "/admin/statistics/": "help-statistics",
        "/admin/me/": "help-account",
    },
    "bma_cardio": {
        "/admin/": "help-dashboard",
        "/admin/projects/": "help-projects",
        "/admin/projects/new/": "help-project-form",
        "/admin/executions/": "help-executions",
        "/admin/import/": "help-import",
        "/admin/windows/": "help-windows",
        "/admin/certificates/": "help-certificates",
        "/admin/messages/": "help-messages",
        "/admin/jobs/": "help-jobs",
        "/admin/me/": "help-account",
    },
    "pumch": {
        "/admin/": "help-dashboard",
        "/admin/projects/": "help-projects",
        "/admin/projects/new/": "help-project-form",
        "/admin/executions/": "help-executions",
        "/admin/import/": "help-import",
        "/admin/me/": "help-account",
    },
}
SECTION_TITLES = {section.anchor: section.title for section in guide.SECTIONS}


def first_link(page: str, pattern: str) -> str:
    found = re.search(pattern, page)
    assert found, pattern
    return html_lib.unescape(found.group(0))


def pages_with_ids(browser, username: str) -> dict[str, str]:
    """Pages of one record (details, copy, diff, report, roster, sign-in), found through
    the lists as a user would."""
    found = {}
    if username == "bma_cardio":
        listing = browser.get("/admin/projects/?tab=all").get_data(as_text=True)
        details = first_link(listing, r"/admin/projects/details/\?id=\d+")
        project = details.split("id=")[1]
        found[details] = "help-projects"
        found[f"/admin/projects/new/?copy={project}"] = "help-copy"
        report = first_link(
            browser.get("/admin/executions/").get_data(as_text=True), r"/admin/execution/\d+/"
        )
        found[report] = "help-executions"
        report_id = report.strip("/").split("/")[-1]
        found[f"/admin/roster-import/{report_id}/"] = "help-roster"
        found[f"/admin/signin-sheet/{report_id}/"] = "help-roster"
    if username == "bma":
        listing = browser.get("/admin/review/").get_data(as_text=True)
        found[first_link(listing, r"/admin/review/details/\?id=\d+")] = "help-projects"
    if username == "bjcme":
        details = reviewed_twice(browser)
        found[details] = "help-projects"
        page = browser.get(details).get_data(as_text=True)
        versions = re.findall(r'<option value="(\d+)"', page[page.index('id="cme-version-a"') :])
        project = details.split("id=")[1]
        found[f"/admin/audit/diff/?id={project}&a={versions[0]}&b={versions[-1]}"] = "help-versions"
    return found


def reviewed_twice(browser) -> str:
    """A 项目审核 details page of a project with two versions or more (its compare form)."""
    for tab in ("", "?tab=all"):
        listing = browser.get(f"/admin/audit/{tab}").get_data(as_text=True)
        for link in dict.fromkeys(re.findall(r"/admin/audit/details/\?id=\d+", listing)):
            if 'id="cme-version-a"' in browser.get(link).get_data(as_text=True):
                return link
    raise AssertionError("no project of the review list has two versions")


@pytest.mark.parametrize("username", list(PAGES))
def test_each_page_links_to_the_section_that_explains_it(login_as, username):
    browser = login_as(username)
    own_sections = section_ids(help_page(browser))
    pages = PAGES[username] | pages_with_ids(browser, username)
    for url, anchor in pages.items():
        response = browser.get(url)
        assert response.status_code == 200, (username, url, response.status_code)
        links = HELP_LINK.findall(response.get_data(as_text=True))
        assert len(links) == 1, (url, links)
        href, name, text = links[0]
        assert href == anchor, (url, href)
        assert href in own_sections, (username, url, href)
        # Named for the screen reader with the feature, and not an icon alone.
        with force_locale("zh_Hans_CN"):
            title = str(SECTION_TITLES[anchor])
        assert html_lib.unescape(name) == f"使用说明：{title}"
        assert re.sub(r"<[^>]+>", "", text).replace("?", "").strip() == "使用说明"
    # The guide itself has no link to itself.
    assert HELP_LINK.findall(help_page(browser)) == []


def test_every_panel_view_is_explained_by_a_section(app_without_db):
    """A page added to the panel without a help section fails here."""
    admin = app_without_db.extensions["admin"][0]
    for endpoint in admin.panel_views:
        if endpoint == "help":
            continue
        assert guide.anchor_for(f"{endpoint}.index") or guide.anchor_for(
            f"{endpoint}.index_view"
        ), endpoint
    anchors = {section.anchor for section in guide.SECTIONS}
    assert set(guide.PAGE_ANCHORS.values()) <= anchors
    assert guide.anchor_for("projects.create_view", {"copy": "3"}) == "help-copy"
    assert guide.anchor_for("audit.diff_view") == "help-versions"
    assert guide.anchor_for(None) is None and guide.anchor_for("security.login") is None


# ---- The buttons the guide names exist, as the guide names them ------------------------

# A button label: the account and page showing it.
BUTTON_SCREENS = {
    "add_project": ("bma_cardio", "/admin/projects/"),
    "delete": ("bma_cardio", "/admin/projects/"),
    "report": ("bma_cardio", "/admin/projects/"),
    "export_csv": ("bma_cardio", "/admin/projects/"),
    "export_xlsx": ("bma_cardio", "/admin/projects/"),
    "unlock": ("bjcme", "/admin/audit/"),
    "publish": ("bjcme", "/admin/audit/"),
    "withdraw": ("bjcme", "/admin/audit/"),
    "report_one": ("bma", "/admin/review/details/?id={review}"),
    "versions": ("bjcme", "/admin/audit/details/?id={audited}"),
    "compare": ("bjcme", "/admin/audit/details/?id={audited}"),
    "copy": ("bma_cardio", "/admin/projects/details/?id={project}"),
    "template": ("bma_cardio", "/admin/import/"),
    "upload": ("bma_cardio", "/admin/import/"),
    "show": ("bjcme", "/admin/rules/"),
    "grant": ("bjcme", "/admin/windows/"),
    "remind_now": ("bjcme", "/admin/reminders/"),
    "report_selected": ("bma_cardio", "/admin/executions/"),
    "accept": ("bjcme", "/admin/execution-audit/"),
    "edit_report": ("bma_cardio", "/admin/execution/{report}/"),
    "report_report": ("bma_cardio", "/admin/execution/{report}/"),
    "add_learner": ("bma_cardio", "/admin/execution/{report}/"),
    "import_roster": ("bma_cardio", "/admin/execution/{report}/"),
    "export_roster": ("bma_cardio", "/admin/execution/{report}/"),
    "signin": ("bma_cardio", "/admin/execution/{report}/"),
    "open_signin": ("bma_cardio", "/admin/signin-sheet/{report}/"),
    "export_tables": ("bjcme", "/admin/statistics/"),
    "mark_all_read": ("bma_cardio", "/admin/messages/"),
    "save_choice": ("bma_cardio", "/admin/messages/"),
    "submit": ("bma_cardio", "/admin/me/"),
    "change_password": ("bma_cardio", "/admin/me/"),
    "add_unit": ("bjcme", "/admin/units/"),
    "add_account": ("bjcme", "/admin/users/"),
    "deactivate": ("bjcme", "/admin/users/"),
    "reset_password": ("bjcme", "/admin/users/"),
}
# Shown only in a state the demo does not open on (a diff, an upload's preview, a year
# following another's rules, an open sign-in, a revocable certificate, a finished or
# failed export, a deactivated or locked account, a published project with no report):
# checked against the catalogs only.
BUTTONS_IN_OTHER_STATES = {
    "changes",
    "confirm_import",
    "copy_rules",
    "no_rules",
    "open_report",
    "close_signin",
    "revoke",
    "download",
    "export_again",
    "activate",
    "lift_lock",
}


def test_every_button_the_guide_names_is_translated_in_the_compiled_catalogs(app):
    assert set(BUTTON_SCREENS) | BUTTONS_IN_OTHER_STATES == set(guide.BUTTONS)
    assert not set(BUTTON_SCREENS) & BUTTONS_IN_OTHER_STATES
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        for key, label in guide.BUTTONS.items():
            msgid = label._args[0]
            chinese = gettext(msgid)
            assert chinese != msgid and re.search(r"[\u4e00-\u9fff]", chinese), (key, msgid)
    # Every placeholder in the guide's sentences is a known button or view.
    admin = app.extensions["admin"][0]
    for section in guide.SECTIONS:
        for line in section.steps + section.lines:
            for key in guide.PLACEHOLDER.findall(line.text._args[0]):
                kind, _, name = key.partition("_")
                assert (kind == "b" and name in guide.BUTTONS) or (
                    kind == "p" and name in admin.panel_views
                ), (section.anchor, key)


def test_every_button_the_guide_names_is_on_its_screen(app, another_browser):
    browsers = {}
    ids = {}

    def browser_of(username):
        if username not in browsers:
            browsers[username] = another_browser()
            assert browsers[username].login(username).status_code == 302
        return browsers[username]

    cardio = browser_of("bma_cardio")
    ids["project"] = first_link(
        cardio.get("/admin/projects/?tab=all").get_data(as_text=True),
        r"/admin/projects/details/\?id=\d+",
    ).split("id=")[1]
    ids["report"] = (
        first_link(
            cardio.get("/admin/executions/").get_data(as_text=True), r"/admin/execution/\d+/"
        )
        .strip("/")
        .split("/")[-1]
    )
    ids["review"] = first_link(
        browser_of("bma").get("/admin/review/").get_data(as_text=True),
        r"/admin/review/details/\?id=\d+",
    ).split("id=")[1]
    ids["audited"] = reviewed_twice(browser_of("bjcme")).split("id=")[1]
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        labels = {key: gettext(label._args[0]) for key, label in guide.BUTTONS.items()}
    for key, (username, url) in BUTTON_SCREENS.items():
        response = browser_of(username).get(url.format(**ids))
        assert response.status_code == 200, (key, url)
        text = html_lib.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
        assert labels[key] in text, (key, labels[key], url)
