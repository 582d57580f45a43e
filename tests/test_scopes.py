"""The scope functions of permissions/ for each of the seven demo accounts
return exactly what docs/domain.md#visibility and #roles say, and the per-object
predicates agree."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import permissions
from models import Project, ProjectState, Unit, User
from tests.factories import make_project, make_tree

DEMO_ACCOUNTS = ("bjcme", "bma", "bjtcm", "bma_cardio", "bma_peds", "tcm_acu", "pumch")
# Written out from the demo data (docs/domain.md#demo-data): each unit's parent, by account name.
PARENT = {
    "bjcme": None,
    "bma": "bjcme",
    "bjtcm": "bjcme",
    "bma_cardio": "bma",
    "bma_peds": "bma",
    "tcm_acu": "bjtcm",
    "pumch": "bjcme",
}
KIND = {
    "bjcme": "committee",
    "bma": "society",
    "bjtcm": "society",
    "bma_cardio": "entry",
    "bma_peds": "entry",
    "tcm_acu": "entry",
    "pumch": "entry",
}
EXPECTED_UNITS = {
    "bjcme": set(DEMO_ACCOUNTS),
    "bma": {"bma", "bma_cardio", "bma_peds"},
    "bjtcm": {"bjtcm", "tcm_acu"},
}
EXPECTED_ACCOUNTS = {
    "bjcme": set(DEMO_ACCOUNTS),
    "bma": {"bma_cardio", "bma_peds"},
    "bjtcm": {"tcm_acu"},
}


def _expected_projects(viewer: str, projects: list[tuple[int, str, ProjectState]]) -> set[int]:
    """Computed from the rules, independently of the SQL in permissions/."""
    seen = set()
    for project_id, owner, state in projects:
        if KIND[viewer] == "entry":
            ok = owner == viewer
        elif KIND[viewer] == "society":
            ok = PARENT.get(owner) == viewer and state is not ProjectState.DRAFT
        else:
            ok = owner in PARENT and state is not ProjectState.DRAFT
        if ok:
            seen.add(project_id)
    return seen


@pytest.fixture
def world(demo_accounts, session):
    # A second tree, whose projects nobody of the demo tree may see.
    other = make_tree(session)
    for state in ProjectState:
        make_project(session, other["branch"], state)
        make_project(session, other["issuer"], state)
    session.commit()
    owners = {u.unit_id: u.username for u in demo_accounts.values()}
    rows = session.execute(select(Project.id, Project.owner_unit_id, Project.state))
    projects = [(r.id, owners.get(r.owner_unit_id, "other"), r.state) for r in rows]
    return demo_accounts, projects


@pytest.mark.parametrize("username", DEMO_ACCOUNTS)
def test_visible_projects(world, session, username):
    demo, projects = world
    account = demo[username]
    got = set(session.scalars(permissions.visible_projects(account).with_only_columns(Project.id)))
    assert got == _expected_projects(username, projects)
    assert got  # every demo account has something to look at
    for project in session.scalars(select(Project)):
        assert permissions.can_view_project(account, project) == (project.id in got)


@pytest.mark.parametrize("username", DEMO_ACCOUNTS)
def test_manageable_units_and_accounts(world, session, username):
    demo, _ = world
    account = demo[username]
    unit_key = {u.unit_id: name for name, u in demo.items()}
    units = {
        unit_key.get(u.id, "other") for u in session.scalars(permissions.manageable_units(account))
    }
    accounts = {u.username for u in session.scalars(permissions.manageable_accounts(account))}
    assert units == EXPECTED_UNITS.get(username, set())
    assert accounts == EXPECTED_ACCOUNTS.get(username, set())
    for unit in session.scalars(select(Unit)):
        assert permissions.can_manage_unit(account, unit) == (unit_key.get(unit.id) in units)
    for other in session.scalars(select(User)):
        assert permissions.can_manage_account(account, other) == (other.username in accounts)


@pytest.mark.parametrize("username", DEMO_ACCOUNTS)
def test_statistics_units_are_the_accounts_own_subordinates(world, session, username):
    """统计's per-unit tables list the units directly under the account's unit (computed
    here from PARENT), never another tree's; an entry unit has none."""
    demo, _ = world
    unit_key = {u.unit_id: name for name, u in demo.items()}
    where = permissions.statistics_units(demo[username])
    got = {unit_key.get(i, "other") for i in session.scalars(select(Unit.id).where(where))}
    expected = (
        set()
        if KIND[username] == "entry"
        else {name for name, parent in PARENT.items() if parent == username}
    )
    assert got == expected


def test_deactivated_unit_sees_nothing(world, session):
    demo, _ = world
    cardio = demo["bma_cardio"]
    cardio.unit.active = False
    session.commit()
    assert not cardio.is_active
    assert session.scalars(permissions.visible_projects(cardio)).all() == []
    assert not permissions.can_create_project(cardio)


def test_history_of_a_deleted_project_stays_with_its_owner(demo_accounts, session):
    import workflow

    cardio = demo_accounts["bma_cardio"]
    project = make_project(session, cardio, ProjectState.DRAFT)
    project_id = project.id
    workflow.apply(session, project, workflow.Action.DELETE, cardio)
    session.commit()
    actions = [
        e.action
        for e in session.scalars(permissions.visible_events(cardio))
        if e.project_id == project_id
    ]
    assert actions == ["create", "delete"]
    assert not [
        e
        for e in session.scalars(permissions.visible_events(demo_accounts["bma_peds"]))
        if e.project_id == project_id
    ]
