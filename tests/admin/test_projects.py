"""The project screens through the real HTTP stack: the manual's whole
workflow, field errors, bulk actions, and CSRF."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Discipline, Project, ProjectEvent, ProjectState
from tests.factories import make_project

S = ProjectState


# The 添加项目 form as a person fills it in, with one lecturer (the cluster test's users
# post it too, with their own name, level, organiser and discipline).
FILLED_FORM = {
    "year": "2026",
    "name": "心力衰竭规范化管理学习班",
    "level": "society_i",
    "organizer": "北京医学会心血管病学分会",
    "co_organizer": "",
    "principal": "刘强",
    "principal_title": "主任医师",
    "contact": "王秘书",
    "phone": "010-88398866",
    "start_date": "2026-09-10",
    "end_date": "2026-09-12",
    "venue": "北京市西城区",
    "mode": "face_to_face",
    "audience": "心内科医师",
    "planned_participants": "150",
    "theory_hours": "12",
    "practice_hours": "3",
    "credits": "4.5",
    "remarks": "",
    "lecturers-0-name": "刘强",
    "lecturers-0-title": "主任医师",
    "lecturers-0-unit": "阜外医院",
    "lecturers-0-topic": "心衰指南解读",
    "lecturers-0-hours": "3",
}


def project_form(session, **changes) -> dict:
    discipline = session.scalar(select(Discipline).where(Discipline.name == "临床内科学"))
    data = {
        **FILLED_FORM,
        "discipline": str(discipline.id),
        "lecturers-1-name": "陈静",
        "lecturers-1-title": "副主任医师",
        "lecturers-1-unit": "安贞医院",
        "lecturers-1-topic": "病例讨论",
        "lecturers-1-hours": "2",
    }
    return data | changes


def act(browser, view: str, action: str, ids, *, follow_redirects: bool = False, **extra):
    """A bulk action of the list ``view`` on ``ids``, posted as its form does (``extra``:
    more fields, such as ``reason_confirmed`` and ``reason``)."""
    data = {"action": action, "rowid": [str(i) for i in ids], **extra}
    return browser.post(
        f"/admin/{view}/action/",
        data,
        token_from=f"/admin/{view}/",
        follow_redirects=follow_redirects,
    )


def flashes(response) -> str:
    return " ".join(
        re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    )


def state_of(session, project_id):
    session.expire_all()
    project = session.get(Project, project_id)
    return project.state if project else None


def test_the_manuals_workflow_end_to_end(login_as, browser, session):
    # A branch adds a project with two lecturers.
    login_as("bma_cardio")
    response = browser.post(
        "/admin/projects/new/", project_form(session), token_from="/admin/projects/new/"
    )
    assert response.status_code == 302, flashes(browser.get("/admin/projects/"))
    project = session.scalar(select(Project).where(Project.name == "心力衰竭规范化管理学习班"))
    assert project.owner_unit.name == "北京医学会心血管病学分会"
    assert [lecturer.name for lecturer in project.lecturers] == ["刘强", "陈静"]
    assert project.state is S.DRAFT

    # It reports it.
    page = act(browser, "projects", "report", [project.id], url="/admin/projects/")
    assert page.status_code == 302
    assert "已上报总会" in browser.get("/admin/projects/").get_data(as_text=True)
    assert state_of(session, project.id) is S.AT_SOCIETY
    browser.logout()

    # The society sends it back with a reason, through the confirmation page.
    login_as("bma")
    ask = act(browser, "review", "unlock", [project.id])
    assert ask.status_code == 200 and "心力衰竭规范化管理学习班" in ask.get_data(as_text=True)
    done = act(
        browser, "review", "unlock", [project.id], reason_confirmed="1", reason="请补充授课学时"
    )
    assert done.status_code == 302
    assert state_of(session, project.id) is S.RETURNED
    browser.logout()

    # The branch sees 退回修改 and the reason, edits, and reports again.
    login_as("bma_cardio")
    listing = browser.get("/admin/projects/").get_data(as_text=True)
    assert "退回修改" in listing and "请补充授课学时" in listing
    details = browser.get(f"/admin/projects/details/?id={project.id}").get_data(as_text=True)
    assert "请补充授课学时" in details
    edit_url = f"/admin/projects/edit/?id={project.id}"
    version = re.search(
        r'id="seen_version" name="seen_version" type="hidden" value="(\d+)"',
        browser.get(edit_url).get_data(as_text=True),
    ).group(1)
    form = project_form(session, theory_hours="15", seen_version=version)
    form |= {
        "lecturers-0-id": str(project.lecturers[0].id),
        "lecturers-1-id": str(project.lecturers[1].id),
    }
    assert browser.post(edit_url, form, token_from=edit_url).status_code == 302
    session.expire_all()
    assert session.get(Project, project.id).theory_hours == 15
    assert len(session.get(Project, project.id).lecturers) == 2
    act(browser, "projects", "report", [project.id])
    assert state_of(session, project.id) is S.AT_SOCIETY
    browser.logout()

    # The society reports it upward; the committee publishes it.
    login_as("bma")
    act(browser, "review", "report", [project.id])
    assert state_of(session, project.id) is S.AT_COMMITTEE
    browser.logout()
    login_as("bjcme")
    act(browser, "audit", "publish", [project.id])
    assert state_of(session, project.id) is S.PUBLISHED
    number = session.get(Project, project.id).project_no
    assert number and number in browser.get("/admin/audit/?status=published").get_data(as_text=True)

    # It withdraws it (a reason is required) and publishes it again.
    refused = act(browser, "audit", "withdraw", [project.id], reason_confirmed="1", reason=" ")
    assert state_of(session, project.id) is S.PUBLISHED
    assert refused.status_code == 200  # the reason form again
    act(browser, "audit", "withdraw", [project.id], reason_confirmed="1", reason="日期有误")
    assert state_of(session, project.id) is S.AT_COMMITTEE
    act(browser, "audit", "publish", [project.id])
    assert state_of(session, project.id) is S.PUBLISHED
    assert session.get(Project, project.id).project_no == number

    history = browser.get(f"/admin/audit/details/?id={project.id}").get_data(as_text=True)
    for word in ("添加", "上报所选项目", "设为可修改", "审核通过并公布", "撤销公布", "日期有误"):
        assert word in history
    actions = session.scalars(
        select(ProjectEvent.action)
        .where(ProjectEvent.project_id == project.id)
        .order_by(ProjectEvent.id)
    ).all()
    assert actions == [
        "create",
        "report",
        "unlock",
        "edit",
        "report",
        "report",
        "publish",
        "withdraw",
        "publish",
    ]


def test_issuer_reports_straight_to_the_committee(login_as, browser, session):
    login_as("pumch")
    form = project_form(
        session, level="national", project_no="2026-01-01-099(国)", organizer="北京协和医院"
    )
    assert (
        browser.post("/admin/projects/new/", form, token_from="/admin/projects/new/").status_code
        == 302
    )
    project = session.scalar(select(Project).where(Project.project_no == "2026-01-01-099(国)"))
    act(browser, "projects", "report", [project.id])
    assert state_of(session, project.id) is S.AT_COMMITTEE
    browser.logout()
    login_as("bjcme")
    act(browser, "audit", "publish", [project.id])
    session.expire_all()
    published = session.get(Project, project.id)
    assert (published.state, published.project_no) == (S.PUBLISHED, "2026-01-01-099(国)")


def test_an_issuer_must_give_its_project_number(login_as, browser, session):
    login_as("pumch")
    form = project_form(session, level="national", organizer="北京协和医院")
    page = browser.post("/admin/projects/new/", form, token_from="/admin/projects/new/")
    assert page.status_code == 200
    assert "此项为必填项" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "此项为必填项"),
        ("end_date", "2026-09-01", "结束日期不能早于开始日期"),
        ("credits", "4.3", "以0.5为单位"),
        ("planned_participants", "0", "1至100000"),
        ("phone", "12", "电话号码"),
        ("lecturers-1-topic", "", "此项为必填项"),
        ("discipline", "99999", "请从列表中选择"),
        ("level", "national", "请从列表中选择"),  # a branch files society projects only
    ],
)
def test_field_errors_are_chinese_and_nothing_is_saved(
    login_as, browser, session, field, value, message
):
    login_as("bma_cardio")
    before = session.scalar(select(Project.id).order_by(Project.id.desc()).limit(1))
    page = browser.post(
        "/admin/projects/new/",
        project_form(session, **{field: value}),
        token_from="/admin/projects/new/",
    )
    assert page.status_code == 200
    assert message in page.get_data(as_text=True)
    assert session.scalar(select(Project.id).order_by(Project.id.desc()).limit(1)) == before


def test_bulk_report_counts_and_names_the_skipped(login_as, browser, session, demo_accounts):
    cardio = demo_accounts["bma_cardio"]
    drafts = [make_project(session, cardio, S.DRAFT) for _ in range(3)]
    reported = make_project(session, cardio, S.AT_SOCIETY, name="已经上报的项目")
    session.commit()
    login_as("bma_cardio")
    response = act(browser, "projects", "report", [p.id for p in drafts] + [reported.id])
    text = flashes(browser.get(response.headers["Location"]))
    assert "3" in text and "上报所选项目" in text
    assert "1 项未处理" in text and "已经上报的项目" in text and "已上报总会" in text
    assert all(state_of(session, p.id) is S.AT_SOCIETY for p in drafts)


def test_the_owner_cannot_edit_or_delete_what_it_no_longer_holds(
    login_as, browser, session, demo_accounts
):
    project = make_project(
        session, demo_accounts["bma_cardio"], S.AT_SOCIETY, name="不可修改的项目"
    )
    session.commit()
    login_as("bma_cardio")
    edit_url = f"/admin/projects/edit/?id={project.id}"
    page = browser.get(edit_url)
    assert page.status_code == 302  # to the details page, with the reason
    form = project_form(session, name="偷偷修改", seen_version=str(project.version))
    browser.post(edit_url, form, token_from="/admin/projects/")
    delete = browser.post(
        "/admin/projects/delete/", {"id": str(project.id)}, token_from="/admin/projects/"
    )
    assert delete.status_code == 302
    session.expire_all()
    kept = session.get(Project, project.id)
    assert kept is not None and kept.name == "不可修改的项目"
    listing = browser.get("/admin/projects/").get_data(as_text=True)
    assert f"/admin/projects/edit/?id={project.id}&" not in listing


def test_a_stale_edit_form_is_refused(login_as, browser, session, demo_accounts):
    project = make_project(session, demo_accounts["bma_cardio"], S.DRAFT)
    session.commit()
    login_as("bma_cardio")
    edit_url = f"/admin/projects/edit/?id={project.id}"
    form = project_form(session, name="旧表单的修改", seen_version=str(project.version - 1 or 99))
    page = browser.post(edit_url, form, token_from=edit_url)
    assert "已被他人修改" in flashes(page) or "已被他人修改" in flashes(browser.get(edit_url))
    session.expire_all()
    assert session.get(Project, project.id).name != "旧表单的修改"


def test_actions_an_account_can_never_take_are_not_offered(login_as, browser):
    expected = {
        "bma_cardio": ("projects", {"report", "delete"}),
        "bma": ("review", {"report", "unlock"}),
        "bjcme": ("audit", {"publish", "unlock", "withdraw"}),
    }
    for username, (view, actions) in expected.items():
        login_as(username)
        html = browser.get(f"/admin/{view}/").get_data(as_text=True)
        offered = set(re.findall(r'<button[^>]*name="action"[^>]*value="(\w+)"', html))
        assert offered == actions, (username, offered)
        browser.logout()


def test_the_form_cannot_choose_owner_state_or_number(login_as, browser, session, demo_accounts):
    login_as("bma_cardio")
    foreign_unit = demo_accounts["pumch"].unit_id
    form = project_form(session, name="夹带私货的项目") | {
        "owner_unit": str(foreign_unit),
        "owner_unit_id": str(foreign_unit),
        "society_id": "",
        "state": "published",
        "project_no": "2026-XH-99999",
        "version": "77",
    }
    assert (
        browser.post("/admin/projects/new/", form, token_from="/admin/projects/new/").status_code
        == 302
    )
    project = session.scalar(select(Project).where(Project.name == "夹带私货的项目"))
    assert project.owner_unit_id == demo_accounts["bma_cardio"].unit_id
    assert project.society_id == demo_accounts["bma"].unit_id
    assert (project.state, project.project_no, project.version) == (S.DRAFT, None, 1)


def test_inline_lecturers_belong_to_their_project(login_as, browser, session, demo_accounts):
    mine = make_project(session, demo_accounts["bma_cardio"], S.DRAFT)
    theirs = make_project(session, demo_accounts["bma_peds"], S.DRAFT)
    session.commit()
    foreign = theirs.lecturers[0]
    foreign_id, foreign_name = foreign.id, foreign.name
    login_as("bma_cardio")
    edit_url = f"/admin/projects/edit/?id={mine.id}"
    form = project_form(session, seen_version=str(mine.version))
    form |= {"lecturers-0-id": str(foreign_id), "lecturers-0-name": "篡改"}
    browser.post(edit_url, form, token_from=edit_url)
    session.expire_all()
    from models import Lecturer

    kept = session.get(Lecturer, foreign_id)
    assert (kept.project_id, kept.name) == (theirs.id, foreign_name)


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("bma_cardio", {"未上报": S.DRAFT, "退回修改": S.RETURNED}),
        ("bma", {"待审阅": S.AT_SOCIETY}),
        ("bjcme", {"待审核": S.AT_COMMITTEE}),
    ],
)
def test_the_dashboard_counts_link_to_the_filtered_lists(
    login_as, browser, session, demo_accounts, username, expected
):
    import permissions

    login_as(username)
    html = browser.get("/admin/").get_data(as_text=True)
    for title, state in expected.items():
        card = re.search(
            rf'<a class="card[^"]*" href="([^"]+)">\s*<div class="card-body">\s*'
            rf'<div class="text-muted">{title}</div>\s*<div class="display-4[^"]*">(\d+)</div>',
            html,
        )
        assert card, title
        url, count = card.group(1).replace("&amp;", "&"), int(card.group(2))
        rows = session.scalars(
            permissions.visible_projects(demo_accounts[username]).where(Project.state == state)
        ).all()
        assert count == len(rows) > 0
        listing = browser.get(url).get_data(as_text=True)
        assert f"({count})" in listing  # the list's total
        assert all(p.name in listing for p in rows)
