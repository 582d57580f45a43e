"""Account lockout after repeated failed logins, stored in the database
(``models.LoginThrottle``) so that every worker and every restart sees it.

Kept per username as typed (lower case), not per account: an unknown username is
counted and locked exactly like a real one, so the login page answers the same
("wrong username or password", then "temporarily locked") whether the name exists
or not, and a locked name is refused before its password is even checked (the
same work, so the same time, for both). The rate limits (Flask-Limiter, in
``admin_views.login_security``) bound how fast anyone can try; this bounds how
many tries one name gets.

Settings: ``LOGIN_LOCKOUT_FAILURES`` failures (default 10) within
``LOGIN_LOCKOUT_WINDOW`` (default 15 minutes) lock the name for
``LOGIN_LOCKOUT_DURATION`` (default 15 minutes); a superior unit lifts the lock
earlier (:func:`unlock`, the accounts list's action).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from accounts import audit
from models import AuditEvent, LoginThrottle, User, utcnow

DEFAULTS = {
    "LOGIN_LOCKOUT_FAILURES": 10,
    "LOGIN_LOCKOUT_WINDOW": timedelta(minutes=15),
    "LOGIN_LOCKOUT_DURATION": timedelta(minutes=15),
}
KEY_LENGTH = 64


def _setting(name: str):
    return current_app.config.get(name, DEFAULTS[name])


def key(username: str | None) -> str:
    """The throttle's key of a typed username: as the login looks it up (any case)."""
    return (username or "").strip().casefold()[:KEY_LENGTH]


def locked_until(session, username: str | None, now: datetime | None = None) -> datetime | None:
    """When the lock on ``username`` ends, or None if it is not locked."""
    row = session.get(LoginThrottle, key(username))
    now = now or utcnow()
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until
    return None


def _row_for_update(session, name: str) -> LoginThrottle:
    """The throttle row of ``name``, created if missing and locked for this
    transaction (two workers counting the same name do not lose a failure)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(LoginThrottle)
        .values(username=name, failures=0, window_started_at=utcnow())
        .on_conflict_do_nothing()
    )
    return session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.username == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def record_failure(session, username: str | None, user: User | None) -> bool:
    """Count a failed login of ``username`` (``user`` its account, if any) and
    write the audit entries, in the caller's transaction. True if this failure
    locked the name."""
    name = key(username)
    if not name:
        return False
    now = utcnow()
    row = _row_for_update(session, name)
    if row.window_started_at is None or now - row.window_started_at > _setting(
        "LOGIN_LOCKOUT_WINDOW"
    ):
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    row.failures += 1
    audit.record(session, AuditEvent.LOGIN_FAILED, user=user, username=username)
    if row.failures >= _setting("LOGIN_LOCKOUT_FAILURES"):
        row.locked_until = now + _setting("LOGIN_LOCKOUT_DURATION")
        # The count starts again once the lock ends.
        row.failures, row.window_started_at = 0, row.locked_until
        audit.record(
            session,
            AuditEvent.LOCKED,
            user=user,
            username=username,
            detail=f"{_setting('LOGIN_LOCKOUT_FAILURES')}",
        )
        return True
    return False


def clear(session, username: str | None) -> None:
    """A successful login forgets the name's earlier failures."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.username == key(username)))


def is_locked(session, user: User) -> bool:
    return locked_until(session, user.username) is not None


def unlock(session, user: User) -> bool:
    """Lift the lock on ``user``'s username (a superior's action; the caller has
    checked that it may manage the account). True if it was locked."""
    if not is_locked(session, user):
        return False
    clear(session, user.username)
    audit.record(session, AuditEvent.UNLOCKED, user=user, username=user.username)
    return True
