"""Unit, account and discipline management (/admin/units/, /admin/users/,
/admin/disciplines/): the leak matrix generated from tables, the positive
cases, what a society may not do, no role escalation, CSRF on every POST."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from models import Discipline, RoleName, Unit, UnitKind, User
from tests.admin.conftest import post_new_account
from tests.factories import make_unit, make_user
from tests.refusals import assert_expired, assert_refused_with
from tests.snapshot import build_over, restore

ACCOUNTS = ("bjcme", "bma", "bjtcm", "bma_cardio", "bma_peds", "tcm_acu", "pumch")
DEMO_UNITS = {
    "bjcme": "北京市继续医学教育委员会",
    "bma": "北京医学会",
    "bjtcm": "北京中医药学会",
    "bma_cardio": "北京医学会心血管病学分会",
    "bma_peds": "北京医学会儿科学分会",
    "tcm_acu": "北京中医药学会针灸分会",
    "pumch": "北京协和医院",
}
# Another committee's tree: nobody of the demo tree may see any of it.
OUTSIDERS = {
    "out_committee": ("外省继续医学教育委员会", UnitKind.COMMITTEE, None),
    "out_society": ("外省医学会", UnitKind.SOCIETY, "out_committee"),
    "out_branch": ("外省医学会外科分会", UnitKind.BRANCH, "out_society"),
    "out_issuer": ("外省人民医院", UnitKind.ISSUER, "out_committee"),
}
# What each account manages (docs/domain.md#roles), by the key of the unit / the username.
# None: the view is closed to the account (403).
MANAGED_UNITS = {
    "bjcme": set(DEMO_UNITS),
    "bma": {"bma", "bma_cardio", "bma_peds"},
    "bjtcm": {"bjtcm", "tcm_acu"},
    "bma_cardio": None,
    "bma_peds": None,
    "tcm_acu": None,
    "pumch": None,
}
MANAGED_ACCOUNTS = {
    "bjcme": set(DEMO_UNITS),
    "bma": {"bma_cardio", "bma_peds"},
    "bjtcm": {"tcm_acu"},
    "bma_cardio": None,
    "bma_peds": None,
    "tcm_acu": None,
    "pumch": None,
}
MANAGES_DISCIPLINES = {"bjcme"}
# Units that sit above an account's own unit: their names may appear (as the
# parent of the account's own unit) without being a leak.
ANCESTORS = {
    "bma": {"bjcme"},
    "bjtcm": {"bjcme"},
}

# The endpoints of a view that take a row id, as (name, method, path).
ROW_ENDPOINTS = (
    ("details", "GET", "/admin/{view}/details/?id={id}"),
    ("edit form", "GET", "/admin/{view}/edit/?id={id}"),
    ("edit save", "POST", "/admin/{view}/edit/?id={id}"),
    ("delete", "POST", "/admin/{view}/delete/"),
    ("inline edit", "POST", "/admin/{view}/ajax/update/"),
    ("deactivate", "POST", "/admin/{view}/action/"),
    ("activate", "POST", "/admin/{view}/action/"),
)
ACCOUNT_ROW_ENDPOINTS = (
    ("reset form", "GET", "/admin/users/password/?id={id}"),
    ("reset save", "POST", "/admin/users/password/?id={id}"),
)
LIST_ENDPOINTS = (
    ("list", "/admin/{view}/?page_size=200"),
    ("search", "/admin/{view}/?search={name}"),
    ("export csv", "/admin/{view}/export/csv/"),
    ("export xlsx", "/admin/{view}/export/xlsx/"),
)
# Values posted to every write endpoint: enough for each form to be valid.
POSTED = {
    "name": "越权修改",
    "address": "越权地址",
    "manager": "越权",
    "phone": "010-12345678",
    "postal_code": "100000",
    "display_name": "越权修改",
    "sort_order": "1",
    "password": "taken-over-2026",
    "password_confirm": "taken-over-2026",
    "list_form_pk": "",
}


def _build_outsiders(session) -> None:
    units = {}
    for key, (name, kind, parent) in OUTSIDERS.items():
        units[key] = make_unit(session, kind, units.get(parent), name=name)
        make_user(session, units[key], key, display_name=f"{name}管理员")


@pytest.fixture(scope="session")
def world_rows(app, demo_rows):
    """Another committee's tree, built once per backend on the demo data: the rows it adds."""
    return build_over(app, _build_outsiders, demo_rows)


@pytest.fixture
def world(demo_accounts, world_rows, session):
    """The demo tree plus another committee's tree, with an account per unit."""
    restore(session, world_rows)
    return demo_accounts


# -- helpers -------------------------------------------------------------------
def _unit(session, key: str) -> Unit:
    name = DEMO_UNITS.get(key) or OUTSIDERS[key][0]
    return session.scalar(select(Unit).where(Unit.name == name))


def _user(session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


def _mentions(body: str, text: str) -> bool:
    # Filter options travel as JSON, with \\u escapes.
    return text in body or json.dumps(text)[1:-1] in body


def _foreign_text(body: str, username: str) -> str:
    """The page without the signed-in unit's own name, which the header shows
    on every page (error pages included): a hidden society's name is a prefix
    of its branches' names, and only a mention apart from it is a leak."""
    return body.replace(DEMO_UNITS[username], "")


def _snapshot(session) -> dict:
    session.expire_all()
    units = session.execute(
        select(Unit.id, Unit.name, Unit.active, Unit.parent_id, Unit.address, Unit.kind)
    ).all()
    users = session.execute(
        select(
            User.id,
            User.username,
            User.display_name,
            User.unit_id,
            User.active,
            User.password,
            User.fs_uniquifier,
            User.must_change_password,
        )
    ).all()
    disciplines = session.execute(
        select(Discipline.id, Discipline.name, Discipline.sort_order, Discipline.active)
    ).all()
    return {"units": set(units), "users": set(users), "disciplines": set(disciplines)}


def _field_block(body: str, field: str) -> str:
    """The part of a form page that belongs to ``field``: from its input to
    the next field."""
    start = body.index(f'id="{field}"')
    end = body.find('class="form-group', start)
    return body[start : end if end != -1 else len(body)]


def _request(browser, method: str, path: str, data: dict, token: str):
    if method == "GET":
        return browser.get(path)
    # One token serves every form of the session.
    return browser.client.post(path, data=dict(data, csrf_token=token))


def _row_data(name: str, row_id: int) -> dict:
    data = dict(POSTED, id=str(row_id), list_form_pk=str(row_id), rowid=[str(row_id)])
    if name in ("deactivate", "activate"):
        data["action"] = name
    return data


def _hidden_units(session, username):
    """(id, name) of units the account may not manage, without its ancestors."""
    managed = MANAGED_UNITS[username] or set()
    keys = [k for k in (*DEMO_UNITS, *OUTSIDERS) if k not in managed]
    keys = [k for k in keys if k not in ANCESTORS.get(username, ()) and k != username]
    return [(_unit(session, k).id, _unit(session, k).name) for k in keys]


def _hidden_accounts(session, username):
    """(id, display name) of accounts the account may not manage, but itself."""
    managed = MANAGED_ACCOUNTS[username] or set()
    names = [u for u in (*DEMO_UNITS, *OUTSIDERS) if u not in managed and u != username]
    return [(_user(session, u).id, _user(session, u).display_name) for u in names]


def _assert_refused(browser, username, view, rows, extra_endpoints=()):
    """Every row endpoint of ``view`` with every id of ``rows``: 403 for an
    account the view is closed to, else 404 (or a refusal that changes
    nothing); the row's name never in the body."""
    closed = username not in _openers(view)
    token = browser.token("/admin/")
    for name, method, template in (*ROW_ENDPOINTS, *extra_endpoints):
        for row_id, row_name in rows:
            path = template.format(view=view, id=row_id)
            response = _request(browser, method, path, _row_data(name, row_id), token)
            body = response.get_data(as_text=True)
            where = (username, view, name, row_id)
            if closed:
                assert response.status_code == 403, where
            elif name in ("deactivate", "activate"):
                assert response.status_code == 302, where
                body += browser.get(response.headers["Location"]).get_data(as_text=True)
            elif name == "delete":
                # No delete anywhere: the endpoint only sends back to the list.
                assert response.status_code in (302, 404), where
            elif name == "inline edit":
                assert response.status_code == 403, where
            else:
                assert response.status_code == 404, where
            assert not _mentions(_foreign_text(body, username), row_name), where


def _assert_lists_hide(browser, username, view, rows, seen_names):
    closed = username not in _openers(view)
    for name, template in LIST_ENDPOINTS:
        path = template.format(view=view, name=rows[0][1] if rows else "")
        response = browser.get(path)
        body = response.get_data(as_text=True)
        where = (username, view, name)
        if closed:
            assert response.status_code == 403, where
        elif name.startswith("export"):
            assert response.status_code == 404, where
        elif name == "search":
            # The search box repeats the term; no row may answer it.
            assert response.status_code == 200 and 'name="rowid"' not in body, where
        else:
            assert response.status_code == 200, where
            for _, hidden in rows:
                assert not _mentions(_foreign_text(body, username), hidden), (*where, hidden)
            for shown in seen_names:
                assert _mentions(body, shown), (*where, shown)


def _openers(view: str) -> set[str]:
    if view == "units":
        return {u for u, managed in MANAGED_UNITS.items() if managed is not None}
    if view == "users":
        return {u for u, managed in MANAGED_ACCOUNTS.items() if managed is not None}
    return MANAGES_DISCIPLINES


# -- the leak matrix -------------------------------------------------------------
@pytest.mark.parametrize("username", ACCOUNTS)
def test_foreign_units_are_not_found_anywhere(world, session, login_as, browser, username):
    hidden = _hidden_units(session, username)
    seen = [DEMO_UNITS[k] for k in MANAGED_UNITS[username] or ()]
    before = _snapshot(session)
    login_as(username)
    _assert_refused(browser, username, "units", hidden)
    _assert_lists_hide(browser, username, "units", hidden, seen)
    assert _snapshot(session) == before


@pytest.mark.parametrize("username", ACCOUNTS)
def test_foreign_accounts_are_not_found_anywhere(world, session, login_as, browser, username):
    hidden = _hidden_accounts(session, username)
    seen = [_user(session, u).display_name for u in MANAGED_ACCOUNTS[username] or ()]
    before = _snapshot(session)
    login_as(username)
    _assert_refused(browser, username, "users", hidden, ACCOUNT_ROW_ENDPOINTS)
    _assert_lists_hide(browser, username, "users", hidden, seen)
    # Units outside the account's reach are not offered as a filter either.
    body = browser.get("/admin/users/").get_data(as_text=True)
    for _, unit_name in _hidden_units(session, username):
        assert not _mentions(_foreign_text(body, username), unit_name), unit_name
    assert _snapshot(session) == before


@pytest.mark.parametrize("username", ACCOUNTS)
def test_disciplines_are_the_committees_alone(world, session, login_as, browser, username):
    rows = [(d.id, d.name) for d in session.scalars(select(Discipline).limit(3))]
    before = _snapshot(session)
    login_as(username)
    if username in MANAGES_DISCIPLINES:
        page = browser.get("/admin/disciplines/?page_size=200").get_data(as_text=True)
        assert all(_mentions(page, name) for _, name in rows)
        assert browser.get(f"/admin/disciplines/details/?id={rows[0][0]}").status_code == 200
        return
    _assert_refused(browser, username, "disciplines", rows)
    _assert_lists_hide(browser, username, "disciplines", rows, ())
    assert_refused_with(browser.get("/admin/disciplines/new/"), 403)
    assert _snapshot(session) == before


def _assert_posts_refused(browser, username: str, view: str, posts) -> None:
    """Each ``(data, foreign name)`` of ``posts`` posted to ``view``'s create form is
    refused: 403, or the form again for an account that may open it; the name never shown."""
    token = browser.token("/admin/")
    expected = 200 if username in _openers(view) else 403
    for data, name in posts:
        response = browser.client.post(f"/admin/{view}/new/", data=dict(data, csrf_token=token))
        assert response.status_code == expected, (data, name)
        assert not _mentions(_foreign_text(response.get_data(as_text=True), username), name)


def _posts_into(view: str, hidden) -> list[tuple[dict, str]]:
    """What the create form of ``view`` is sent for each hidden unit: a new unit of every
    kind under it, or a new account in it; with the unit's name."""
    if view == "units":
        return [
            (dict(POSTED, kind=kind.value, parent=str(unit_id), name="越权新单位"), name)
            for unit_id, name in hidden
            for kind in UnitKind
        ]
    return [
        (dict(POSTED, username="intruder", unit=str(unit_id)), name) for unit_id, name in hidden
    ]


@pytest.mark.parametrize("view", ["units", "users"])
@pytest.mark.parametrize("username", ACCOUNTS)
def test_a_new_unit_or_account_in_a_foreign_unit_is_refused(
    world, session, login_as, browser, username, view
):
    """A new unit under a foreign parent, a new account in a foreign unit."""
    hidden = _hidden_units(session, username)
    before = _snapshot(session)
    login_as(username)
    _assert_posts_refused(browser, username, view, _posts_into(view, hidden))
    assert _snapshot(session) == before


# -- what may be seen, is seen ---------------------------------------------------------
@pytest.mark.parametrize("username", ["bjcme", "bma", "bjtcm"])
def test_managed_rows_open(world, session, login_as, browser, username):
    login_as(username)
    for key in MANAGED_UNITS[username]:
        unit = _unit(session, key)
        for path in (f"/admin/units/details/?id={unit.id}", f"/admin/units/edit/?id={unit.id}"):
            page = browser.get(path)
            assert page.status_code == 200 and unit.name in page.get_data(as_text=True), path
    for other in MANAGED_ACCOUNTS[username]:
        user = _user(session, other)
        paths = [f"/admin/users/details/?id={user.id}", f"/admin/users/edit/?id={user.id}"]
        if other != username:
            # One's own password is changed on the change-password page.
            paths.append(f"/admin/users/password/?id={user.id}")
        for path in paths:
            page = browser.get(path)
            assert page.status_code == 200, path
            assert user.display_name in page.get_data(as_text=True), path


def test_account_details_never_show_secrets(world, session, login_as, browser):
    login_as("bjcme")
    cardio = _user(session, "bma_cardio")
    pages = [
        browser.get(f"/admin/users/details/?id={cardio.id}"),
        browser.get(f"/admin/users/edit/?id={cardio.id}"),
        browser.get("/admin/users/?page_size=200"),
    ]
    for page in pages:
        body = page.get_data(as_text=True)
        assert cardio.password not in body and cardio.fs_uniquifier not in body
        assert "$argon2" not in body


# -- creating and editing units ----------------------------------------------------------
def _new_unit(browser, kind: str, parent_id: int, name: str = "新单位", **fields):
    data = dict(POSTED, kind=kind, parent=str(parent_id), name=name) | fields
    return browser.post("/admin/units/new/", data)


@pytest.mark.parametrize(
    ("kind", "parent_key"),
    [("society", "bjcme"), ("issuer", "bjcme"), ("branch", "bma"), ("branch", "bjtcm")],
)
def test_committee_creates_every_kind_below_it(world, session, login_as, browser, kind, parent_key):
    login_as("bjcme")
    parent = _unit(session, parent_key)
    response = _new_unit(browser, kind, parent.id, "新建单位")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    session.expire_all()
    unit = session.scalar(select(Unit).where(Unit.name == "新建单位"))
    assert unit.kind is UnitKind(kind) and unit.parent_id == parent.id
    assert unit.root_id == _unit(session, "bjcme").id and unit.active


def test_society_creates_a_branch_under_itself(world, session, login_as, browser):
    login_as("bma")
    response = _new_unit(browser, "branch", _unit(session, "bma").id, "北京医学会新分会")
    assert response.status_code == 302
    session.expire_all()
    unit = session.scalar(select(Unit).where(Unit.name == "北京医学会新分会"))
    assert unit.parent_id == _unit(session, "bma").id and unit.kind is UnitKind.BRANCH
    assert "北京医学会新分会" in browser.get("/admin/units/").get_data(as_text=True)


def test_new_unit_form_offers_only_allowed_kinds_and_parents(world, session, login_as, browser):
    login_as("bma")
    page = browser.get("/admin/units/new/").get_data(as_text=True)
    assert 'value="branch"' in page
    assert 'value="society"' not in page and 'value="issuer"' not in page
    assert "北京医学会（" in page
    assert "北京中医药学会" not in page and "北京市继续医学教育委员会（" not in page


@pytest.mark.parametrize("kind", ["society", "issuer", "committee"])
def test_society_cannot_create_a_society_or_issuer(world, session, login_as, browser, kind):
    before = _snapshot(session)
    login_as("bma")
    for parent_key in ("bma", "bjcme"):
        response = _new_unit(browser, kind, _unit(session, parent_key).id, "越权总会")
        assert response.status_code == 200
    assert _snapshot(session) == before


def test_society_cannot_attach_a_branch_to_another_society(world, session, login_as, browser):
    before = _snapshot(session)
    login_as("bma")
    response = _new_unit(browser, "branch", _unit(session, "bjtcm").id, "越权分会")
    assert response.status_code == 200
    assert "请从列表中选择" in response.get_data(as_text=True)
    assert _snapshot(session) == before


def test_a_branch_cannot_be_moved_or_retyped(world, session, login_as, browser):
    cardio = _unit(session, "bma_cardio")
    login_as("bma")
    data = dict(POSTED, name=cardio.name, kind="society", parent=str(_unit(session, "bjtcm").id))
    response = browser.post(f"/admin/units/edit/?id={cardio.id}", data)
    assert response.status_code == 302
    session.expire_all()
    cardio = _unit(session, "bma_cardio")
    assert cardio.parent_id == _unit(session, "bma").id and cardio.kind is UnitKind.BRANCH
    assert cardio.address == POSTED["address"]


def test_committee_cannot_place_a_kind_under_the_wrong_parent(world, session, login_as, browser):
    before = _snapshot(session)
    login_as("bjcme")
    response = _new_unit(browser, "branch", _unit(session, "bjcme").id, "错位分会")
    assert response.status_code == 200
    assert "不能在“北京市继续医学教育委员会”下添加“学（协）会分会”" in response.get_data(
        as_text=True
    )
    response = _new_unit(browser, "society", _unit(session, "bma").id, "错位总会")
    assert response.status_code == 200
    assert _snapshot(session) == before


def test_society_edits_its_own_contact_details(world, session, login_as, browser):
    bma = _unit(session, "bma")
    login_as("bma")
    data = {
        "name": bma.name,
        "address": "北京市东城区新地址1号",
        "manager": "新负责人",
        "phone": "010-66668888",
        "postal_code": "100011",
    }
    assert browser.post(f"/admin/units/edit/?id={bma.id}", data).status_code == 302
    session.expire_all()
    bma = _unit(session, "bma")
    assert (bma.address, bma.manager, bma.postal_code) == (
        "北京市东城区新地址1号",
        "新负责人",
        "100011",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "  ", "此项为必填项"),
        ("address", "", "此项为必填项"),
        ("manager", "", "此项为必填项"),
        ("phone", "", "此项为必填项"),
        ("phone", "12345", "请输入至少7位数字的电话号码"),
        ("postal_code", "", "此项为必填项"),
        ("postal_code", "10001", "邮政编码应为6位数字"),
        ("name", "北京医学会儿科学分会", "同一上级单位下已有同名单位"),
    ],
)
def test_unit_fields_are_checked_in_chinese_next_to_the_field(
    world, session, login_as, browser, field, value, message
):
    before = _snapshot(session)
    login_as("bma")
    response = _new_unit(browser, "branch", _unit(session, "bma").id, **{field: value})
    assert response.status_code == 200
    # The message sits in the field's own block, under its input.
    assert message in _field_block(response.get_data(as_text=True), field)
    assert _snapshot(session) == before


# -- deactivating -----------------------------------------------------------------------------
def _action(browser, view: str, action: str, ids) -> str:
    data = {"action": action, "rowid": [str(i) for i in ids]}
    response = browser.post(f"/admin/{view}/action/", data, token_from=f"/admin/{view}/")
    assert response.status_code == 302
    return browser.get(response.headers["Location"]).get_data(as_text=True)


def test_committee_deactivates_and_activates_a_unit(world, session, login_as, browser):
    peds = _unit(session, "bma_peds")
    login_as("bjcme")
    page = _action(browser, "units", "deactivate", [peds.id])
    assert "已停用 1 项" in page
    session.expire_all()
    assert not _unit(session, "bma_peds").active
    assert not _user(session, "bma_peds").is_active
    assert "已启用 1 项" in _action(browser, "units", "activate", [peds.id])
    session.expire_all()
    assert _unit(session, "bma_peds").active


@pytest.mark.parametrize("username", ["bjcme", "bma"])
def test_nobody_deactivates_their_own_unit(world, session, login_as, browser, username):
    login_as(username)
    page = _action(browser, "units", "deactivate", [_unit(session, username).id])
    assert "不能停用或启用本单位" in page
    session.expire_all()
    assert _unit(session, username).active


def test_nobody_deactivates_their_own_account(world, session, login_as, browser):
    login_as("bjcme")
    own = _user(session, "bjcme")
    page = _action(browser, "users", "deactivate", [own.id, _user(session, "pumch").id])
    assert "不能停用或启用自己的帐号" in page and "已停用 1 项" in page
    session.expire_all()
    assert _user(session, "bjcme").active and not _user(session, "pumch").active


def test_society_deactivates_a_branch_account(world, session, login_as, browser):
    login_as("bma")
    _action(browser, "users", "deactivate", [_user(session, "bma_peds").id])
    session.expire_all()
    assert not _user(session, "bma_peds").active


def test_no_delete_anywhere(world, session, login_as, browser):
    before = _snapshot(session)
    login_as("bjcme")
    pumch = _unit(session, "pumch")
    for view, row_id in (
        ("units", pumch.id),
        ("users", _user(session, "pumch").id),
        ("disciplines", session.scalar(select(Discipline.id).limit(1))),
    ):
        page = browser.get(f"/admin/{view}/").get_data(as_text=True)
        assert "/delete/" not in page and 'value="delete"' not in page
        browser.post(f"/admin/{view}/delete/", {"id": str(row_id)}, token_from="/admin/")
        browser.post(
            f"/admin/{view}/action/",
            {"action": "delete", "rowid": [str(row_id)]},
            token_from="/admin/",
        )
    assert _snapshot(session) == before


# -- accounts ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("creator", "unit_key", "role"),
    [
        ("bjcme", "bjcme", RoleName.COMMITTEE),
        ("bjcme", "bjtcm", RoleName.SOCIETY),
        ("bjcme", "pumch", RoleName.ENTRY),
        ("bma", "bma_peds", RoleName.ENTRY),
    ],
)
def test_new_account_gets_its_role_from_its_unit(
    world, session, login_as, browser, creator, unit_key, role
):
    login_as(creator)
    # Role fields posted by hand are ignored: the form has none.
    response = post_new_account(
        browser,
        _unit(session, unit_key).id,
        roles="committee",
        role="committee",
        must_change_password="",
        active="",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    session.expire_all()
    user = _user(session, "new_member")
    assert [r.name for r in user.roles] == [role.value]
    assert user.must_change_password and user.active
    assert user.password.startswith("$argon2") and "given-by-boss-1" not in user.password


def test_society_cannot_create_an_account_for_its_own_or_another_societys_unit(
    world, session, login_as, browser
):
    before = _snapshot(session)
    login_as("bma")
    for key in ("bma", "bjtcm", "tcm_acu", "bjcme", "pumch"):
        response = post_new_account(browser, _unit(session, key).id)
        assert response.status_code == 200, key
    assert _snapshot(session) == before


def test_account_cannot_be_moved_out_of_reach(world, session, login_as, browser):
    cardio = _user(session, "bma_cardio")
    before = _snapshot(session)
    login_as("bma")
    for key in ("tcm_acu", "bma", "bjcme"):
        data = {"display_name": "x", "unit": str(_unit(session, key).id)}
        response = browser.post(f"/admin/users/edit/?id={cardio.id}", data)
        assert response.status_code == 200, key
    assert _snapshot(session) == before


def test_nobody_escalates_through_their_own_account(world, session, login_as, browser):
    own = _user(session, "bjcme")
    login_as("bjcme")
    data = {"display_name": "改名", "unit": str(_unit(session, "bma").id), "roles": "x"}
    response = browser.post(f"/admin/users/edit/?id={own.id}", data)
    assert response.status_code == 200
    assert "不能把自己的帐号移到其他单位" in response.get_data(as_text=True)
    # A society's own account is outside its reach altogether.
    browser.logout()
    login_as("bma")
    bma = _user(session, "bma")
    assert browser.get(f"/admin/users/edit/?id={bma.id}").status_code == 404


def test_moving_an_account_changes_its_role_with_its_unit(world, session, login_as, browser):
    login_as("bjcme")
    peds = _user(session, "bma_peds")
    data = {"display_name": peds.display_name, "unit": str(_unit(session, "bma").id)}
    assert browser.post(f"/admin/users/edit/?id={peds.id}", data).status_code == 302
    session.expire_all()
    assert [r.name for r in _user(session, "bma_peds").roles] == [RoleName.SOCIETY.value]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"username": "BMA_Peds"}, "username", "该用户名已被使用"),
        ({"username": "bad name"}, "username", "用户名只能包含字母、数字、下划线和连字符"),
        ({"username": ""}, "username", "此项为必填项"),
        ({"display_name": " "}, "display_name", "此项为必填项"),
        ({"phone": "abc"}, "phone", "请输入至少7位数字的电话号码"),
        ({"email": "not-an-address"}, "email", "请输入有效的电子邮箱地址"),
        ({"password": "short", "password_confirm": "short"}, "password", "密码至少需要 10 个字符"),
        ({"password_confirm": "something-else"}, "password_confirm", "两次输入的密码不一致"),
        ({"unit": "999999"}, "unit", "请从列表中选择"),
    ],
)
def test_account_fields_are_checked_in_chinese(
    world, session, login_as, browser, fields, field, message
):
    before = _snapshot(session)
    login_as("bma")
    response = post_new_account(browser, _unit(session, "bma_cardio").id, **fields)
    assert response.status_code == 200
    assert message in _field_block(response.get_data(as_text=True), field)
    assert _snapshot(session) == before


def test_password_reset_of_own_account_is_refused(world, session, login_as, browser):
    own = _user(session, "bjcme")
    before = _snapshot(session)
    login_as("bjcme")
    data = {"password": "my-new-pass-2026", "password_confirm": "my-new-pass-2026"}
    response = browser.post(f"/admin/users/password/?id={own.id}", data, token_from="/admin/")
    assert response.status_code == 302
    assert _snapshot(session) == before


def test_password_reset_checks_the_policy(world, session, login_as, browser):
    cardio = _user(session, "bma_cardio")
    before = _snapshot(session)
    login_as("bma")
    url = f"/admin/users/password/?id={cardio.id}"
    response = browser.post(url, {"password": "short", "password_confirm": "short"})
    assert response.status_code == 200
    assert "密码至少需要 10 个字符" in response.get_data(as_text=True)
    assert _snapshot(session) == before


# -- disciplines ----------------------------------------------------------------------------
def test_committee_adds_renames_reorders_and_deactivates_disciplines(
    world, session, login_as, browser
):
    login_as("bjcme")
    response = browser.post("/admin/disciplines/new/", {"name": "老年医学", "sort_order": "5"})
    assert response.status_code == 302
    session.expire_all()
    added = session.scalar(select(Discipline).where(Discipline.name == "老年医学"))
    assert added.sort_order == 5 and added.active
    data = {"name": "老年医学与护理", "sort_order": "0"}
    assert browser.post(f"/admin/disciplines/edit/?id={added.id}", data).status_code == 302
    assert "已停用 1 项" in _action(browser, "disciplines", "deactivate", [added.id])
    session.expire_all()
    renamed = session.get(Discipline, added.id)
    assert (renamed.name, renamed.sort_order, renamed.active) == ("老年医学与护理", 0, False)
    listing = browser.get("/admin/disciplines/?page_size=200").get_data(as_text=True)
    assert listing.index("老年医学与护理") < listing.index("临床内科学")


def test_new_discipline_goes_last_by_default(world, session, login_as, browser):
    login_as("bjcme")
    highest = session.scalar(select(func.max(Discipline.sort_order)))
    assert browser.post("/admin/disciplines/new/", {"name": "运动医学"}).status_code == 302
    session.expire_all()
    added = session.scalar(select(Discipline).where(Discipline.name == "运动医学"))
    assert added.sort_order == highest + 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "儿科学"}, "该学科已在列表中"),
        ({"name": " "}, "此项为必填项"),
        ({"name": "新学科", "sort_order": "-1"}, "请输入 0 到 9999 之间的整数"),
    ],
)
def test_discipline_fields_are_checked_in_chinese(world, session, login_as, browser, data, message):
    before = _snapshot(session)
    login_as("bjcme")
    response = browser.post("/admin/disciplines/new/", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _snapshot(session) == before


# -- CSRF -----------------------------------------------------------------------------------
def _csrf_targets(session) -> list[tuple[str, dict]]:
    unit = _unit(session, "pumch")
    user = _user(session, "pumch")
    discipline = session.scalar(select(Discipline).limit(1))
    return [
        ("/admin/units/new/", dict(POSTED, kind="issuer", parent=str(_unit(session, "bjcme").id))),
        (f"/admin/units/edit/?id={unit.id}", dict(POSTED, name="无令牌")),
        ("/admin/units/action/", {"action": "deactivate", "rowid": str(unit.id)}),
        ("/admin/users/new/", dict(POSTED, username="no_token", unit=str(unit.id))),
        (f"/admin/users/edit/?id={user.id}", {"display_name": "无令牌", "unit": str(unit.id)}),
        ("/admin/users/action/", {"action": "deactivate", "rowid": str(user.id)}),
        (f"/admin/users/password/?id={user.id}", POSTED),
        ("/admin/disciplines/new/", {"name": "无令牌学科"}),
        (f"/admin/disciplines/edit/?id={discipline.id}", {"name": "无令牌"}),
        ("/admin/disciplines/action/", {"action": "deactivate", "rowid": str(discipline.id)}),
        ("/change", {"password": "x", "new_password": "y" * 12, "new_password_confirm": "y" * 12}),
        ("/logout", {}),
    ]


def test_every_post_without_a_csrf_token_is_refused(world, session, login_as, browser):
    before = _snapshot(session)
    login_as("bjcme")
    for url, data in _csrf_targets(session):
        assert_expired(browser.client.post(url, data=data))
        assert_expired(browser.client.post(url, data=dict(data, csrf_token="forged")))
    assert browser.get("/admin/units/").status_code == 200
    assert _snapshot(session) == before


def test_login_without_a_csrf_token_is_refused(browser):
    data = {"username": "bjcme", "password": "demo-pass-2026"}
    assert_expired(browser.client.post("/login", data=data))
