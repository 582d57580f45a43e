"""Writing the security log (``models.AuditEntry``).

Entries are added to the session of the event, never committed here: the event
and its entry are committed together or not at all. Login events are written by
the login page (``accounts.login_security``); changes to an account (created,
deactivated or activated, moved to another unit, its password set) are noticed
where they are flushed (:func:`audit_account_changes`), whichever page or
command made them, so no path can skip the log.
"""

from __future__ import annotations

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from models import AuditEntry, AuditEvent, Unit, User

USERNAME_LENGTH = 64
DETAIL_LENGTH = 255


def remember_actor(sender, identity=None, **extra) -> None:
    """Flask-Principal's ``identity_loaded``, sent by Flask-Security once it has loaded
    the request's account (before the view, and again on a login or logout): the account
    is kept for :func:`_actor`, which runs inside a flush and must not load it. Connected
    in ``receivers.py``."""
    user = current_user._get_current_object() if current_user else None
    g.audit_actor = user if isinstance(user, User) else None


def _actor() -> User | None:
    """The signed-in account making the change, if any (:func:`remember_actor`)."""
    if not has_request_context():
        return None
    return g.get("audit_actor")


def _logging_in() -> bool:
    return has_request_context() and request.endpoint == "security.login"


def _address() -> str | None:
    return request.remote_addr if has_request_context() else None


def record(
    session,
    kind: AuditEvent,
    *,
    user: User | None = None,
    username: str | None = None,
    actor: User | None = None,
    unit: Unit | None = None,
    detail: str | None = None,
) -> AuditEntry:
    """Add one entry to ``session`` (committed with the caller's transaction).
    ``actor`` defaults to the signed-in account when it is not ``user`` itself."""
    if actor is None:
        actor = _actor()
    if actor is not None and user is not None and actor is user:
        actor = None
    entry = AuditEntry(
        event=kind,
        username=(username or (user.username if user is not None else ""))[:USERNAME_LENGTH],
        account=user,
        unit=unit if unit is not None else (user.unit if user is not None else None),
        actor=actor,
        remote_addr=_address(),
        detail=detail[:DETAIL_LENGTH] if detail else None,
    )
    session.add(entry)
    return entry


def _changed(user: User, name: str):
    """(old, new) of an attribute changed in this flush, or None."""
    history = inspect(user).attrs[name].history
    if not history.has_changes():
        return None
    old = history.deleted[0] if history.deleted else None
    new = history.added[0] if history.added else None
    return None if old == new else (old, new)


def audit_account_changes(session: Session, flush_context, instances) -> None:
    with session.no_autoflush:
        for user in [obj for obj in session.new if isinstance(obj, User)]:
            record(session, AuditEvent.ACCOUNT_CREATED, user=user)
        for user in [obj for obj in session.dirty if isinstance(obj, User)]:
            if not session.is_modified(user):
                continue
            _audit_active(session, user)
            _audit_unit(session, user)
            _audit_password(session, user)


def _audit_active(session: Session, user: User) -> None:
    """启用 / 停用 of an account, if this flush changes it."""
    if change := _changed(user, "active"):
        kind = AuditEvent.ACTIVATED if change[1] else AuditEvent.DEACTIVATED
        record(session, kind, user=user)


def _audit_unit(session: Session, user: User) -> None:
    """An account moved to another unit, if this flush moves it."""
    change = _changed(user, "unit")
    if change and getattr(change[0], "id", None) != getattr(change[1], "id", None):
        old, new = change
        detail = f"{old.name if old else ''} → {new.name if new else ''}"
        # Logged under the new unit; the old one's name is in the detail.
        record(session, AuditEvent.UNIT_CHANGED, user=user, unit=new, detail=detail)


def _audit_password(session: Session, user: User) -> None:
    """A password changed by its owner, or reset by another account."""
    # A login may re-hash a password with newer settings: not a change.
    if _changed(user, "password") and not _logging_in():
        actor = _actor()
        by_other = actor is not None and actor.id != user.id
        kind = AuditEvent.PASSWORD_RESET if by_other else AuditEvent.PASSWORD_CHANGED
        record(session, kind, user=user, actor=actor if by_other else None)
