"""Property-based tests (hypothesis) of the forms anyone signed in can post and of the
public search parameters: whatever is typed — any Unicode text, NUL and control
characters, huge numbers, wrong dates, unknown choices — the answer is never a 5xx, and
input that is refused changes nothing (row counts unchanged); input that is accepted
adds exactly one row. Forms are valid but for one field
(or entirely random), so that both refusals and acceptances are exercised."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import Lecturer, Project, Unit, User
from tests.properties import property_settings
from tests.public.public_catalog import SEARCH_PARAMETERS

# One signed-in browser serves every example: counts are taken around each post.
PROPERTY_SETTINGS = property_settings(40)
ANY_TEXT = st.text(max_size=60)
LONG_TEXT = st.text(min_size=2001, max_size=2100, alphabet="备案x ")
NUMBER_TEXT = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " ", "٣", "1e309", "NaN", "-0", "0x10", "1_000", "４"]),
)
DATE_TEXT = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["2026-02-30", "2026-13-01", "0000-01-01", "2026/05/01", ""]),
)


def one_field_off(valid: dict, wild: dict):
    """Forms valid but for at most one field, which gets ``wild`` input (so that each
    field's own refusal, and the untouched form's acceptance, are reached: a form with
    every field drawn at random is almost never accepted), mixed with fully wild forms.
    A valid value is a string or, where it must be unique, a strategy."""
    fixed = st.fixed_dictionaries(
        {name: v if isinstance(v, st.SearchStrategy) else st.just(v) for name, v in valid.items()}
    )

    def replace(name):
        if name is None:
            return fixed
        return st.tuples(fixed, wild[name]).map(lambda pair: {**pair[0], name: pair[1]})

    return st.one_of(
        st.sampled_from([None, *valid]).flatmap(replace),
        st.fixed_dictionaries(wild),
    )


def counts(session) -> dict[str, int]:
    session.rollback()  # read what the requests committed
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model))
        for model in (Project, Lecturer, Unit, User)
    }


def post_form(browser, url: str, data: dict):
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', browser.get(url).get_data(as_text=True)
    )
    assert token, "the form carries a CSRF token"
    return browser.client.post(url, data={**data, "csrf_token": token.group(1)})


def check_outcome(response, before: dict, after: dict, created: str) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code == 302:
        # Accepted: exactly one new row of the form's kind, nothing else but its lecturers.
        assert after[created] == before[created] + 1
        assert all(after[k] == before[k] for k in after if k not in (created, "Lecturer"))
    else:
        assert response.status_code in (200, 400, 413), response.status_code
        assert after == before, "refused input changed the database"


VALID_PROJECT = {
    "name": "心血管介入新进展学习班",
    "year": "2026",
    "level": "society_i",
    "discipline": "1",
    "organizer": "北京医学会心血管病学分会",
    "co_organizer": "",
    "principal": "张三",
    "principal_title": "主任医师",
    "contact": "李四",
    "phone": "010-12345678",
    "start_date": "2026-09-01",
    "end_date": "2026-09-03",
    "venue": "北京市东城区",
    "mode": "face_to_face",
    "audience": "心内科医师",
    "planned_participants": "100",
    "theory_hours": "12",
    "practice_hours": "4",
    "credits": "8",
    "remarks": "",
    "lecturers-0-name": "王五",
    "lecturers-0-title": "教授",
    "lecturers-0-unit": "北京协和医院",
    "lecturers-0-topic": "冠脉介入",
    "lecturers-0-hours": "4",
}
NUMBER_FIELDS = {
    "year",
    "planned_participants",
    "theory_hours",
    "practice_hours",
    "credits",
    "lecturers-0-hours",
}
WILD_PROJECT = {
    name: NUMBER_TEXT
    if name in NUMBER_FIELDS
    else DATE_TEXT
    if name.endswith("_date")
    else st.one_of(ANY_TEXT, LONG_TEXT)
    if name == "remarks"
    else st.one_of(ANY_TEXT, st.sampled_from(["__None", "999999", "0", "2147483648"]))
    if name == "discipline"
    else ANY_TEXT
    for name in VALID_PROJECT
}
PROJECT_FORM = one_field_off(VALID_PROJECT, WILD_PROJECT)


VALID_UNIT = {
    "name": st.from_regex(r"\A测试分会[a-z]{8}\Z"),
    "kind": "branch",
    "parent": "2",
    "manager": "赵六",
    "address": "北京市东城区东四西大街42号",
    "phone": "010-85158000",
    "postal_code": "100710",
}
WILD_UNIT = dict.fromkeys(VALID_UNIT, ANY_TEXT) | {
    "parent": st.one_of(ANY_TEXT, st.sampled_from(["1", "3", "99999", "-1", "2147483648", "٣"])),
    "kind": st.one_of(ANY_TEXT, st.sampled_from(["society", "issuer", "committee"])),
}
UNIT_FORM = one_field_off(VALID_UNIT, WILD_UNIT)


VALID_ACCOUNT = {
    "username": st.from_regex(r"\Afuzz_[a-z]{8}\Z"),
    "display_name": "测试账号",
    "email": "fuzz@example.cn",
    "password": "Qx7!blue-harbor-lantern",
    "password_confirm": "Qx7!blue-harbor-lantern",
    "phone": "010-12345678",
    "unit": "4",
}
WILD_ACCOUNT = dict.fromkeys(VALID_ACCOUNT, ANY_TEXT) | {
    "unit": st.one_of(ANY_TEXT, st.sampled_from(["1", "6", "99999", "-1", "٣"])),
}
ACCOUNT_FORM = one_field_off(VALID_ACCOUNT, WILD_ACCOUNT)


# Who posts which form, where, and the row it adds when accepted.
FORMS = {
    "project": ("bma_cardio", PROJECT_FORM, "/admin/projects/new/", "Project"),
    "unit": ("bjcme", UNIT_FORM, "/admin/units/new/", "Unit"),
    "account": ("bjcme", ACCOUNT_FORM, "/admin/users/new/", "User"),
}


@pytest.mark.parametrize("form", list(FORMS))
def test_a_form_never_fails_and_refusals_change_nothing(login_as, session, form):
    username, strategy, url, created = FORMS[form]
    browser = login_as(username)

    @PROPERTY_SETTINGS
    @given(data=strategy)
    def post(data):
        before = counts(session)
        response = post_form(browser, url, data)
        check_outcome(response, before, counts(session), created)

    post()


SEARCH_ARGS = st.dictionaries(
    keys=st.one_of(st.sampled_from(SEARCH_PARAMETERS), ANY_TEXT),
    values=st.one_of(ANY_TEXT, NUMBER_TEXT, DATE_TEXT, st.just("")),
    max_size=6,
)


def test_public_search_parameters_never_fail(browser, session):
    @PROPERTY_SETTINGS
    @given(args=SEARCH_ARGS)
    def search(args):
        before = counts(session)
        for url in ("/", "/api/v1/projects"):
            response = browser.client.get(url, query_string=args)
            assert response.status_code in (200, 400), (url, args, response.status_code)
            if url.startswith("/api/"):
                assert response.mimetype == "application/json"
        assert counts(session) == before

    search()


def test_not_a_number_credits_are_refused_not_a_500(login_as, session):
    """Found by the property test: "nan" is a float to the form's field, and the credits
    rule's int() raised on it (500)."""
    browser = login_as("bma_cardio")
    before = counts(session)
    for value in ("nan", "NaN", "inf", "-inf"):
        response = post_form(browser, "/admin/projects/new/", {**VALID_PROJECT, "credits": value})
        assert response.status_code == 200, value
        assert "0.5" in response.get_data(as_text=True)
    assert counts(session) == before
