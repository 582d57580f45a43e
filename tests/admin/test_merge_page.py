"""Two editors (issue 26): when a save is refused because someone else saved first, the
merge page shows the saved values and the typed ones side by side per field (the
lecturers as a block), lets the editor keep or take each, and saves the merge against
the new version. Nothing typed is lost: every typed value is on the page."""

from __future__ import annotations

from html.parser import HTMLParser

from sqlalchemy import select

from models import Lecturer, Project, ProjectState
from tests.admin.test_projects import flashes, project_form

S = ProjectState
NEW = "/admin/projects/new/"


class FormValues(HTMLParser):
    """What a browser posts from the page's first form whose class has ``css``: every
    named input (radios and checkboxes only when checked), select and textarea, in
    order; ``radios`` maps each radio group to its values (for choosing)."""

    def __init__(self, html: str, css: str):
        super().__init__(convert_charrefs=True)
        self.css, self.values, self.radios = css, [], {}
        self._inside = self._done = False
        self._template = 0
        self._select = self._first_option = self._textarea = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v if v is not None else "" for k, v in attrs}
        if tag == "form" and not self._done and self.css in a.get("class", "").split():
            self._inside = True
        if not self._inside:
            return
        if tag == "template":
            self._template += 1
        elif tag == "option" and self._select is not None:
            self._option(a)
        elif self._template or not a.get("name"):
            return
        elif tag == "input":
            self._input(a)
        elif tag == "select":
            self._select, self._select_name, self._first_option = a["name"], a["name"], None
        elif tag == "textarea":
            self._textarea = [a["name"], ""]

    def _option(self, a):
        if self._first_option is None:
            self._first_option = a.get("value", "")
        if "selected" in a:
            self.values.append((self._select, a.get("value", "")))
            self._select = "chosen"

    def _input(self, a):
        kind = a.get("type", "text")
        if kind == "radio":
            self.radios.setdefault(a["name"], []).append(a.get("value", ""))
        if kind in ("submit", "button") or (kind in ("radio", "checkbox") and "checked" not in a):
            return
        self.values.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag):
        if not self._inside:
            return
        if tag == "template":
            self._template -= 1
        elif tag == "select" and self._select is not None:
            if self._select != "chosen":
                self.values.append((self._select_name, self._first_option or ""))
            self._select = None
        elif tag == "textarea" and self._textarea:
            # As a browser reads it: the newline right after <textarea> is not content.
            name, text = self._textarea
            self.values.append((name, text.removeprefix("\r\n").removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self._inside, self._done = False, True

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def as_dict(self) -> dict:
        return dict(self.values)


def form_of(browser, url: str, css: str = "project-form") -> dict:
    return FormValues(browser.get(url).get_data(as_text=True), css).as_dict()


def two_editors(login_as, another_browser, session, name: str):
    """A project added by 心血管病学分会, and two people of that unit signed in."""
    first = login_as("bma_cardio")
    assert first.post(NEW, project_form(session, name=name), token_from=NEW).status_code == 302
    project = session.scalar(select(Project).where(Project.name == name))
    second = another_browser()
    assert second.login("bma_cardio").status_code == 302
    return first, second, project


def reread(session, project_id) -> Project:
    session.expire_all()
    return session.get(Project, project_id)


def test_the_second_editor_merges_fields_and_loses_nothing(login_as, another_browser, session):
    a, b, project = two_editors(login_as, another_browser, session, "两位编辑的项目")
    edit = f"/admin/projects/edit/?id={project.id}"
    tab_a, tab_b = form_of(a, edit), form_of(b, edit)

    # A renames the project and changes the lecturer's topic, and saves first.
    tab_a |= {"name": "甲改的名称", "lecturers-0-topic": "甲改的授课内容"}
    assert a.post(edit, tab_a).status_code == 302

    # B, on the old version, renames it too and writes 备注 and 举办地点.
    tab_b |= {"name": "乙改的名称", "remarks": "乙写的备注", "venue": "乙改的地点"}
    merge = b.post(edit, tab_b)
    assert merge.status_code == 200
    html = merge.get_data(as_text=True)
    assert "已被他人修改" in flashes(merge)
    # Both versions of each differing field, side by side; every typed value is there.
    for text in ("甲改的名称", "乙改的名称", "乙写的备注", "乙改的地点", "甲改的授课内容"):
        assert text in html, text
    # 项目名称 was changed on both sides; 举办地点 by B alone, the lecturers by A alone.
    assert html.count("双方都修改了此项") == 1
    assert (
        "双方都修改了此项" in html[html.index('id="merge-name"') : html.index('id="merge-remarks"')]
    )
    page = FormValues(html, "project-merge")
    assert set(page.radios) >= {"name", "remarks", "venue", "merge_lecturers"}
    chosen = page.as_dict()
    # Proposed: B's own changes kept; the lecturers, which B did not touch, as A saved them.
    assert chosen["name"] == "乙改的名称" and chosen["remarks"] == "乙写的备注"
    assert chosen["merge_lecturers"] == "theirs"

    # B takes A's name and keeps the rest of its own.
    saved = b.post(edit, chosen | {"name": "甲改的名称"})
    assert saved.status_code == 302, flashes(saved)
    kept = reread(session, project.id)
    assert kept.name == "甲改的名称"
    assert (kept.remarks, kept.venue) == ("乙写的备注", "乙改的地点")
    assert [lec.topic for lec in kept.lecturers] == ["甲改的授课内容", "病例讨论"]


def test_the_lecturers_are_kept_or_taken_as_a_block(login_as, another_browser, session):
    a, b, project = two_editors(login_as, another_browser, session, "讲者合并的项目")
    edit = f"/admin/projects/edit/?id={project.id}"
    tab_a, tab_b = form_of(a, edit), form_of(b, edit)
    tab_a |= {"lecturers-0-topic": "甲改的授课内容"}
    assert a.post(edit, tab_a).status_code == 302
    # B removes the second lecturer and adds a third.
    tab_b |= {
        "del-lecturers-1": "y",
        "lecturers-2-name": "乙加的讲者",
        "lecturers-2-title": "主治医师",
        "lecturers-2-unit": "朝阳医院",
        "lecturers-2-topic": "乙加的课",
        "lecturers-2-hours": "1",
    }
    merge = b.post(edit, tab_b)
    html = merge.get_data(as_text=True)
    assert "乙加的讲者" in html and "甲改的授课内容" in html
    chosen = FormValues(html, "project-merge").as_dict()
    assert chosen["merge_lecturers"] == "mine"  # both changed them: B's typing proposed
    assert b.post(edit, chosen).status_code == 302
    kept = reread(session, project.id)
    assert sorted((lec.name, lec.topic) for lec in kept.lecturers) == [
        ("乙加的讲者", "乙加的课"),
        ("刘强", "心衰指南解读"),
    ]

    # The same conflict answered the other way keeps A's lecturers untouched.
    tab_a, tab_b = form_of(a, edit), form_of(b, edit)
    assert a.post(edit, tab_a | {"remarks": "甲再改"}).status_code == 302
    merge = b.post(edit, tab_b | {"lecturers-0-topic": "乙改的课"})
    chosen = FormValues(merge.get_data(as_text=True), "project-merge").as_dict()
    assert b.post(edit, chosen | {"merge_lecturers": "theirs"}).status_code == 302
    kept = reread(session, project.id)
    assert kept.remarks == "甲再改"
    assert sorted(lec.topic for lec in kept.lecturers) == ["乙加的课", "心衰指南解读"]
    assert session.scalar(select(Lecturer.id).where(Lecturer.topic == "乙改的课")) is None


def test_a_merge_refused_again_when_a_third_save_came_between(login_as, another_browser, session):
    a, b, project = two_editors(login_as, another_browser, session, "三次保存的项目")
    edit = f"/admin/projects/edit/?id={project.id}"
    tab_a, tab_b = form_of(a, edit), form_of(b, edit)
    assert a.post(edit, tab_a | {"remarks": "甲一"}).status_code == 302
    first = FormValues(
        b.post(edit, tab_b | {"venue": "乙的地点"}).get_data(as_text=True), "project-merge"
    )
    # A saves again before B's merge: B's merge is itself merged, nothing lost.
    assert a.post(edit, form_of(a, edit) | {"remarks": "甲二"}).status_code == 302
    second = b.post(edit, first.as_dict())
    assert second.status_code == 200 and "乙的地点" in second.get_data(as_text=True)
    chosen = FormValues(second.get_data(as_text=True), "project-merge").as_dict()
    assert b.post(edit, chosen).status_code == 302
    kept = reread(session, project.id)
    assert (kept.remarks, kept.venue) == ("甲二", "乙的地点")


def test_back_and_submit_after_a_save_says_it_is_saved(login_as, session):
    browser = login_as("bma_cardio")
    assert (
        browser.post(NEW, project_form(session, name="保存后返回"), token_from=NEW).status_code
        == 302
    )
    project = session.scalar(select(Project).where(Project.name == "保存后返回"))
    edit = f"/admin/projects/edit/?id={project.id}"
    tab = form_of(browser, edit) | {"remarks": "改一次"}
    assert browser.post(edit, tab).status_code == 302
    version = reread(session, project.id).version
    again = browser.post(edit, tab)  # Back, then 提交 once more: the same values
    assert again.status_code == 302
    assert "这些修改已经保存" in flashes(browser.get(again.headers["Location"]))
    assert reread(session, project.id).version == version


def test_a_save_costs_the_same_with_the_merge_fields(login_as, session, count_statements):
    """The seen values ride in the form: a save that is not refused reads and writes
    what it did before (no statement for the merge unless there is one)."""
    browser = login_as("bma_cardio")
    browser.post(NEW, project_form(session, name="计数的项目"), token_from=NEW)
    project = session.scalar(select(Project).where(Project.name == "计数的项目"))
    edit = f"/admin/projects/edit/?id={project.id}"
    counts = []
    for remarks, keep_seen in (("一", False), ("二", True)):
        tab = form_of(browser, edit) | {"remarks": remarks}
        if not keep_seen:
            tab.pop("seen_values")
        with count_statements() as counter:
            assert browser.client.post(edit, data=tab).status_code == 302
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
