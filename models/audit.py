"""The security log (安全日志): one row per security event, never changed.

Rows are added in the same transaction as the event they record (a login, a
password reset…), so an event without its entry, or an entry without its event,
cannot be committed. Nothing updates or deletes a row: the ORM refuses it
(``_refuse_changes``) and no view offers it. The rows a unit may read are chosen
by ``permissions.visible_audit_entries`` through ``unit_id``, the unit the account
belonged to when the event happened; an entry of an unknown username has no
unit and is read only by operators in the database.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, Enum, ForeignKey, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, TitledEnum, utcnow


class AuditEvent(TitledEnum):
    LOGIN = "login", _l("Logged in")
    LOGIN_FAILED = "login_failed", _l("Login failed")
    LOGIN_LOCKED_OUT = "login_locked_out", _l("Login refused: locked")
    LOCKED = "locked", _l("Locked after failed logins")
    UNLOCKED = "unlocked", _l("Unlocked")
    LOGOUT = "logout", _l("Logged out")
    ACCOUNT_CREATED = "account_created", _l("Account created")
    DEACTIVATED = "deactivated", _l("Account deactivated")
    ACTIVATED = "activated", _l("Account activated")
    PASSWORD_RESET = "password_reset", _l("Password reset by a superior")
    PASSWORD_CHANGED = "password_changed", _l("Password changed")
    UNIT_CHANGED = "unit_changed", _l("Unit (and role) changed")
    # A roster (学员名单, personal data) exported: who, which report, how many rows.
    ROSTER_EXPORTED = "roster_exported", _l("Roster exported")
    # A later filing date (申报时间例外) granted to the unit: step, year, date, reason.
    WINDOW_EXCEPTION = "window_exception", _l("Filing window exception")


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    event: Mapped[AuditEvent] = mapped_column(
        Enum(
            AuditEvent, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]
        )
    )
    # The username as typed (kept when the name matches no account, and after
    # the account is renamed); the account and its unit when there is one.
    username: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="SET NULL"), index=True
    )
    # Who did it when it was not the account itself (a superior's reset,
    # unlock, deactivation…).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(255))

    account = relationship("User", foreign_keys=[account_id], lazy="joined")
    unit = relationship("Unit", foreign_keys=[unit_id], lazy="joined")
    actor = relationship("User", foreign_keys=[actor_id], lazy="joined")


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, flush_context, instances) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly("the security log is append-only")
