"""The leak matrix for the project screens: for each demo account, each
endpoint, and the ids of projects it may not see or touch → 403/404 (or a
refusal that changes nothing), and never the foreign project's name in the
body. Generated from tables, plus the positive cases."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import select

import permissions
from models import Project, ProjectState, Unit
from tests.factories import make_project, make_tree
from tests.snapshot import accounts_by_username, build_over, restore

ACCOUNTS = ("bjcme", "bma", "bjtcm", "bma_cardio", "bma_peds", "tcm_acu", "pumch")
VIEW_OF = {
    "bjcme": "audit",
    "bma": "review",
    "bjtcm": "review",
    "bma_cardio": "projects",
    "bma_peds": "projects",
    "tcm_acu": "projects",
    "pumch": "projects",
}
ENTRY_ACCOUNTS = ("bma_cardio", "bma_peds", "tcm_acu", "pumch")
VIEWS = ("projects", "review", "audit")
ACTIONS = {
    "projects": ("report", "delete"),
    "review": ("report", "unlock"),
    "audit": ("publish", "unlock", "withdraw"),
}
# Path templates; {id} is the project id. READS are GET, WRITES are POST.
READS = ("/admin/{view}/details/?id={id}", "/admin/{view}/edit/?id={id}")
WRITES = ("/admin/{view}/edit/?id={id}", "/admin/{view}/delete/", "/admin/{view}/ajax/update/")


def _build_world(session) -> None:
    """A marked project of every state for every entry unit, and another tree."""
    other = make_tree(session, prefix="x_")
    owners = [accounts_by_username(session)[name] for name in ENTRY_ACCOUNTS]
    owners += [other["branch"], other["issuer"]]
    for owner in owners:
        for state in ProjectState:
            if owner.unit.kind.value == "issuer" and state is ProjectState.AT_SOCIETY:
                continue
            make_project(session, owner, state, name=f"标记-{owner.username}-{state.value}")


@pytest.fixture(scope="session")
def world_rows(app, demo_rows):
    """The world above, built once per backend on the demo data: the rows it adds."""
    return build_over(app, _build_world, demo_rows)


@pytest.fixture
def world(demo_accounts, world_rows, session):
    restore(session, world_rows)
    return accounts_by_username(session)


def _hidden_and_seen(session, account):
    visible = set(
        session.scalars(permissions.visible_projects(account).with_only_columns(Project.id))
    )
    marked = session.execute(
        select(Project.id, Project.name).where(Project.name.like("标记-%"))
    ).all()
    hidden = [(row.id, row.name) for row in marked if row.id not in visible]
    seen = [(row.id, row.name) for row in marked if row.id in visible]
    return hidden, seen


def _snapshot(session):
    session.expire_all()
    return {
        row.id: (row.state, row.name, row.version)
        for row in session.execute(select(Project.id, Project.state, Project.name, Project.version))
    }


@pytest.mark.parametrize("username", ACCOUNTS)
def test_foreign_projects_are_not_found_anywhere(world, session, login_as, browser, username):
    account = world[username]
    hidden, seen = _hidden_and_seen(session, account)
    assert hidden and seen
    before = _snapshot(session)
    login_as(username)
    own_view = VIEW_OF[username]
    for view in VIEWS:
        for project_id, name in hidden:
            for template in READS:
                response = browser.get(template.format(view=view, id=project_id))
                assert response.status_code in (403, 404), (view, template, project_id)
                assert name not in response.get_data(as_text=True)
            for template in WRITES:
                url = template.format(view=view, id=project_id)
                data = {"id": str(project_id), "name": "泄露", "list_form_pk": str(project_id)}
                response = browser.post(url, data, token_from="/admin/")
                assert response.status_code in (400, 403, 404), (view, url)
        # Bulk actions with every hidden id: nothing moves, nothing is named.
        for action in ACTIONS[view]:
            data = {
                "action": action,
                "rowid": [str(i) for i, _ in hidden],
                "reason_confirmed": "1",
                "reason": "越权",
            }
            response = browser.post(f"/admin/{view}/action/", data, token_from="/admin/")
            assert response.status_code in (200, 302, 403), (view, action)
            body = response.get_data(as_text=True)
            if view == own_view:
                body += browser.get(f"/admin/{view}/").get_data(as_text=True)
            assert not any(name in body for _, name in hidden), (view, action)
        for fmt in ("csv", "xlsx"):
            response = browser.get(f"/admin/{view}/export/{fmt}/")
            body = response.get_data()
            response.close()
            assert response.status_code in (200, 403)
            if response.status_code == 200:
                assert view == own_view
                assert not any(name.encode() in body for _, name in hidden)
        listing = browser.get(f"/admin/{view}/?page_size=200&status=all")
        if view == own_view:
            text = listing.get_data(as_text=True)
            assert all(name in text for _, name in seen)
            assert not any(name in text for _, name in hidden)
        else:
            assert listing.status_code == 403
    assert _snapshot(session) == before


@pytest.mark.parametrize("username", ACCOUNTS)
def test_visible_projects_open(world, session, login_as, browser, username):
    _, seen = _hidden_and_seen(session, world[username])
    login_as(username)
    view = VIEW_OF[username]
    for project_id, name in seen:
        page = browser.get(f"/admin/{view}/details/?id={project_id}")
        assert page.status_code == 200 and name in page.get_data(as_text=True)


@pytest.mark.parametrize("username", ACCOUNTS)
def test_filter_options_are_scoped(world, session, login_as, browser, username):
    """The 申报单位 filter lists the entry units under the account (none of
    another tree or society); the 年度 filter spans its projects' years."""
    account = world[username]
    mine = account.unit
    expected_units = set()
    for unit in session.scalars(select(Unit)):
        if mine.kind.is_entry:
            ok = unit.id == mine.id
        elif mine.kind.value == "society":
            ok = unit.parent_id == mine.id
        else:
            ok = unit.root_id == mine.id and unit.kind.is_entry
        if ok:
            expected_units.add(unit.name)
    projects = session.scalars(permissions.visible_projects(account)).all()
    login_as(username)
    html = browser.get(f"/admin/{VIEW_OF[username]}/").get_data(as_text=True)
    data = re.search(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', html, re.S)
    groups = json.loads(data.group(1))
    units = {label for _, label in groups["申报单位"][0]["options"]}
    years = [int(value) for value, _ in groups["年度"][0]["options"]]
    assert units == expected_units
    seen_years = {p.year for p in projects}
    assert seen_years <= set(years)
    assert years == list(range(max(max(seen_years), date.today().year), min(seen_years) - 1, -1))


def test_anonymous_is_sent_to_login(app, demo_accounts):
    client = app.test_client()
    for view in VIEWS:
        response = client.get(f"/admin/{view}/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
