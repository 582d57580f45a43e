"""Two committee trees (issue 15, finding 1): each committee keeps its own
discipline list; no discipline of one tree is visible to or editable by the
other, in the panel, the project form, the list filters, the public pages and
the API. A society edits its own unit's contact details, never its name."""

from __future__ import annotations

import re

import pytest
from flask_security import hash_password
from sqlalchemy import select

from demo import DEMO_PASSWORD
from models import Discipline, ProjectState, Unit
from models.discipline import DEFAULT_DISCIPLINES
from tests.factories import make_project, make_tree

BEIJING_ONLY = "北京特有学科"
OTHER_ONLY = "外省特有学科"


@pytest.fixture
def trees(demo_accounts, session):
    """The demo tree, with one discipline renamed to a name only it has, and a
    second tree (its committee created like ``create-committee`` does: the
    default list seeded) whose accounts can log in."""
    beijing = demo_accounts["bjcme"].unit_id
    renamed = session.scalar(
        select(Discipline).where(Discipline.committee_id == beijing, Discipline.name == "药学")
    )
    renamed.name = BEIJING_ONLY
    other = make_tree(session, "sh_")
    for user in other.values():
        user.password = hash_password(DEMO_PASSWORD)
    own = session.scalar(
        select(Discipline).where(
            Discipline.committee_id == other["committee"].unit_id, Discipline.name == "药学"
        )
    )
    own.name = OTHER_ONLY
    session.commit()
    return {"demo": demo_accounts, "other": other, "beijing_only": renamed.id, "other_only": own.id}


def _names(session, committee_id):
    stmt = select(Discipline.name).where(Discipline.committee_id == committee_id)
    return set(session.scalars(stmt))


def test_a_new_committee_starts_with_its_own_default_list(trees, session):
    other = trees["other"]["committee"].unit_id
    assert _names(session, other) == (set(DEFAULT_DISCIPLINES) - {"药学"}) | {OTHER_ONLY}


def test_another_committee_sees_only_its_own_list(trees, signed_in, session):
    browser = signed_in("sh_committee")
    body = browser.get("/admin/disciplines/?page_size=100").get_data(as_text=True)
    assert OTHER_ONLY in body and BEIJING_ONLY not in body
    details = browser.get(f"/admin/disciplines/details/?id={trees['beijing_only']}")
    assert details.status_code == 404
    assert browser.get(f"/admin/disciplines/edit/?id={trees['beijing_only']}").status_code == 404


def test_another_committee_cannot_rename_or_deactivate_beijings(trees, signed_in, session):
    browser = signed_in("sh_committee")
    target = trees["beijing_only"]
    response = browser.post(
        f"/admin/disciplines/edit/?id={target}",
        {"name": "改名", "sort_order": "1"},
        token_from="/admin/disciplines/",
    )
    assert response.status_code == 404
    browser.post(
        "/admin/disciplines/action/",
        {"action": "deactivate", "rowid": [str(target)]},
        token_from="/admin/disciplines/",
    )
    session.expire_all()
    row = session.get(Discipline, target)
    assert (row.name, row.active) == (BEIJING_ONLY, True)


def test_a_discipline_added_by_one_committee_stays_in_its_tree(trees, signed_in, session):
    browser = signed_in("sh_committee")
    response = browser.post("/admin/disciplines/new/", {"name": "运动医学", "sort_order": ""})
    assert response.status_code == 302
    added = session.scalar(select(Discipline).where(Discipline.name == "运动医学"))
    assert added.committee_id == trees["other"]["committee"].unit_id
    assert "运动医学" not in _names(session, trees["demo"]["bjcme"].unit_id)
    # Beijing's project form and list filters do not offer it.
    beijing = signed_in("pumch")
    form = beijing.get("/admin/projects/new/").get_data(as_text=True)
    assert "儿科学" in form and "运动医学" not in form and OTHER_ONLY not in form
    listing = beijing.get("/admin/projects/?all=1").get_data(as_text=True)
    assert "运动医学" not in listing and OTHER_ONLY not in listing
    # The same name in Beijing's list is no clash: each list is unique on its own.
    committee = signed_in("bjcme")
    response = committee.post("/admin/disciplines/new/", {"name": "运动医学", "sort_order": ""})
    assert response.status_code == 302
    again = committee.post("/admin/disciplines/new/", {"name": "运动医学", "sort_order": ""})
    assert "已在列表中" in again.get_data(as_text=True) or again.status_code == 200


def test_the_other_trees_form_and_filters_offer_only_its_list(trees, signed_in, session):
    browser = signed_in("sh_issuer")
    form = browser.get("/admin/projects/new/").get_data(as_text=True)
    assert OTHER_ONLY in form and BEIJING_ONLY not in form
    committee = signed_in("sh_committee")
    listing = committee.get("/admin/audit/").get_data(as_text=True)
    assert BEIJING_ONLY not in listing


def test_a_project_form_refuses_another_trees_discipline(trees, signed_in, session):
    browser = signed_in("sh_issuer")
    page = browser.get("/admin/projects/new/")
    assert page.status_code == 200
    response = browser.post(
        "/admin/projects/new/",
        {"name": "外省项目", "discipline": str(trees["beijing_only"]), "year": "2026"},
    )
    assert response.status_code == 200  # the form again, with the field's message
    assert "请从列表中选择" in response.get_data(as_text=True) or "选择" in response.get_data(
        as_text=True
    )
    found = session.scalar(select(Discipline.id).where(Discipline.id == trees["beijing_only"]))
    assert found is not None


def test_public_pages_and_api_show_each_tree_its_own_names(trees, session, app):
    other = trees["other"]
    own = session.get(Discipline, trees["other_only"])
    make_project(session, other["issuer"], ProjectState.PUBLISHED, discipline=own)
    shared = session.scalar(
        select(Discipline).where(
            Discipline.committee_id == other["committee"].unit_id, Discipline.name == "临床内科学"
        )
    )
    make_project(session, other["issuer"], ProjectState.PUBLISHED, discipline=shared)
    session.commit()
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    # A name used by a published project is shown once, whichever trees use it;
    # a name no published project uses (Beijing's renamed one) is never shown.
    assert OTHER_ONLY in page and BEIJING_ONLY not in page
    assert len(re.findall(r"<option[^>]*>临床内科学</option>", page)) == 1
    projects = client.get("/api/v1/projects?per_page=100").get_json()["items"]
    names = {p["discipline"] for p in projects}
    assert OTHER_ONLY in names and BEIJING_ONLY not in names
    # Filtering by one tree's id of a shared name finds both trees' projects.
    beijing_id = session.scalar(
        select(Discipline.id).where(
            Discipline.committee_id == trees["demo"]["bjcme"].unit_id,
            Discipline.name == "临床内科学",
        )
    )
    found = client.get(f"/api/v1/projects?discipline={beijing_id}&per_page=100").get_json()
    owners = {p["discipline_id"] for p in found["items"]}
    assert shared.id in owners
    assert {p["discipline"] for p in found["items"]} == {"临床内科学"}


def test_a_society_cannot_rename_its_own_unit(demo_accounts, session, signed_in):
    bma = session.scalar(select(Unit).where(Unit.id == demo_accounts["bma"].unit_id))
    name = bma.name
    browser = signed_in("bma")
    page = browser.get(f"/admin/units/edit/?id={bma.id}").get_data(as_text=True)
    assert "readonly" in page
    data = {
        "name": "北京医学会（改名）",
        "address": "北京市东城区新地址1号",
        "manager": "新负责人",
        "phone": "010-66668888",
        "postal_code": "100011",
    }
    response = browser.post(f"/admin/units/edit/?id={bma.id}", data)
    assert response.status_code == 200
    assert "只有市继委可以修改本单位名称" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Unit, bma.id).name == name
    # Its branches it still renames; the committee still renames the society.
    cardio = demo_accounts["bma_cardio"].unit
    data_branch = {
        "name": "北京医学会心血管病学分会（新）",
        "address": cardio.address,
        "manager": cardio.manager,
        "phone": cardio.phone,
        "postal_code": cardio.postal_code,
    }
    assert browser.post(f"/admin/units/edit/?id={cardio.id}", data_branch).status_code == 302
    committee = signed_in("bjcme")
    assert committee.post(f"/admin/units/edit/?id={bma.id}", data).status_code == 302
    session.expire_all()
    assert session.get(Unit, bma.id).name == "北京医学会（改名）"


def test_statistics_and_import_use_the_accounts_own_list(trees, session, signed_in):
    from imports.rows import _Checker
    from reports.statistics import filter_options

    other = trees["other"]
    names = {name for _, name in filter_options(session, other["committee"])["disciplines"]}
    assert OTHER_ONLY in names and BEIJING_ONLY not in names
    own_ids = set(
        session.scalars(
            select(Discipline.id).where(Discipline.committee_id == other["committee"].unit_id)
        )
    )
    checker = _Checker(session, other["issuer"])
    assert set(checker.disciplines.values()) <= own_ids
    template = signed_in("sh_issuer").get("/admin/import/template/")
    assert template.status_code == 200
