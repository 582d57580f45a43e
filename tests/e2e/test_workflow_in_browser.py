"""The manual's whole workflow, in Chromium, as the people who do it."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from sqlalchemy import select

from models import Project, ProjectState

# The development server may leave a static file's handle to the GC (see conftest).
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
S = ProjectState
NEW_NAME = "浏览器测试：心脏康复规范化培训班"
LECTURERS = (
    ("刘强", "主任医师", "阜外医院", "心脏康复总论", "3"),
    ("陈静", "副主任医师", "安贞医院", "运动处方", "2"),
)


# The project form's text inputs, as a branch secretary types them.
TYPED = {
    "principal": "刘强",
    "principal_title": "主任医师",
    "contact": "王秘书",
    "phone": "010-88398866",
    "start_date": "2026-10-10",
    "end_date": "2026-10-11",
    "venue": "北京市西城区",
    "audience": "心内科医师",
    "planned_participants": "120",
    "theory_hours": "10",
    "credits": "3",
}


def fill_project(page, *, name: str) -> None:
    for field, value in {"name": name, **TYPED}.items():
        page.fill(f"input[name={field}]", value)
    page.select_option("select[name=mode]", "face_to_face")
    page.evaluate(
        """() => { const s = document.querySelector('select[name=discipline]');
                   s.value = s.options[1].value; s.dispatchEvent(new Event('change')); }"""
    )


def add_lecturers(page) -> None:
    for name, title, unit, topic, hours in LECTURERS:
        index = page.locator("tr.lecturer-row").count()
        page.click("#lecturer-add")
        prefix = f"lecturers-{index}-"
        page.fill(f"input[name='{prefix}name']", name)
        page.fill(f"input[name='{prefix}title']", title)
        page.fill(f"input[name='{prefix}unit']", unit)
        page.fill(f"input[name='{prefix}topic']", topic)
        page.fill(f"input[name='{prefix}hours']", hours)


def tick_and_act(page, ids, action_title: str) -> None:
    """Tick the rows, then click the visible button by its Chinese text; it
    says how many rows are ticked."""
    button = page.locator("button.cme-list-button", has_text=action_title)
    assert button.is_disabled()
    for project_id in ids:
        page.check(f"input.action-checkbox[value='{project_id}']")
    assert button.inner_text() == f"{action_title} ({len(ids)})"
    assert page.locator("text=选中的").count() == 0
    button.click()
    page.wait_for_load_state()


def active_tab(page) -> str:
    return page.locator(".cme-status-tabs a.active").inner_text()


def shoot_list_at_both_widths(person, name: str) -> None:
    person.shot(f"{name}-1366")
    person.page.set_viewport_size({"width": 390, "height": 844})
    person.shot(f"{name}-390")
    person.page.set_viewport_size({"width": 1366, "height": 900})


def flash_text(page) -> str:
    return " ".join(page.locator(".alert").all_inner_texts())


def test_the_manuals_workflow(people, session, demo_accounts):
    cardio = people()
    page = cardio.page

    # 1. The branch logs in on the Chinese login page and adds a project.
    cardio.go("/login")
    assert "用户名" in page.content() or "帐号" in page.content()
    cardio.shot("login-page")
    cardio.login("bma_cardio")
    cardio.go("/admin/projects/new/")
    fill_project(page, name="")
    add_lecturers(page)
    page.locator("form.admin-form [type=submit]").first.click()
    page.wait_for_load_state()
    assert "此项为必填项" in page.locator("input[name=name] >> xpath=..").inner_text() or (
        "此项为必填项" in page.content()
    )
    cardio.shot("field-error")
    page.fill("input[name=name]", NEW_NAME)
    page.locator("form.admin-form [type=submit]").first.click()
    page.wait_for_url("**/admin/projects/**")
    created = session.scalar(select(Project).where(Project.name == NEW_NAME))
    assert created is not None and len(created.lecturers) == 2
    cardio.shot("project-added")

    # 2. It ticks the new project and two drafts, and reports them.
    drafts = session.scalars(
        select(Project.id).where(
            Project.owner_unit_id == demo_accounts["bma_cardio"].unit_id,
            Project.state == S.DRAFT,
            Project.id != created.id,
        )
    ).all()
    ids = [created.id, *drafts[:2]]
    assert len(ids) == 3
    cardio.go("/admin/projects/")
    assert active_tab(page).startswith("待处理")
    shoot_list_at_both_widths(cardio, "my-projects-list")
    tick_and_act(page, ids, "上报所选项目")
    assert "已处理 3 项" in flash_text(page)
    cardio.shot("reported")
    cardio.logout()

    # 3. The society finds them under 待审阅 and sends one back with a reason.
    bma = people()
    bma.login("bma")
    bma.page.locator("a.card", has_text="待审阅", has_not_text="执行情况").click()
    bma.page.wait_for_load_state()
    for project_id in ids:
        assert bma.page.locator(f"input.action-checkbox[value='{project_id}']").count() == 1
    bma.shot("awaiting-review")
    bma.go("/admin/review/")
    assert active_tab(bma.page).startswith("待审阅")
    shoot_list_at_both_widths(bma, "review-list")
    tick_and_act(bma.page, [created.id], "设为可修改")
    bma.page.fill("textarea[name=reason]", "请补充授课教师的职称")
    bma.shot("unlock-reason")
    bma.page.locator("button[type=submit]", has_text="确定").click()
    bma.page.wait_for_load_state()
    assert "已处理 1 项" in flash_text(bma.page)

    # 4. The branch sees 退回修改 and the reason, edits, and reports again.
    cardio.login("bma_cardio")
    cardio.go("/admin/projects/")
    row = page.locator("tr", has=page.locator(f"input.action-checkbox[value='{created.id}']"))
    assert "退回修改" in row.inner_text() and "请补充授课教师的职称" in row.inner_text()
    cardio.shot("returned-with-reason")
    cardio.go(f"/admin/projects/edit/?id={created.id}")
    page.fill("input[name=theory_hours]", "12")
    page.locator("form.admin-form [type=submit]").first.click()
    page.wait_for_load_state()
    cardio.go("/admin/projects/")
    tick_and_act(page, [created.id], "上报所选项目")
    assert "已处理 1 项" in flash_text(page)
    cardio.logout()

    # 5. The society reports all three; the committee publishes them.
    bma.go("/admin/review/")
    tick_and_act(bma.page, ids, "上报所选项目")
    assert "已处理 3 项" in flash_text(bma.page)
    committee = people()
    committee.login("bjcme")
    committee.go("/admin/audit/")
    assert active_tab(committee.page).startswith("待审核")
    shoot_list_at_both_widths(committee, "audit-list")
    tick_and_act(committee.page, ids, "审核通过并公布")
    assert "已处理 3 项" in flash_text(committee.page)
    session.expire_all()
    published = session.scalars(select(Project).where(Project.id.in_(ids))).all()
    assert all(p.state is S.PUBLISHED and p.project_no for p in published)
    # The 年度 + 状态 bar, as the manual's screenshot shows it.
    committee.go("/admin/audit/")
    committee.page.select_option("#cme-year", str(created.year))
    committee.page.select_option("#cme-status", "published")
    committee.page.fill("#cme-search", "浏览器测试")
    committee.page.locator(".cme-search-bar button[type=submit]").click()
    committee.page.wait_for_load_state()
    assert "status=published" in committee.page.url and f"year={created.year}" in committee.page.url
    assert active_tab(committee.page).startswith("公布(已通过)")
    listing = committee.page.content()
    assert created.project_no in listing
    assert committee.page.locator("input.action-checkbox").count() == 1  # only ours has the keyword
    committee.shot("published")

    # 6. An anonymous visitor finds them on the public catalog and opens one.
    visitor = people()
    visitor.go("/")
    visitor.page.fill("input[name=q]", "浏览器测试")
    visitor.page.locator("form [type=submit]").first.click()
    visitor.page.wait_for_load_state()
    assert NEW_NAME in visitor.page.content()
    visitor.shot("public-search")
    visitor.go(f"/projects/{created.id}")
    assert NEW_NAME in visitor.page.content() and "刘强" in visitor.page.content()
    visitor.shot("public-permalink")

    # 7. The committee downloads CSV and XLSX of its filtered list.
    expected = {p.name for p in published}
    with committee.page.expect_download() as download:
        committee.page.evaluate(
            "url => { window.location.href = url }",
            committee.base + "/admin/audit/export/csv/?search=浏览器测试",
        )
    raw = download.value.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert download.value.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["年度", "项目编号", "项目名称"]
    assert {row[2] for row in rows[1:]} == {NEW_NAME}
    with committee.page.expect_download() as download:
        committee.page.evaluate(
            "url => { window.location.href = url }",
            committee.base + "/admin/audit/export/xlsx/?flt0_1=published",
        )
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    header = [c.value for c in sheet[1]]
    names = {row[header.index("项目名称")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert expected <= names
    assert all(
        isinstance(row[header.index("学分")], (int, float))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    )

    # 8. Another branch tries the first branch's URLs and finds nothing.
    peds = people()
    peds.login("bma_peds")
    for path in (
        f"/admin/projects/edit/?id={created.id}",
        f"/admin/projects/details/?id={created.id}",
    ):
        response = peds.go(path)
        assert response.status == 404
        assert NEW_NAME not in peds.page.content()
    peds.shot("other-branch-not-found")
    # A 404 page logs a console error for the page itself; that one is expected.
    peds.errors = [e for e in peds.errors if "404" not in e]
