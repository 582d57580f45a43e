"""The project form as a secretary meets it: one message per field, a ``*`` on
every required field, selects that start on 请选择, why a returned project came
back, lecturer rows added and removed, and the manual's words."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

import workflow
from models import Project, ProjectState, rules
from models.vocabulary import LECTURER_FIELDS, LECTURER_REQUIRED, is_required
from tests.admin.test_projects import flashes, project_form
from tests.factories import make_project
from workflow import Action

NEW = "/admin/projects/new/"
REQUIRED = "此项为必填项。"
WTFORMS_REQUIRED = "该字段是必填字段"


class FormPage(HTMLParser):
    """The controls of a form page, their labels, selected options and errors."""

    def __init__(self, html: str):
        super().__init__()
        self.controls: dict[str, dict] = {}  # name -> attributes (first control of that name)
        self.labels: dict[str, str] = {}  # control id -> label text
        self.options: dict[str, list[tuple[str, str, bool]]] = {}  # select name -> options
        self.errors: dict[str, str] = {}  # control id -> its error text
        self._label_for = self._error_of = self._select = None
        self._option = None
        self._template_depth = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "template":
            self._template_depth += 1
        if self._template_depth:
            return
        if tag in ("input", "select", "textarea") and a.get("name"):
            self.controls.setdefault(a["name"], {"tag": tag, **a})
        if tag == "select":
            self._select = a.get("name")
            self.options[self._select] = []
        if tag == "option" and self._select:
            self._option = [a.get("value", ""), "", "selected" in a]
        if tag == "label" and a.get("for"):
            self._label_for = a["for"]
            self.labels[self._label_for] = ""
        if tag == "div" and a.get("id", "").endswith("-error"):
            self._error_of = a["id"][: -len("-error")]
            self.errors[self._error_of] = ""

    def handle_endtag(self, tag):
        if tag == "template":
            self._template_depth -= 1
        if self._template_depth:
            return
        if tag == "option" and self._option is not None:
            self.options[self._select].append(tuple(self._option))
            self._option = None
        if tag == "select":
            self._select = None
        if tag == "label":
            self._label_for = None
        if tag == "div":
            self._error_of = None

    def handle_data(self, data):
        if self._template_depth:
            return
        if self._option is not None:
            self._option[1] += data.strip()
        if self._label_for:
            self.labels[self._label_for] += data
        if self._error_of:
            self.errors[self._error_of] += data.strip()

    def label(self, name: str) -> str:
        return " ".join(self.labels.get(self.controls[name].get("id", name), "").split())


def page(response) -> FormPage:
    return FormPage(response.get_data(as_text=True))


def project_fields(form: FormPage) -> list[str]:
    return [name for name in rules.PROJECT_FIELDS if name in form.controls]


@pytest.mark.parametrize("username, issuer", [("pumch", True), ("bma_cardio", False)])
def test_every_required_field_is_starred_and_no_other(login_as, browser, username, issuer):
    login_as(username)
    form = page(browser.get(NEW))
    names = project_fields(form)
    # The issuer gives its approved number; a society's is assigned at publication.
    assert ("project_no" in names) is issuer
    assert len(names) == len(rules.PROJECT_FIELDS) - (0 if issuer else 1)
    for name in names:
        assert ("*" in form.label(name)) is is_required(name, issuer=issuer), name
    if issuer:
        assert form.label("project_no").startswith("项目编号") and "*" in form.label("project_no")
    # The lecturer rows (one empty row to start with is added by the script;
    # the template row is what it copies).
    html = browser.get(NEW).get_data(as_text=True)
    template = re.search(r'<template id="lecturer-row-template">(.*?)</template>', html, re.S)
    rows = FormPage(template.group(1))
    for name in LECTURER_FIELDS:
        label = rows.label(f"lecturers-__i__-{name}")
        assert ("*" in label) is (name in LECTURER_REQUIRED), name
    assert "带 * 号的项为必填项" in html


@pytest.mark.parametrize("username, issuer", [("pumch", True), ("bma_cardio", False)])
def test_each_missing_field_is_said_once_in_our_words(login_as, browser, session, username, issuer):
    login_as(username)
    empty = dict.fromkeys(rules.PROJECT_FIELDS, "")
    empty |= {"lecturers-0-title": "主任医师"}  # a row begun: its name and topic are missing
    response = browser.post(NEW, empty, token_from=NEW)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert WTFORMS_REQUIRED not in html
    form = FormPage(html)
    required = [name for name in rules.PROJECT_FIELDS if is_required(name, issuer=issuer)]
    for name in required:
        assert form.errors.get(form.controls[name]["id"]) == REQUIRED, name
    for name in LECTURER_REQUIRED:
        assert form.errors.get(f"lecturers-0-{name}") == REQUIRED, name
    assert html.count(REQUIRED) == len(required) + len(LECTURER_REQUIRED)
    assert session.scalar(select(Project).where(Project.name == "")) is None


def test_a_bad_value_is_said_once_not_also_missing(login_as, browser, session):
    login_as("bma_cardio")
    data = project_form(session, year="二〇二六", discipline="99999", start_date="明天")
    form = page(browser.post(NEW, data, token_from=NEW))
    assert form.errors["discipline"] == "请从列表中选择。"
    for name in ("year", "start_date"):
        assert form.errors[name] and REQUIRED not in form.errors[name], name


def test_selects_start_on_please_choose_and_a_missing_choice_is_refused(login_as, browser, session):
    login_as("pumch")
    form = page(browser.get(NEW))
    for name in ("level", "discipline", "mode"):
        first = form.options[name][0]
        assert first[1] == "请选择", name
        assert not any(selected for _, _, selected in form.options[name][1:]), name
    data = project_form(session, level="national", name="未选学科和方式的项目")
    del data["mode"]  # never touched
    data["discipline"] = "__None"  # left on 请选择
    response = browser.post(NEW, data, token_from=NEW)
    assert response.status_code == 200
    form = page(response)
    assert form.errors["mode"] == REQUIRED
    assert form.errors["discipline"] == REQUIRED
    assert session.scalar(select(Project).where(Project.name == "未选学科和方式的项目")) is None

    # A branch has one possible level: that level, no choice to make.
    browser.logout()
    login_as("bma_cardio")
    levels = page(browser.get(NEW)).options["level"]
    assert len(levels) == 1 and levels[0][1] != "请选择"


def returned_project(session, unit_name: str) -> Project:
    return session.scalar(
        select(Project)
        .where(Project.state == ProjectState.RETURNED)
        .where(Project.owner_unit.has(name=unit_name))
        .order_by(Project.id)
    )


def test_the_return_reason_heads_the_edit_form(login_as, browser, session, demo_accounts):
    project = returned_project(session, "北京医学会心血管病学分会")
    assert project is not None and project.return_reason
    login_as("bma_cardio")
    html = browser.get(f"/admin/projects/edit/?id={project.id}").get_data(as_text=True)
    banner = re.search(r'class="alert alert-warning project-return-notice".*?</div>', html, re.S)
    assert banner, "no reason banner"
    text = banner.group(0)
    assert project.return_reason in text and "北京医学会" in text and "设为可修改" in text
    assert html.index("project-return-notice") < html.index('<form action=""')
    # A draft was never returned: no banner.
    draft = make_project(
        session, demo_accounts["bma_cardio"], ProjectState.DRAFT, name="从未退回的项目"
    )
    session.commit()
    html = browser.get(f"/admin/projects/edit/?id={draft.id}").get_data(as_text=True)
    assert "project-return-notice" not in html


def test_a_withdrawn_then_returned_project_shows_both_reasons(
    login_as, browser, session, demo_accounts
):
    project = make_project(
        session, demo_accounts["pumch"], ProjectState.PUBLISHED, name="撤销后退回的项目"
    )
    workflow.apply(session, project, Action.WITHDRAW, demo_accounts["bjcme"], "举办日期与通知不符")
    workflow.apply(session, project, Action.UNLOCK, demo_accounts["bjcme"], "请改正举办日期")
    session.commit()
    login_as("pumch")
    html = browser.get(f"/admin/projects/edit/?id={project.id}").get_data(as_text=True)
    banner = re.search(r'project-return-notice".*?</div>', html, re.S).group(0)
    assert "请改正举办日期" in banner and "举办日期与通知不符" in banner
    assert banner.index("请改正举办日期") < banner.index("举办日期与通知不符")  # newest first


def test_lecturer_rows_are_added_removed_and_saved(login_as, browser, session):
    login_as("bma_cardio")
    created = browser.post(NEW, project_form(session, name="授课教师增删"), token_from=NEW)
    assert created.status_code == 302
    assert "已添加项目“授课教师增删”" in flashes(browser.get(created.headers["Location"]))
    project = session.scalar(select(Project).where(Project.name == "授课教师增删"))
    first, second = project.lecturers
    url = f"/admin/projects/edit/?id={project.id}"
    html = browser.get(url).get_data(as_text=True)
    version = re.search(r'name="seen_version" type="hidden" value="(\d+)"', html).group(1)
    # Each saved row carries its id and a (hidden) delete box, named the inline way.
    assert 'name="del-lecturers-0"' in html and 'name="lecturers-1-id"' in html

    data = project_form(session, name="授课教师增删", seen_version=version)
    data |= {
        "lecturers-0-id": str(first.id),
        "del-lecturers-0": "on",  # removed
        "lecturers-1-id": str(second.id),
        "lecturers-1-hours": "2.5",  # kept and changed
        "lecturers-2-name": "赵敏",  # added
        "lecturers-2-topic": "心电图判读",
        "lecturers-3-name": "",  # added and left empty: not saved
        "lecturers-3-topic": "",
    }
    saved = browser.post(url, data, token_from=url)
    assert saved.status_code == 302, flashes(saved)
    assert "已保存项目“授课教师增删”" in flashes(browser.get(saved.headers["Location"]))
    session.expire_all()
    lecturers = session.get(Project, project.id).lecturers
    assert [(lc.name, lc.topic, lc.hours) for lc in lecturers] == [
        ("陈静", "病例讨论", 2.5),
        ("赵敏", "心电图判读", None),
    ]


def test_the_form_speaks_the_manual(login_as, browser, session):
    login_as("bma_cardio")
    html = browser.get(NEW).get_data(as_text=True)
    assert "添加项目" in html and ">提交<" in html
    buttons = re.findall(r'<button[^>]*type="submit"[^>]*>(.*?)</button>', html, re.S)
    assert [b.strip() for b in buttons if b.strip() != "退出"] == ["提交", "提交并继续添加"]
    assert "保存并继续编辑" not in html and 'value="保存"' not in html  # Flask-Admin's buttons
    legends = re.findall(r'<legend class="card-header[^"]*">(.*?)</legend>', html)
    sections = [s.strip() for s in legends]
    assert sections == ["基本信息", "举办信息", "学时学分", "授课教师"]
    project = session.scalar(
        select(Project)
        .where(Project.state == ProjectState.DRAFT)
        .where(Project.owner_unit.has(name="北京医学会心血管病学分会"))
    )
    html = browser.get(f"/admin/projects/edit/?id={project.id}").get_data(as_text=True)
    assert "修改项目" in html and ">提交<" in html and "提交并继续添加" not in html
    assert "保存并继续编辑" not in html and "保存并添加另一个" not in html


def test_the_sections_hold_every_project_field_once():
    """The form's sections are written out by hand: a field added to
    ``rules.PROJECT_FIELDS`` and forgotten there would vanish from the form."""
    from admin_views.project_form import SECTIONS

    placed = [name for _, names in SECTIONS for name in names]
    assert sorted(placed) == sorted(rules.PROJECT_FIELDS)
