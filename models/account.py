"""Accounts (帐号) and their roles, for Flask-Security-Too.

An account's role follows from its unit's kind (docs/domain.md#roles) and is kept in sync
by a flush hook: no form or command chooses it. Accounts are created only
through ``accounts.create_account`` (Flask-Security's datastore).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_security import RoleMixin, UserMixin
from flask_security.models.fsqla_v3 import AsaList
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Table, event
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, Timestamps, TitledEnum, utcnow
from models.unit import Unit, UnitKind


class RoleName(TitledEnum):
    COMMITTEE = "committee", _l("Top administration")
    SOCIETY = "society", _l("Middle administration")
    ENTRY = "entry", _l("Entry unit")


ROLE_OF_KIND = {
    UnitKind.COMMITTEE: RoleName.COMMITTEE,
    UnitKind.SOCIETY: RoleName.SOCIETY,
    UnitKind.BRANCH: RoleName.ENTRY,
    UnitKind.ISSUER: RoleName.ENTRY,
}
# Coarse permissions (Flask-Security's has_permission); the fine checks on an
# object live in permissions/.
ROLE_PERMISSIONS = {
    RoleName.COMMITTEE: [
        "project-audit",
        "unit-manage",
        "account-manage",
        "discipline-manage",
    ],
    RoleName.SOCIETY: ["project-review", "unit-manage", "account-manage"],
    RoleName.ENTRY: ["project-enter"],
}


class PermissionList(AsaList):
    """Flask-Security's comma-separated list type, declared safe to cache."""

    cache_ok = True


roles_users = Table(
    "roles_users",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class Role(Base, RoleMixin):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))
    permissions = mapped_column(MutableList.as_mutable(PermissionList()), nullable=True)
    update_datetime = mapped_column(DateTime, nullable=True)

    def __str__(self) -> str:
        return str(RoleName(self.name).title)


class User(Timestamps, Base, UserMixin):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(255))
    password: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    fs_uniquifier: Mapped[str] = mapped_column(String(64), unique=True)
    confirmed_at = mapped_column(DateTime, nullable=True)
    # Set when a superior creates the account or resets its password: the
    # owner must choose their own password at the next login.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)

    unit: Mapped[Unit] = relationship(lazy="joined", innerjoin=True)
    roles: Mapped[list[Role]] = relationship(secondary=roles_users, lazy="selectin")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.username})"

    @property
    def is_active(self) -> bool:
        """An account of a deactivated unit cannot log in either."""
        return bool(self.active and self.unit is not None and self.unit.active)


class LoginThrottle(Base):
    """Failed logins of one username (lower case), whether or not an account has
    it: an unknown username is locked after as many failures as a real one, so
    the login page's answers never tell which usernames exist. The row goes when
    a login succeeds or a superior lifts the lock (``accounts.lockout``)."""

    __tablename__ = "login_throttles"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class LoginSession(Base):
    """One signed-in browser: its random id sits in the (signed) session cookie
    and this row on the server, so that logging out, an idle or too old session
    and a password change end it here, whatever copy of the cookie is left
    (``accounts.sessions``)."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)


def ensure_roles(session: Session) -> dict[RoleName, Role]:
    """The three roles, created on first use with their permissions."""
    existing = {r.name: r for r in session.query(Role).all()}
    roles = {}
    for name in RoleName:
        role = existing.get(name.value)
        if role is None:
            role = Role(name=name.value, description=name.name.lower())
            session.add(role)
        if list(role.permissions or []) != ROLE_PERMISSIONS[name]:
            role.permissions = list(ROLE_PERMISSIONS[name])
        roles[name] = role
    return roles


@event.listens_for(Session, "before_flush")
def _sync_roles(session: Session, flush_context, instances) -> None:
    users = [obj for obj in (*session.new, *session.dirty) if isinstance(obj, User)]
    roles = None
    for user in users:
        with session.no_autoflush:
            unit = user.unit or (session.get(Unit, user.unit_id) if user.unit_id else None)
            if unit is None:
                continue
            wanted = ROLE_OF_KIND[unit.kind]
            if [r.name for r in user.roles] != [wanted.value]:
                roles = roles or ensure_roles(session)
                user.roles = [roles[wanted]]
