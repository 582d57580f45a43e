"""Server-side sessions: each login gets a random id, kept in the signed session
cookie and as a ``models.LoginSession`` row. A request whose id has no live row is
signed out, so:

- logging out ends that browser's session for good: a copied cookie opens
  nothing (other browsers of the same account stay signed in: logging out on
  the office computer does not sign out the phone);
- a session unused for ``SESSION_IDLE_TIMEOUT`` (default 30 minutes) or older
  than ``SESSION_MAX_AGE`` (default 12 hours) ends, whatever the cookie says;
- a password change ends every other session of the account (and a superior's
  reset every session: Flask-Security also rotates ``fs_uniquifier`` then).

The alternative, rotating ``fs_uniquifier`` on logout, would sign the account out
everywhere at each logout and could not express an idle timeout.
"""

from __future__ import annotations

import secrets

from flask import current_app, session
from sqlalchemy import update

from models import LoginSession, User, utcnow

SESSION_KEY = "cme_sid"


def _setting(name: str):
    """``SESSION_*`` (``settings.DefaultConfig``)."""
    return current_app.config[name]


def start(db_session, user: User) -> LoginSession:
    """A new server-side session for ``user`` in this browser (after a login or a
    password change); the browser's previous one, if any, ends."""
    end_current(db_session)
    row = LoginSession(id=secrets.token_urlsafe(32), user_id=user.id)
    now = utcnow()
    row.created_at = row.last_seen_at = now
    db_session.add(row)
    session[SESSION_KEY] = row.id
    return row


def end_current(db_session) -> None:
    sid = session.pop(SESSION_KEY, None)
    if sid:
        db_session.execute(
            update(LoginSession)
            .where(LoginSession.id == sid, LoginSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def end_others(db_session, user: User) -> None:
    """End every session of ``user`` but this browser's."""
    db_session.execute(
        update(LoginSession)
        .where(
            LoginSession.user_id == user.id,
            LoginSession.id != (session.get(SESSION_KEY) or ""),
            LoginSession.ended_at.is_(None),
        )
        .values(ended_at=utcnow())
    )


def is_live(db_session, user: User) -> bool:
    """Whether this browser's session of ``user`` may go on; refreshes its
    last-seen time (committed at once, at most every ``SESSION_TOUCH_INTERVAL``)."""
    sid = session.get(SESSION_KEY)
    row = db_session.get(LoginSession, sid) if sid else None
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return False
    now = utcnow()
    if now - row.last_seen_at > _setting("SESSION_IDLE_TIMEOUT"):
        return False
    if now - row.created_at > _setting("SESSION_MAX_AGE"):
        return False
    if now - row.last_seen_at > _setting("SESSION_TOUCH_INTERVAL"):
        row.last_seen_at = now
        db_session.commit()
    return True


def end_all(db_session, user: User) -> None:
    """End every session of ``user`` (a superior set its password)."""
    db_session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
