"""Account lockout after repeated failed logins, stored in the database
(``models.LoginThrottle``) so that every worker and every restart sees it.

One spelling of a username: :func:`normalized` (strip, then NFKC, as
Flask-Security's ``UsernameUtil`` cleans a typed username before the
case-insensitive look-up) is what the login looks the account up by, and
:func:`name_key` (that, case-folded) what the per-username rate limit counts.
Both are made once from what was typed, before anything else reads it: ``ｔｃｍ_ａｃｕ``,
``TCM_ACU``, `` tcm_acu `` and ``ᵗᶜᵐ_ᵃᶜᵘ`` are all ``tcm_acu``, so none of
them is a fresh name with fresh tries (a lock kept on the name as typed was
escaped, and cleared, by typing the name in full-width letters).

Kept per account for a name that finds one (``account:<id>``: whatever spelling
found it), per normalised name for one that does not (``name:<name>``): an
unknown username is counted and locked exactly like a real one, so the login
page answers the same ("wrong username or password", then "temporarily
locked") whether the name exists or not, and a locked name is refused before
its password is even checked (the same work, so the same time, for both). The
rate limits (Flask-Limiter, in ``accounts.login_security``) bound how fast
anyone can try; this bounds how many tries one account or name gets.

Settings: ``LOGIN_LOCKOUT_FAILURES`` failures (default 10) within
``LOGIN_LOCKOUT_WINDOW`` (default 15 minutes) lock the name for
``LOGIN_LOCKOUT_DURATION`` (default 15 minutes); a superior unit lifts the lock
earlier (:func:`unlock`, the accounts list's action).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from accounts import audit
from models import AuditEvent, LoginThrottle, User, utcnow

KEY_LENGTH = 64
ACCOUNT_PREFIX = "account:"
NAME_PREFIX = "name:"


def _setting(name: str):
    """``LOGIN_LOCKOUT_*`` (``settings.DefaultConfig``)."""
    return current_app.config[name]


def normalized(typed) -> str:
    """A typed username as Flask-Security cleans it before looking the account
    up: without surrounding blanks, in its ``SECURITY_INPUT_NORMALIZE_FORM``
    (NFKC: full-width letters, superscripts and ligatures become the plain
    letters). Anything but text (a JSON number) is no name."""
    if not isinstance(typed, str):
        return ""
    form = current_app.config.get("SECURITY_INPUT_NORMALIZE_FORM") or "NFKC"
    return unicodedata.normalize(form, typed.strip())


def name_key(typed) -> str:
    """The one spelling of a typed username for counting its tries: normalised,
    then case-folded (the login finds the account whatever the case)."""
    return unicodedata.normalize("NFKC", normalized(typed).casefold())


@dataclass(frozen=True)
class Attempt:
    """One login's username, normalised once: as typed (for the security log),
    normalised (what the account is looked up by) and the account it found."""

    typed: str
    name: str
    user: User | None

    @property
    def key(self) -> str:
        """The throttle row of this attempt: its account's if it found one."""
        if self.user is not None:
            return account_key(self.user)
        return (NAME_PREFIX + name_key(self.name))[:KEY_LENGTH]


def attempt(typed) -> Attempt:
    """Normalise a typed username and find its account, as the login does
    (Flask-Security's case-insensitive look-up of the normalised name)."""
    name = normalized(typed)
    user = None
    if name:
        datastore = current_app.extensions["security"].datastore
        user = datastore.find_user(case_insensitive=True, username=name)
    return Attempt(typed if isinstance(typed, str) else "", name, user)


def account_key(user: User) -> str:
    return f"{ACCOUNT_PREFIX}{user.id}"


def locked_until(session, key: str, now: datetime | None = None) -> datetime | None:
    """When the lock kept under ``key`` ends, or None if it is not locked."""
    row = session.get(LoginThrottle, key)
    now = now or utcnow()
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until
    return None


def _row_for_update(session, key: str) -> LoginThrottle:
    """The throttle row of ``key``, created if missing and locked for this
    transaction (two workers counting the same name do not lose a failure)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(LoginThrottle)
        .values(username=key, failures=0, window_started_at=utcnow())
        .on_conflict_do_nothing()
    )
    return session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.username == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def record_failure(session, tried: Attempt) -> bool:
    """Count a failed login and write the audit entries (the name as typed,
    the account it found), in the caller's transaction. True if this failure
    locked the account or name."""
    if not tried.name:
        return False
    now = utcnow()
    row = _row_for_update(session, tried.key)
    if row.window_started_at is None or now - row.window_started_at > _setting(
        "LOGIN_LOCKOUT_WINDOW"
    ):
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    row.failures += 1
    audit.record(session, AuditEvent.LOGIN_FAILED, user=tried.user, username=tried.typed)
    if row.failures >= _setting("LOGIN_LOCKOUT_FAILURES"):
        row.locked_until = now + _setting("LOGIN_LOCKOUT_DURATION")
        # The count starts again once the lock ends.
        row.failures, row.window_started_at = 0, row.locked_until
        audit.record(
            session,
            AuditEvent.LOCKED,
            user=tried.user,
            username=tried.typed,
            detail=f"{_setting('LOGIN_LOCKOUT_FAILURES')}",
        )
        return True
    return False


def clear(session, user: User) -> None:
    """A successful login forgets the account's earlier failures."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.username == account_key(user)))


def is_locked(session, user: User) -> bool:
    return locked_until(session, account_key(user)) is not None


def unlock(session, user: User) -> bool:
    """Lift the lock on ``user`` (a superior's action; the caller has checked
    that it may manage the account). True if it was locked."""
    if not is_locked(session, user):
        return False
    clear(session, user)
    audit.record(session, AuditEvent.UNLOCKED, user=user, username=user.username)
    return True
