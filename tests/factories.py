"""Small factories for tests: units, accounts and projects made the way the
product makes them (projects through the workflow engine)."""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy import select

import workflow
from accounts import create_account
from demo import drive
from models import (
    Discipline,
    Lecturer,
    Project,
    ProjectLevel,
    ProjectMode,
    ProjectState,
    Unit,
    UnitKind,
    User,
)
from models.discipline import seed_default_disciplines
from workflow import Action

_names = itertools.count(1)


def make_unit(session, kind: UnitKind, parent: Unit | None = None, **fields) -> Unit:
    values = {
        "name": f"单位{next(_names)}",
        "address": "北京市东城区测试路1号",
        "manager": "测试负责人",
        "phone": "010-12345678",
        "postal_code": "100010",
    } | fields
    unit = Unit(kind=kind, parent=parent, **values)
    session.add(unit)
    session.flush()
    return unit


def make_user(session, unit: Unit, username: str | None = None, **fields) -> User:
    """An account made the product's one way (``accounts.create_account``);
    without ``password`` it has none and cannot log in."""
    return create_account(
        unit,
        username=username or f"user{next(_names)}",
        display_name=fields.pop("display_name", "测试用户"),
        password_hash=fields.pop("password", None),
        must_change_password=fields.pop("must_change_password", False),
        **fields,
    )


def discipline(session, committee_id: int | None = None) -> Discipline:
    """临床内科学 of the committee's own list (the first committee's without one),
    the default list seeded when the committee lacks it."""
    if committee_id is None:
        committee_id = session.scalar(
            select(Unit.id).where(Unit.kind == UnitKind.COMMITTEE).order_by(Unit.id)
        )
    found = session.scalar(
        select(Discipline).where(
            Discipline.committee_id == committee_id, Discipline.name == "临床内科学"
        )
    )
    return found or seed_default_disciplines(session, committee_id)["临床内科学"]


def project_fields(session, owner: User, **overrides) -> dict:
    """A project's fields whose 年度 follows 开始日期 (``models.rules``): a year given
    alone moves the default dates into it, a start date given alone sets the year."""
    issuer = owner.unit.kind is UnitKind.ISSUER
    if not {"discipline", "discipline_id"} & set(overrides):
        overrides["discipline"] = discipline(session, owner.unit.committee_id)
    year, start = overrides.get("year"), overrides.get("start_date")
    if year is not None and start is None and "end_date" not in overrides:
        overrides["start_date"], overrides["end_date"] = date(year, 5, 1), date(year, 5, 3)
    elif year is None and start is not None:
        overrides["year"] = start.year
    return {
        "year": 2026,
        "project_no": f"2026-01-{next(_names):03d}(国)" if issuer else None,
        "name": f"测试项目{next(_names)}",
        "level": ProjectLevel.NATIONAL if issuer else ProjectLevel.SOCIETY_I,
        "organizer": owner.unit.name,
        "principal": "张医生",
        "principal_title": "主任医师",
        "contact": "李老师",
        "phone": "010-87654321",
        "start_date": date(2026, 5, 1),
        "end_date": date(2026, 5, 3),
        "venue": "北京市东城区",
        "mode": ProjectMode.FACE_TO_FACE,
        "audience": "临床医师",
        "planned_participants": 100,
        "theory_hours": 12,
        "practice_hours": 0,
        "credits": 4,
    } | overrides


def make_project(
    session, owner: User, state: ProjectState = ProjectState.DRAFT, **overrides
) -> Project:
    """A project of ``owner``'s unit, driven to ``state`` by the right actors."""
    project = Project(**project_fields(session, owner, **overrides))
    project.lecturers = [Lecturer(name="王教授", topic="总论", hours=2)]
    workflow.create(session, owner, project)
    unit = owner.unit
    society = account_of(session, unit.parent) if unit.kind is UnitKind.BRANCH else None
    committee = account_of(session, session.get(Unit, unit.committee_id))
    drive(session, project, state, owner=owner, society=society, committee=committee)
    return project


def account_of(session, unit: Unit) -> User:
    user = session.scalar(select(User).where(User.unit_id == unit.id).order_by(User.id))
    return user or make_user(session, unit)


def make_tree(session, prefix: str = "") -> dict[str, User]:
    """A second, separate tree: committee, society, branch, issuer with an account each."""
    committee = make_unit(session, UnitKind.COMMITTEE, name=f"{prefix}另一继委会")
    society = make_unit(session, UnitKind.SOCIETY, committee)
    branch = make_unit(session, UnitKind.BRANCH, society)
    issuer = make_unit(session, UnitKind.ISSUER, committee)
    seed_default_disciplines(session, committee.id)
    return {
        key: make_user(session, unit, f"{prefix}{key}")
        for key, unit in {
            "committee": committee,
            "society": society,
            "branch": branch,
            "issuer": issuer,
        }.items()
    }


def report(session, account: User, projects: list[Project]):
    """上报 ``projects`` as ``account`` through the workflow engine (one bulk action),
    committed; the engine's result (``done``, ``skipped``)."""
    result = workflow.apply_bulk(session, Action.REPORT, account, [p.id for p in projects])
    session.commit()
    return result


def counted_report(session, account: User, ids: list[int], count_statements):
    """上报 the projects ``ids`` as ``account`` (fresh from the database), committed: the
    engine's result and the number of statements the action ran."""
    session.refresh(account)
    with count_statements() as counter:
        result = workflow.apply_bulk(session, Action.REPORT, account, ids)
    session.commit()
    return result, counter.count


def held(start: date, end: date | None = None) -> dict:
    """A project's fields for a course held from ``start`` to ``end`` (the same day without
    one), filed for ``start``'s year."""
    return {"year": start.year, "start_date": start, "end_date": end or start}
