"""Honest input (issue 26): every bounded text field of every form the panel draws
carries its limit (``maxlength`` and the counter's ``data-counter``, both the model
column's length, ``rules.text_limits``); a text over it is refused whole with the
field's name, its limit and the count, and nothing is stored, neither the text nor
its first ``limit`` characters (a cut); a text of exactly the limit is stored whole.
The hours rule says what it refused (理论学时 0: "应大于 0"), and Flask-Admin's
"创建记录失败。" never reaches the page. Both databases."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import (
    CertificateSettings,
    Discipline,
    ExecutionLecturer,
    ExecutionReport,
    Lecturer,
    Project,
    ProjectState,
    RosterEntry,
    Unit,
    User,
    WindowException,
    rules,
)
from tests.admin.test_projects import act
from tests.factories import make_project
from tests.properties import property_settings
from tests.test_execution_workflow import learner
from workflow import execution

PROPERTY_SETTINGS = property_settings(60)
# Characters no demo value is made of, so a stored cut of the text is the test's own.
ALPHABET = "審備謹"


# -- the page's form, as a browser would post it ------------------------------------------


@dataclass
class Field:
    name: str
    tag: str
    type: str
    value: str
    maxlength: int | None
    counter: int | None


class Forms(HTMLParser):
    """The POST forms of a page: their fields and values, as a browser sends them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = None
        self._textarea = None
        self._select = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = None
            if (a.get("method") or "get").lower() == "post":
                self._form = {"action": a.get("action"), "fields": [], "values": {}}
                self.forms.append(self._form)
            return
        if self._form is None:
            return
        number = lambda key: int(a[key]) if a.get(key) else None  # noqa: E731
        if tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file") or "readonly" in a:
                # A read-only field (a unit's name for whoever may not rename it) is sent
                # back unchanged: nothing is typed, nothing to count.
                self._form["values"][a["name"]] = a.get("value") or ""
                return
            field = Field(
                a["name"],
                tag,
                kind,
                a.get("value") or "",
                number("maxlength"),
                number("data-counter"),
            )
            self._form["fields"].append(field)
            self._form["values"][a["name"]] = field.value
        elif tag == "textarea" and a.get("name"):
            self._textarea = Field(
                a["name"], tag, "textarea", "", number("maxlength"), number("data-counter")
            )
            self._form["fields"].append(self._textarea)
            self._form["values"][a["name"]] = ""
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["values"].setdefault(self._select, None)
        elif tag == "option" and self._select:
            values = self._form["values"]
            if values[self._select] is None or "selected" in a:
                values[self._select] = a.get("value", "")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data
            self._form["values"][self._textarea.name] = self._textarea.value.lstrip("\n")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def holding(self, name: str) -> dict:
        return next(f for f in self.forms if name in f["values"])


# -- the forms of the panel ---------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One form page: who opens it, where, and the models its text fields are columns
    of (by field name, a lecturer row's ``lecturers-0-topic`` as ``topic``)."""

    key: str
    account: str
    url: str
    models: tuple
    # Fields whose limit is no column's (a reason): name → limit.
    own_limits: tuple = ()


def _pages(session, demo_accounts) -> list[Page]:
    pumch, bma, committee = demo_accounts["pumch"], demo_accounts["bma"], demo_accounts["bjcme"]
    project = make_project(session, pumch)
    published = make_project(session, pumch, ProjectState.PUBLISHED)
    report = execution.open_report(session, pumch, published)
    entry, errors = execution.add_learner(session, pumch, report, learner())
    assert not errors
    discipline = session.scalar(
        select(Discipline).where(Discipline.committee_id == committee.unit_id).limit(1)
    )
    session.commit()
    lecturers = (ExecutionLecturer,)
    return [
        Page("project new", "pumch", "/admin/projects/new/", (Project, Lecturer)),
        Page(
            "project edit", "pumch", f"/admin/projects/edit/?id={project.id}", (Project, Lecturer)
        ),
        Page("my account", "pumch", "/admin/me/", (User,)),
        Page("unit edit", "bma", f"/admin/units/edit/?id={bma.unit_id}", (Unit,)),
        Page("unit new", "bma", "/admin/units/new/", (Unit,)),
        Page("account edit", "bma", f"/admin/users/edit/?id={bma.id}", (User,)),
        Page("account new", "bma", "/admin/users/new/", (User,)),
        Page(
            "discipline edit",
            "bjcme",
            f"/admin/disciplines/edit/?id={discipline.id}",
            (Discipline,),
        ),
        Page("discipline new", "bjcme", "/admin/disciplines/new/", (Discipline,)),
        Page(
            "windows",
            "bjcme",
            "/admin/windows/",
            (WindowException,),
            (("reason", rules.MAX_REASON),),
        ),
        Page(
            "report edit",
            "pumch",
            f"/admin/execution/{report.id}/edit",
            (ExecutionReport, *lecturers),
        ),
        Page("roster add", "pumch", f"/admin/execution/{report.id}/roster/add", (RosterEntry,)),
        Page(
            "certificate settings", "bjcme", "/admin/certificate-settings/", (CertificateSettings,)
        ),
        Page(
            "roster edit",
            "pumch",
            f"/admin/execution/{report.id}/roster/{entry.id}/edit",
            (RosterEntry,),
        ),
    ]


def short_name(name: str) -> str:
    """``lecturers-0-topic`` → ``topic``."""
    return name.rsplit("-", 1)[-1]


def limit_of(page: Page, name: str) -> tuple[type | None, int | None]:
    """The model whose column the field is, and the field's limit: one source of truth."""
    own = dict(page.own_limits)
    if name in own:
        return None, own[name]
    # The first model is the page's record; a lecturer row's fields are the second's.
    model = page.models[-1] if name.startswith("lecturers-") else page.models[0]
    return model, rules.text_limits(model).get(short_name(name))


# Text inputs that are no bounded text: dates typed as text, the hidden submit-once token.
UNBOUNDED = re.compile(r"(^|-)(opens|closes|until|submission|seen_version|seen_values|csrf_token)$")


@pytest.fixture
def pages(session, demo_accounts):
    return _pages(session, demo_accounts)


@pytest.fixture
def signed_in(another_browser):
    browsers = {}

    def sign_in(username: str):
        if username not in browsers:
            browser = another_browser()
            assert browser.login(username).status_code == 302
            browsers[username] = browser
        return browsers[username]

    return sign_in


def bounded_fields(page: Page, html: str) -> list[Field]:
    found = []
    for form in Forms(html).forms:
        for field in form["fields"]:
            if field.tag == "input" and field.type not in ("text", "email", "tel", "search"):
                continue
            if UNBOUNDED.search(field.name) or "__i__" in field.name:
                continue
            found.append(field)
    return found


def test_every_text_field_of_every_form_carries_its_columns_limit(pages, signed_in):
    seen = 0
    for page in pages:
        html = signed_in(page.account).get(page.url).get_data(as_text=True)
        assert 'src="/static/admin/cme-counter.js"' in html, page.key
        for field in bounded_fields(page, html):
            _, limit = limit_of(page, field.name)
            assert limit is not None, (page.key, field.name, "a text field with no limit")
            assert (field.maxlength, field.counter) == (limit, limit), (page.key, field.name)
            seen += 1
    assert seen >= 40  # every page's fields were found (the parser works)


def _every_field(pages, signed_in) -> list[tuple[Page, str, type | None, int]]:
    found = []
    for page in pages:
        html = signed_in(page.account).get(page.url).get_data(as_text=True)
        for field in bounded_fields(page, html):
            model, limit = limit_of(page, field.name)
            found.append((page, field.name, model, limit))
    return found


def _post(browser, page: Page, name: str, text: str):
    html = browser.get(page.url).get_data(as_text=True)
    form = Forms(html).holding(name)
    data = {k: v for k, v in form["values"].items() if v is not None}
    data[name] = text
    url = form["action"] or page.url
    return browser.client.post(url, data=data)


def _stored(session, model, name: str, texts: list[str]) -> int:
    session.rollback()  # read what the requests committed
    column = getattr(model, short_name(name))
    return session.scalar(select(func.count()).select_from(model).where(column.in_(texts)))


def test_over_long_text_is_refused_with_its_limit_and_never_cut(pages, signed_in, session):
    """The property, over every bounded text field of every form: any length over
    the limit is refused with "<field>最多 N 个字，当前 M 个字。", and the database holds
    neither the text nor its first N characters."""
    fields = _every_field(pages, signed_in)

    @PROPERTY_SETTINGS
    @given(
        choice=st.sampled_from(fields),
        over=st.one_of(st.integers(1, 50), st.integers(51, 2500)),
        data=st.data(),
    )
    def refused(choice, over, data):
        page, name, model, limit = choice
        count = limit + over
        text = data.draw(st.text(alphabet=ALPHABET, min_size=count, max_size=count))
        response = _post(signed_in(page.account), page, name, text)
        assert response.status_code == 200, (page.key, name, response.status_code)
        body = response.get_data(as_text=True)
        message = re.search(rf"(\S+)最多 {limit:,} 个字，当前 {count:,} 个字。", body)
        assert message, (page.key, name, limit, count)
        if model is not None:
            assert _stored(session, model, name, [text, text[:limit]]) == 0, (page.key, name)

    refused()


AT_THE_LIMIT = [
    ("project edit", "name"),
    ("project edit", "venue"),
    ("project edit", "remarks"),
    ("project edit", "lecturers-0-topic"),
    ("unit edit", "address"),
    ("my account", "display_name"),
    ("discipline edit", "name"),
    ("report edit", "summary"),
    ("roster edit", "workplace"),
]


@pytest.mark.parametrize(("key", "name"), AT_THE_LIMIT)
def test_a_text_of_exactly_the_limit_is_stored_whole(pages, signed_in, session, key, name):
    page = next(p for p in pages if p.key == key)
    model, limit = limit_of(page, name)
    text = (ALPHABET * limit)[:limit]
    response = _post(signed_in(page.account), page, name, text)
    assert response.status_code in (200, 302), response.status_code
    assert "个字，当前" not in response.get_data(as_text=True)
    assert _stored(session, model, name, [text]) == 1, (key, name)


def test_a_reason_typed_on_a_page_of_its_own_has_its_limit(login_as, session, demo_accounts):
    project = make_project(session, demo_accounts["pumch"], ProjectState.PUBLISHED)
    session.commit()
    page = act(login_as("bjcme"), "audit", "withdraw", [project.id]).get_data(as_text=True)
    reason = re.search(r"<textarea[^>]*name=\"reason\"[^>]*>", page).group(0)
    limit = rules.MAX_REASON
    assert f'maxlength="{limit}"' in reason and f'data-counter="{limit}"' in reason


def test_the_counter_under_a_field_reads_its_limit(login_as):
    html = login_as("pumch").get("/admin/projects/new/").get_data(as_text=True)
    script = re.search(r"<script[^>]*cme-counter\.js[^>]*>", html).group(0)
    assert 'data-typed="已输入 {count} / {limit} 字"' in script
    assert "超出 {over} 字" in script
    assert "nonce=" in script  # no inline script: the CSP allows it by its nonce
    assert re.search(r'id="name"[^>]*maxlength="200"', html) or re.search(
        r'maxlength="200"[^>]*id="name"', html
    )


def test_theory_hours_of_0_are_refused_for_the_rule_they_break(login_as, session, demo_accounts):
    project = make_project(session, demo_accounts["pumch"])
    session.commit()
    entry = login_as("pumch")
    page = Page("project edit", "pumch", f"/admin/projects/edit/?id={project.id}", (Project,))
    body = _post(entry, page, "theory_hours", "0").get_data(as_text=True)
    assert "理论学时应大于 0。" in body
    assert "创建记录失败" not in body and "保存记录失败" not in body
    session.expire_all()
    assert session.get(Project, project.id).theory_hours == 12
    assert rules.hours(0, required=False) is None  # 0 practice hours are fine
    assert str(rules.hours(-1, required=False, label="实践学时")) == "实践学时不能小于 0。"
    assert str(rules.hours(1.2, required=True, label="理论学时")) == (
        "理论学时以 0.5 为单位（如 1.5、2）。"
    )
    assert str(rules.hours(1001, required=True, label="理论学时")) == "理论学时最多 1,000。"


def test_a_refused_new_project_says_where_not_that_creating_failed(login_as):
    body = login_as("pumch").post("/admin/projects/new/", {"name": ""}).get_data(as_text=True)
    assert "请更正下方标出的内容。" in body
    assert "创建记录失败" not in body
