"""The security log (安全日志): an entry for each security event, written with
the event, never changed, and read (and exported) only within the reader's
scope, on both databases."""

from __future__ import annotations

import csv
import io

import pytest
from flask_security import hash_password
from sqlalchemy import select

from demo import DEMO_PASSWORD
from models import AuditEntry, AuditEvent, Unit, User
from models.audit import AuditLogIsAppendOnly
from tests.factories import make_tree
from tests.refusals import assert_refused_with

LOG = "/admin/security-log/"


def _user(session, username: str) -> User:
    session.expire_all()
    return session.scalar(select(User).where(User.username == username))


def _entries(session, **where) -> list[AuditEntry]:
    """Entries after the demo data's own (its accounts were logged as created)."""
    session.expire_all()
    stmt = select(AuditEntry).where(AuditEntry.event != AuditEvent.ACCOUNT_CREATED)
    stmt = stmt.order_by(AuditEntry.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, name) == value)
    return list(session.scalars(stmt))


def _events(session, username: str) -> list[AuditEvent]:
    return [e.event for e in _entries(session, username=username)]


def _action(browser, action: str, ids) -> None:
    browser.post(
        "/admin/users/action/",
        {"action": action, "rowid": [str(i) for i in ids]},
        token_from="/admin/users/",
    )


# -- one entry per event -----------------------------------------------------------
def test_logins_failures_and_logouts_are_logged(browser, session):
    assert browser.login("bma_cardio", "wrong-password-1").status_code == 200
    assert browser.login("bma_cardio").status_code == 302
    browser.logout()
    assert _events(session, "bma_cardio") == [
        AuditEvent.LOGIN_FAILED,
        AuditEvent.LOGIN,
        AuditEvent.LOGOUT,
    ]
    cardio = _user(session, "bma_cardio")
    failed = _entries(session, username="bma_cardio")[0]
    assert failed.account_id == cardio.id and failed.unit_id == cardio.unit_id
    assert failed.remote_addr == "127.0.0.1"


def test_a_lock_its_refusals_and_its_lifting_are_logged(app, browser, another_browser, session):
    limit = app.config["LOGIN_LOCKOUT_FAILURES"]
    for _ in range(limit):
        browser.login("bma_cardio", "wrong-password-1")
    browser.login("bma_cardio")  # refused: locked
    superior = another_browser()
    assert superior.login("bma").status_code == 302
    _action(superior, "unlock", [_user(session, "bma_cardio").id])
    events = _events(session, "bma_cardio")
    assert events == [AuditEvent.LOGIN_FAILED] * limit + [
        AuditEvent.LOCKED,
        AuditEvent.LOGIN_LOCKED_OUT,
        AuditEvent.UNLOCKED,
    ]
    unlocked = _entries(session, event=AuditEvent.UNLOCKED)[0]
    assert unlocked.actor_id == _user(session, "bma").id


def test_an_unknown_username_is_logged_without_an_account(browser, session):
    browser.login("nobody_here", "wrong-password-1")
    (entry,) = _entries(session, username="nobody_here")
    assert entry.event is AuditEvent.LOGIN_FAILED
    assert entry.account_id is None and entry.unit_id is None


def test_account_management_is_logged_with_who_did_it(login_as, session):
    browser = login_as("bjcme")
    bjcme = _user(session, "bjcme")
    peds = _user(session, "bma_peds")
    cardio_unit = _user(session, "bma_cardio").unit_id
    response = browser.post(
        "/admin/users/new/",
        {
            "username": "new_member",
            "display_name": "新成员",
            "unit": str(peds.unit_id),
            "password": "given-by-boss-1",
            "password_confirm": "given-by-boss-1",
        },
    )
    assert response.status_code == 302
    _action(browser, "deactivate", [peds.id])
    _action(browser, "activate", [peds.id])
    response = browser.post(
        f"/admin/users/password/?id={peds.id}",
        {"password": "reset-by-boss-1", "password_confirm": "reset-by-boss-1"},
    )
    assert response.status_code == 302
    response = browser.post(
        f"/admin/users/edit/?id={peds.id}",
        {"display_name": peds.display_name, "unit": str(cardio_unit), "phone": "", "email": ""},
    )
    assert response.status_code == 302
    (created,) = session.scalars(select(AuditEntry).where(AuditEntry.username == "new_member"))
    assert created.event is AuditEvent.ACCOUNT_CREATED and created.actor_id == bjcme.id
    entries = _entries(session, username="bma_peds")
    assert [e.event for e in entries] == [
        AuditEvent.DEACTIVATED,
        AuditEvent.ACTIVATED,
        AuditEvent.PASSWORD_RESET,
        AuditEvent.UNIT_CHANGED,
    ]
    assert {e.actor_id for e in entries} == {bjcme.id}
    assert entries[-1].unit_id == cardio_unit and "→" in entries[-1].detail


def test_the_owners_password_change_is_logged_as_such(login_as, session):
    browser = login_as("bma_peds")
    data = {
        "password": DEMO_PASSWORD,
        "new_password": "Tiger7!lamp-river",
        "new_password_confirm": "Tiger7!lamp-river",
    }
    assert browser.post("/change", data).status_code == 302
    (entry,) = _entries(session, event=AuditEvent.PASSWORD_CHANGED)
    assert entry.username == "bma_peds" and entry.actor_id is None


def test_an_entry_cannot_be_changed_or_deleted(browser, session):
    browser.login("bma_cardio", "wrong-password-1")
    (entry,) = _entries(session, username="bma_cardio")
    entry.detail = "edited"
    with pytest.raises(AuditLogIsAppendOnly):
        session.flush()
    session.rollback()
    (entry,) = _entries(session, username="bma_cardio")
    session.delete(entry)
    with pytest.raises(AuditLogIsAppendOnly):
        session.flush()
    session.rollback()
    assert len(_entries(session, username="bma_cardio")) == 1


# -- who reads what ------------------------------------------------------------------
@pytest.fixture
def logged(browser, session):
    """Failed logins of an account of each level of the demo tree, of another
    tree's committee, and of an unknown username."""
    other = make_tree(session, "t2_")
    other["committee"].password = hash_password(DEMO_PASSWORD)
    session.commit()
    for username in ("bjcme", "bma", "bma_cardio", "bjtcm", "tcm_acu", "t2_committee", "ghost"):
        browser.login(username, "wrong-password-1")
    return other


def _listed(browser) -> set[str]:
    response = browser.get(f"{LOG}export/csv/")
    text = response.get_data(as_text=True)
    response.close()
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    return {row[2] for row in rows[1:] if row[1] == "登录失败"}


@pytest.mark.parametrize(
    ("reader", "sees"),
    [
        ("bjcme", {"bjcme", "bma", "bma_cardio", "bjtcm", "tcm_acu"}),
        ("bma", {"bma", "bma_cardio"}),
        ("bjtcm", {"bjtcm", "tcm_acu"}),
        ("t2_committee", {"t2_committee"}),
    ],
)
def test_each_unit_reads_only_its_scope(logged, another_browser, reader, sees):
    browser = another_browser()
    assert browser.login(reader).status_code == 302
    assert _listed(browser) == sees
    page = browser.get(LOG).get_data(as_text=True)
    assert "安全日志" in page
    for hidden in {"bjcme", "bma", "bma_cardio", "bjtcm", "tcm_acu", "t2_committee"} - sees:
        assert f">{hidden}<" not in page
    assert "ghost" not in page


def test_entry_units_cannot_open_the_log(logged, another_browser):
    browser = another_browser()
    assert browser.login("bma_cardio").status_code == 302
    assert_refused_with(browser.get(LOG), 403)
    assert_refused_with(browser.get(f"{LOG}export/csv/"), 403)


def test_the_log_has_no_create_edit_or_delete(logged, another_browser, session):
    browser = another_browser()
    browser.login("bjcme")
    entry = _entries(session, username="bma")[0]
    before = len(_entries(session))
    assert_refused_with(browser.get(f"{LOG}new/"), 404)
    assert_refused_with(browser.get(f"{LOG}edit/?id={entry.id}"), 404)
    browser.post(f"{LOG}delete/", {"id": str(entry.id)}, token_from=LOG)
    assert len(_entries(session)) == before
    assert browser.get(f"{LOG}details/?id={entry.id}").status_code == 200
    outside = _entries(session, username="t2_committee")[0]
    assert browser.get(f"{LOG}details/?id={outside.id}").status_code == 404


def test_the_log_exports_as_xlsx(logged, another_browser):
    browser = another_browser()
    browser.login("bma")
    response = browser.get(f"{LOG}export/xlsx/")
    body = response.get_data()
    response.close()  # the streamed file's temporary copy is removed on close
    assert response.status_code == 200
    assert body[:2] == b"PK"


def test_unit_of_entry_is_the_unit_at_the_time(browser, session):
    browser.login("bma_cardio", "wrong-password-1")
    (entry,) = _entries(session, username="bma_cardio")
    unit = session.get(Unit, entry.unit_id)
    assert unit.name == "北京医学会心血管病学分会"
