"""复制为新项目 copies the name too, but never silently: the form names the project copied
above 项目名称, and a copy saved under the same name is warned about (of the same year: a
duplicate at 上报; of another year: fine for the same project held again, else change it)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from models import Project, ProjectState
from tests.admin.test_projects import flashes, project_form
from tests.factories import make_project
from workflow import filing_rules

LATER = filing_rules.today() + timedelta(days=60)
NOTICE = re.compile(r'<div class="alert alert-warning[^"]*cme-copy-notice" id="name-copy">([^<]*)<')


def source(session, unit_account, name: str, year: int) -> Project:
    project = make_project(
        session,
        unit_account,
        ProjectState.PUBLISHED,
        year=year,
        name=name,
        start_date=date(year, 5, 1),
        end_date=date(year, 5, 2),
    )
    session.commit()
    return project


def save_copy(browser, session, original: Project, **changes):
    """The copy's form posted to its own address (?copy=<id>), as the page posts it."""
    address = f"/admin/projects/new/?copy={original.id}"
    data = project_form(
        session,
        name=original.name,
        year=str(LATER.year),
        start_date=LATER.isoformat(),
        end_date=LATER.isoformat(),
    )
    return browser.post(address, data | changes, token_from=address, follow_redirects=True)


def test_the_form_names_the_project_copied_above_the_name(
    login_as, browser, session, demo_accounts
):
    original = source(session, demo_accounts["bma_cardio"], "心衰规范化管理学习班", 2025)
    login_as("bma_cardio")
    form = browser.get(f"/admin/projects/new/?copy={original.id}").get_data(as_text=True)
    notice = NOTICE.search(form)
    assert notice, "no notice above 项目名称"
    assert notice.group(1) == (
        "这是“心衰规范化管理学习班”（2025年度）的副本，请修改项目名称；同一项目的新年度可保留原名称。"
    )
    # Above the name field, which still holds the copied name, and read with it.
    name_input = re.search(r'<input [^>]*id="name"[^>]*>', form).group(0)
    assert form.index(notice.group(0)) < form.index(name_input)
    assert 'value="心衰规范化管理学习班"' in name_input
    assert 'aria-describedby="name-copy"' in name_input
    # A new project (no copy) has no such notice.
    assert "cme-copy-notice" not in browser.get("/admin/projects/new/").get_data(as_text=True)


def test_a_copy_under_the_same_name_and_year_is_warned_about(
    login_as, browser, session, demo_accounts
):
    original = source(session, demo_accounts["bma_cardio"], "同名同年的学习班", LATER.year)
    login_as("bma_cardio")
    page = save_copy(browser, session, original)
    copies = session.scalars(select(Project).where(Project.name == "同名同年的学习班")).all()
    assert len(copies) == 2  # saved all the same: a warning, not a refusal
    assert (
        "项目“同名同年的学习班”与复制来源的名称和年度都相同，上报时将被视为重复项目，请修改项目名称。"
        in flashes(page)
    )


def test_a_copy_for_a_new_year_keeping_the_name_is_told_once(
    login_as, browser, session, demo_accounts
):
    original = source(session, demo_accounts["bma_cardio"], "年度学习班", LATER.year - 1)
    login_as("bma_cardio")
    said = flashes(save_copy(browser, session, original))
    assert (
        f"项目“年度学习班”沿用了复制来源（{LATER.year - 1}年度）的名称。"
        "如不是同一项目的新年度，请在上报前修改项目名称。"
    ) in said
    assert "重复项目" not in said


def test_a_renamed_copy_gets_no_warning(login_as, browser, session, demo_accounts):
    original = source(session, demo_accounts["bma_cardio"], "旧名称学习班", LATER.year)
    login_as("bma_cardio")
    said = flashes(save_copy(browser, session, original, name="新名称学习班"))
    assert "复制来源" not in said and "新名称学习班" in said
    assert session.scalar(select(Project).where(Project.name == "新名称学习班")) is not None


def test_a_refused_copy_keeps_its_notice_and_a_deleted_original_loses_nothing(
    login_as, browser, session, demo_accounts
):
    original = source(session, demo_accounts["bma_cardio"], "会被删除的学习班", LATER.year)
    login_as("bma_cardio")
    # 开始日期 left empty: the form comes back with its messages, the notice still above.
    refused = save_copy(browser, session, original, start_date="")
    assert "请更正下方标出的内容" in flashes(refused)
    assert NOTICE.search(refused.get_data(as_text=True))
    # The original deleted meanwhile: the copy is saved, nothing refused, no notice to give.
    address = f"/admin/projects/new/?copy={original.id}"
    token_page = browser.get(address)
    assert token_page.status_code == 200
    session.delete(session.get(Project, original.id))
    session.commit()
    data = project_form(
        session,
        name="会被删除的学习班",
        year=str(LATER.year),
        start_date=LATER.isoformat(),
        end_date=LATER.isoformat(),
    )
    saved = browser.post(address, data, token_from="/admin/projects/new/", follow_redirects=True)
    assert saved.status_code == 200
    assert session.scalar(select(Project).where(Project.name == "会被删除的学习班")) is not None
    assert "复制来源" not in flashes(saved)
