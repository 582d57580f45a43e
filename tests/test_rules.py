"""Field rules (docs/domain.md#field-rules), in Python (what forms show next to a field)
and in the database (CHECK constraints and keys, on both backends)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from models import Project, Unit, UnitKind, rules
from tests.factories import make_project, make_unit, project_fields

GOOD_UNIT = {
    "name": "北京医学会",
    "address": "北京市东城区东四西大街42号",
    "manager": "李明",
    "phone": "010-65253900",
    "postal_code": "100010",
}


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("postal_code", "100010", True),
        ("postal_code", "10001", False),
        ("postal_code", "1000100", False),
        ("postal_code", "10001a", False),
        ("postal_code", "", False),
        ("phone", "010-65253900", True),
        ("phone", "13800138000", True),
        ("phone", "(010)6525-3900 转 8001", True),
        ("phone", "65253", False),
        ("phone", "call me", False),
        ("phone", "010-6525390x", False),
        ("name", "  ", False),
        ("address", None, False),
        ("manager", "", False),
    ],
)
def test_unit_fields(app_context, field, value, ok):
    errors = rules.validate_unit(GOOD_UNIT | {field: value})
    assert (field not in errors) is ok
    assert set(errors) <= {field}
    if not ok:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(errors[field]))  # in Chinese


GOOD_PROJECT = {
    "year": 2026,
    "name": "心血管疾病诊疗新进展学习班",
    "level": "society_i",
    "discipline": 1,
    "organizer": "北京医学会心血管病学分会",
    "principal": "刘强",
    "contact": "王秘书",
    "phone": "010-88398866",
    "start_date": date(2026, 5, 1),
    "end_date": date(2026, 5, 3),
    "venue": "北京市西城区",
    "mode": "face_to_face",
    "audience": "心内科医师",
    "planned_participants": 200,
    "theory_hours": 12,
    "practice_hours": 3,
    "credits": 4.5,
}


@pytest.mark.parametrize(
    ("changes", "bad_field"),
    [
        ({}, None),
        ({"end_date": date(2026, 4, 30)}, "end_date"),
        ({"end_date": date(2026, 5, 1)}, None),  # one-day project
        ({"credits": 0}, "credits"),
        ({"credits": -1}, "credits"),
        ({"credits": 4.25}, "credits"),
        ({"credits": 30.5}, "credits"),
        ({"credits": 30}, None),
        ({"planned_participants": 0}, "planned_participants"),
        ({"planned_participants": 100_001}, "planned_participants"),
        ({"theory_hours": 0}, "theory_hours"),
        ({"theory_hours": 1.5}, None),
        ({"practice_hours": -2}, "practice_hours"),
        ({"practice_hours": None}, None),
        ({"year": 1999}, "year"),
        ({"phone": "12"}, "phone"),
        ({"name": ""}, "name"),
        ({"venue": None}, "venue"),
        ({"discipline": None}, "discipline"),
    ],
)
def test_project_fields(app_context, changes, bad_field):
    errors = rules.validate_project(GOOD_PROJECT | changes, issuer=False)
    assert set(errors) == ({bad_field} if bad_field else set())
    if bad_field:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(errors[bad_field]))


def test_issuer_projects_need_their_approved_number(app_context):
    assert "project_no" in rules.validate_project(GOOD_PROJECT, issuer=True)
    assert (
        rules.validate_project(GOOD_PROJECT | {"project_no": "2026-01-01-001(国)"}, issuer=True)
        == {}
    )
    assert "project_no" not in rules.validate_project(GOOD_PROJECT, issuer=False)


def test_lecturer_fields(app_context):
    assert set(rules.validate_lecturer({"name": "", "topic": "总论", "hours": 2})) == {"name"}
    assert set(rules.validate_lecturer({"name": "王", "topic": None})) == {"topic"}
    assert set(rules.validate_lecturer({"name": "王", "topic": "x", "hours": 0.3})) == {"hours"}


@pytest.mark.parametrize(
    "changes",
    [
        {"end_date": date(2026, 4, 1)},
        {"credits": 0},
        {"credits": 31},
        {"planned_participants": 0},
        {"theory_hours": 0},
    ],
)
def test_database_refuses_what_the_rules_refuse(demo_accounts, session, changes):
    project = make_project(session, demo_accounts["bma_cardio"])
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(update(Project).where(Project.id == project.id).values(**changes))
        session.flush()
    session.rollback()


def test_database_refuses_a_published_project_without_number(demo_accounts, session):
    project = make_project(session, demo_accounts["bma_cardio"])
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(
            update(Project.__table__)
            .where(Project.__table__.c.id == project.id)
            .values(state="published")
        )
    session.rollback()


def refused_by_the_database(session, **columns) -> None:
    """A units row of ``columns`` inserted past the ORM (and its checks) is refused by the
    database itself; rolled back."""
    row = GOOD_UNIT | {
        "active": True,
        "created_at": date(2026, 1, 1),
        "updated_at": date(2026, 1, 1),
    }
    with pytest.raises(IntegrityError):
        session.execute(insert(Unit.__table__).values(row | columns))
        session.flush()
    session.rollback()


@pytest.mark.parametrize(
    ("kind", "parent_kind"),
    [
        ("branch", "committee"),
        ("society", "society"),
        ("issuer", "society"),
        ("committee", "committee"),
        ("branch", None),
        ("society", None),
    ],
)
def test_database_enforces_the_unit_tree(demo_accounts, session, kind, parent_kind):
    parents = {u.unit.kind.value: u.unit for u in demo_accounts.values()}
    parent = parents.get(parent_kind)
    refused_by_the_database(
        session,
        name="非法单位",
        kind=kind,
        parent_id=parent.id if parent else None,
        parent_kind=parent.kind.value if parent else None,
        root_id=(parent.root_id or parent.id) if parent else None,
    )
    # The ORM refuses before the database has to.
    with pytest.raises(ValueError):
        make_unit(session, UnitKind(kind), parent)
    session.rollback()


def test_a_parent_kind_that_lies_is_refused_by_the_foreign_key(demo_accounts, session):
    committee = demo_accounts["bjcme"].unit
    refused_by_the_database(
        session,
        name="冒充的分会",
        kind="branch",
        parent_id=committee.id,
        parent_kind="society",  # the committee is not a society
        root_id=committee.id,
    )


def test_unit_names_are_unique_among_siblings(demo_accounts, session):
    bma = demo_accounts["bma"].unit
    make_unit(session, UnitKind.BRANCH, bma, name="同名分会")
    session.commit()
    with pytest.raises(IntegrityError):
        make_unit(session, UnitKind.BRANCH, bma, name="同名分会")
    session.rollback()
    make_unit(
        session, UnitKind.BRANCH, demo_accounts["bjtcm"].unit, name="同名分会"
    )  # other parent: fine
    session.commit()
    with pytest.raises(IntegrityError):
        make_unit(session, UnitKind.COMMITTEE, None, name="北京市继续医学教育委员会")
    session.rollback()


def test_a_unit_cannot_move(demo_accounts, session):
    cardio = demo_accounts["bma_cardio"].unit
    cardio.parent = demo_accounts["bjtcm"].unit
    with pytest.raises(ValueError):
        session.flush()
    session.rollback()


def test_project_fields_factory_passes_the_rules(demo_accounts, session):
    values = project_fields(session, demo_accounts["pumch"])
    values["discipline"] = values["discipline"].id
    assert rules.validate_project(values, issuer=True) == {}
