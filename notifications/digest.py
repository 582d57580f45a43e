"""The daily digest (每日汇总): one mail a day to each account that chose it,
listing the messages of its unit (and to itself) since its last digest."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from models import Unit, User, utcnow
from models.message import EmailMode, Message, NotificationPreference, OutboxMail
from notifications.mail import enabled, footer, inbox_link
from notifications.wording import in_mail_language, reason_line, sentence

# The digest's day is Beijing's.
TIME_ZONE = ZoneInfo("Asia/Shanghai")


def day_start(now: datetime) -> datetime:
    """The start (naive UTC) of the Beijing day that holds ``now`` (naive UTC)."""
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(TIME_ZONE)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _body(messages: list[Message]) -> dict:
    lines = [gettext("Your messages since the last digest:"), ""]
    for message in messages:
        text = sentence(message.kind, message.actor_name, message.count, message.subject)
        lines.append(f"- {text}")
        if message.reason:
            lines.append(f"  {reason_line(message.reason)}")
    lines += ["", gettext("Open: %(link)s", link=inbox_link()), "", footer()]
    subject = gettext("[Beijing CME] Daily digest: %(n)s message(s)", n=len(messages))
    return {"subject": subject, "body": "\n".join(lines)}


def queue_digests(session: Session, now: datetime | None = None) -> int:
    """Queue today's digests (nothing for an account that already had one
    today, or has no new message); commits. Returns the number queued."""
    if not enabled():
        return 0
    now = now or utcnow()
    since = func.coalesce(NotificationPreference.last_digest_at, now - timedelta(days=1))
    readers = (
        select(User.id, User.email, Message)
        .join(NotificationPreference, NotificationPreference.user_id == User.id)
        .join(Unit, Unit.id == User.unit_id)
        .join(
            Message,
            and_(
                or_(Message.unit_id == User.unit_id, Message.user_id == User.id),
                Message.created_at > since,
                Message.created_at <= now,
            ),
        )
        .where(
            NotificationPreference.email_mode == EmailMode.DIGEST,
            or_(
                NotificationPreference.last_digest_at.is_(None),
                NotificationPreference.last_digest_at < day_start(now),
            ),
            User.active.is_(True),
            Unit.active.is_(True),
            User.email.is_not(None),
            User.email != "",
        )
        .order_by(User.id, Message.id)
    )
    by_account: dict[int, tuple[str, list[Message]]] = {}
    for user_id, email, message in session.execute(readers):
        by_account.setdefault(user_id, (email, []))[1].append(message)
    if not by_account:
        session.commit()
        return 0
    letters = [
        {
            "user_id": user_id,
            "recipient": email,
            "created_at": now,
            **in_mail_language(_body, messages),
        }
        for user_id, (email, messages) in by_account.items()
    ]
    session.execute(insert(OutboxMail), letters)
    session.execute(
        update(NotificationPreference)
        .where(NotificationPreference.user_id.in_(list(by_account)))
        .values(last_digest_at=now)
    )
    session.commit()
    current_app.logger.info("queued %s daily digests", len(letters))
    return len(letters)
