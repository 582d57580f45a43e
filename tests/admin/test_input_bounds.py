"""Crafted input never gives a 500 (issue 15, finding 6): ids, filters,
``rowid`` and delete ids of 2**31 (past PostgreSQL's integer) or 2**63 (past
SQLite's), other scripts' digits (``٣`` is not 3), huge or negative pages and
NUL characters, on every kind of panel request. Both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Project, ProjectState
from tests.refusals import assert_refused_with

HUGE = ("2147483648", "9223372036854775808", "99999999999999999999999")
CRAFTED_IDS = (*HUGE, "-1", "0", "٣", "３", "1e3", " 3", "3\x00")


@pytest.fixture
def committee(login_as):
    return login_as("bjcme")


def _published_id(session) -> int:
    return session.scalar(
        select(Project.id).where(Project.state == ProjectState.PUBLISHED).order_by(Project.id)
    )


@pytest.mark.parametrize("value", CRAFTED_IDS)
@pytest.mark.parametrize("page", ["details", "edit"])
def test_crafted_ids_are_not_found(committee, value, page):
    response = committee.get(f"/admin/audit/{page}/", query_string={"id": value})
    assert response.status_code in (400, 404), (value, response.status_code)


def test_other_scripts_digits_are_not_read_as_ascii(committee, session):
    key = _published_id(session)
    assert committee.get(f"/admin/audit/details/?id={key}").status_code == 200
    arabic = str(key).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert_refused_with(committee.get("/admin/audit/details/", query_string={"id": arabic}), 404)


@pytest.mark.parametrize("value", [*HUGE, "-1", "٣", "1.5"])
def test_crafted_pages_are_bad_requests(committee, value):
    for url in ("/admin/audit/", "/admin/units/", "/admin/messages/"):
        assert_refused_with(committee.get(url, query_string={"page": value}), 400)


def test_a_far_page_is_an_empty_page(committee):
    assert committee.get("/admin/audit/?page=100000").status_code == 200


@pytest.mark.parametrize("value", [*HUGE, "-1", "٣"])
def test_crafted_filter_values_are_ignored(committee, value):
    for index in range(6):
        response = committee.get("/admin/audit/", query_string={f"flt0_{index}": value})
        assert response.status_code < 500, (index, value)
    response = committee.get("/admin/users/", query_string={"flt0_0": value})
    assert response.status_code < 500


@pytest.mark.parametrize(
    "url",
    [
        "/admin/audit/?search=a%00b",
        "/admin/audit/export/xlsx/?search=%00",
        "/admin/audit/export/csv/?search=%00",
        "/admin/units/?search=%00",
        "/admin/users/?search=%00",
        "/admin/disciplines/?search=%00",
    ],
)
def test_nul_in_a_search_is_a_bad_request(committee, url):
    assert_refused_with(committee.get(url), 400)


@pytest.mark.parametrize("value", [*HUGE, "٣", "-3"])
def test_crafted_rowids_and_delete_ids_match_nothing(login_as, session, value):
    entry = login_as("pumch")
    before = session.scalar(select(Project.id).order_by(Project.id.desc()))
    action = entry.post(
        "/admin/projects/action/",
        {"action": "delete", "rowid": [value]},
        token_from="/admin/projects/",
    )
    assert action.status_code < 500
    delete = entry.post("/admin/projects/delete/", {"id": value}, token_from="/admin/projects/")
    assert delete.status_code in (302, 400, 404)
    session.expire_all()
    assert session.scalar(select(Project.id).order_by(Project.id.desc())) == before


@pytest.mark.parametrize("value", [*HUGE, "٣"])
def test_other_id_parameters(committee, value):
    for url in (
        "/admin/users/password/",
        "/admin/audit/versions/",
        "/admin/disciplines/details/",
        "/admin/units/edit/",
    ):
        response = committee.get(url, query_string={"id": value})
        assert response.status_code in (400, 404), (url, response.status_code)


def test_nul_in_a_form_is_refused_and_changes_nothing(login_as, session, demo_accounts):
    entry = login_as("bma")
    unit = demo_accounts["bma"].unit
    address = unit.address
    data = {
        "name": unit.name,
        "address": "新地址\x00",
        "manager": unit.manager,
        "phone": unit.phone,
        "postal_code": unit.postal_code,
    }
    assert entry.post(f"/admin/units/edit/?id={unit.id}", data).status_code == 400
    session.expire_all()
    assert demo_accounts["bma"].unit.address == address


@pytest.mark.parametrize(
    ("value", "result"),
    [
        (" =1+1", "' =1+1"),
        ("\n=cmd|' /C calc'!A0", "'\n=cmd|' /C calc'!A0"),
        ("  @SUM(A1)", "'  @SUM(A1)"),
        ("\u3000+1", "'\u3000+1"),
        (" 心内科", " 心内科"),
        ("A=1", "A=1"),
    ],
)
def test_a_formula_behind_blanks_is_neutralised(value, result):
    """Spreadsheets skip leading blanks and line breaks before a formula."""
    import exports

    assert exports.neutralise(value) == result
