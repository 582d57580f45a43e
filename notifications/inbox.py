"""An account's messages: those to its unit and those to itself. Every read
and every change of a message goes through ``addressed_to``."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, func, or_, select, update
from sqlalchemy.orm import Session

from models import utcnow
from models.message import EmailMode, Message, NotificationPreference


def addressed_to(account) -> ColumnElement[bool]:
    if account is None or not account.is_active:
        return false()
    return or_(Message.unit_id == account.unit_id, Message.user_id == account.id)


def messages_of(account) -> Select:
    return select(Message).where(addressed_to(account)).order_by(Message.id.desc())


def unread_count(session: Session, account) -> int:
    """The bell's number: one statement of two index-only counts (unit, account)
    rather than an OR that would scan."""
    if account is None or not account.is_active:
        return 0
    unread = Message.read_at.is_(None)
    to_unit = select(func.count()).where(Message.unit_id == account.unit_id, unread)
    to_account = select(func.count()).where(Message.user_id == account.id, unread)
    return session.execute(
        select(to_unit.scalar_subquery() + to_account.scalar_subquery())
    ).scalar_one()


def find(session: Session, account, message_id: int) -> Message | None:
    return session.scalars(
        select(Message).where(Message.id == message_id, addressed_to(account))
    ).first()


def mark_read(session: Session, account, message_ids: list[int] | None = None) -> int:
    """Mark the account's unread messages read (only ``message_ids`` if given);
    returns how many changed. The caller commits."""
    stmt = update(Message).where(addressed_to(account), Message.read_at.is_(None))
    if message_ids is not None:
        stmt = stmt.where(Message.id.in_(message_ids))
    return session.execute(
        stmt.values(read_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount


def email_mode(session: Session, account) -> EmailMode:
    mode = session.scalar(
        select(NotificationPreference.email_mode).where(
            NotificationPreference.user_id == account.id
        )
    )
    return mode or EmailMode.IMMEDIATE


def set_email_mode(session: Session, account, mode: EmailMode) -> None:
    """The caller commits."""
    preference = session.get(NotificationPreference, account.id)
    if preference is None:
        session.add(NotificationPreference(user_id=account.id, email_mode=mode))
    else:
        preference.email_mode = mode
