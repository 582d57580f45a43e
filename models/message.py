"""Notifications (消息提醒): in-app messages, the mail outbox and each account's
choice of e-mail (docs/notifications.md).

A message goes to a unit (every account of it reads the same message, like a
shared in-tray) or to one account. One bulk action writes one message per
receiving unit, naming the count, never one per project. The messages
themselves are written by ``notifications``, in the transaction of the move.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TitledEnum, enum_type, utcnow


class MessageKind(TitledEnum):
    """What happened; the same kinds for projects and execution reports (a message's
    ``subject``). PUBLISHED is the committee's last word: 审核通过并公布 of projects,
    审核通过 of execution reports."""

    REPORTED = "reported", _l("Projects reported")
    RETURNED = "returned", _l("Returned for changes")
    PUBLISHED = "published", _l("Projects published")
    WITHDRAWN = "withdrawn", _l("Publication withdrawn")
    # 催办: work waiting past a clock (``notifications.reminders``), to the unit holding
    # it, or to its parent unit when it is still overdue later (an escalation).
    REMINDER = "reminder", _l("Reminder")


class MessageSubject(enum.StrEnum):
    """What a message's rows are: projects or execution reports (执行情况). Not a
    column: the list the message opens (``list_endpoint``) says it."""

    PROJECTS = "projects"
    EXECUTIONS = "executions"

    @classmethod
    def of_list(cls, endpoint: str) -> MessageSubject:
        return cls.EXECUTIONS if endpoint in SUBJECT_LISTS[cls.EXECUTIONS] else cls.PROJECTS


#: The lists a message opens, by subject: the owner unit's, the society's, the committee's.
SUBJECT_LISTS = {
    MessageSubject.PROJECTS: ("projects", "review", "audit"),
    MessageSubject.EXECUTIONS: ("executions", "execution_review", "execution_audit"),
}

EXECUTION_KIND_TITLES = {
    MessageKind.REPORTED: _l("Execution reports reported"),
    MessageKind.RETURNED: _l("Returned for changes"),
    MessageKind.PUBLISHED: _l("Execution reports accepted"),
    MessageKind.REMINDER: MessageKind.REMINDER.title,
}


class EmailMode(TitledEnum):
    """How an account wants to be mailed: each message at once, one summary a
    day, or not at all (the in-app messages stay in every case)."""

    IMMEDIATE = "immediate", _l("Each message at once")
    DIGEST = "digest", _l("Daily digest")
    OFF = "off", _l("No e-mail")


_enum = enum_type


class Message(Base):
    """One message to a unit or an account about one bulk action."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[MessageKind] = mapped_column(_enum(MessageKind, "message_kind"))
    # The unit that acted, and its name at the time: the sentence ("… 上报了
    # 3 个项目") is put together when shown, in the reader's language.
    actor_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    # The list that shows the work: its endpoint (``SUBJECT_LISTS``: "projects",
    # "review", "audit", or the 执行情况 lists) and its filters by name (state,
    # unit, year), turned into a URL when shown, so the link follows the list's
    # URL scheme.
    list_endpoint: Mapped[str] = mapped_column(String(32))
    list_filters: Mapped[dict] = mapped_column(JSON, default=dict)
    # The projects (or execution reports) the message is about (ids and names, in
    # the action's order).
    projects: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("(unit_id IS NULL) <> (user_id IS NULL)", name="one_recipient"),
        # The bell's unread count and the list: one index probe each.
        Index("ix_messages_unit_id_read_at", "unit_id", "read_at"),
        Index("ix_messages_user_id_read_at", "user_id", "read_at"),
        Index("ix_messages_created_at", "created_at"),
    )

    @property
    def project_ids(self) -> list[int]:
        """The ids of the projects (or, for execution reports, the reports)."""
        return [p["id"] for p in self.projects or []]

    @property
    def subject(self) -> MessageSubject:
        return MessageSubject.of_list(self.list_endpoint)

    @property
    def title(self):
        """The kind of message, in the words of its subject."""
        kind = MessageKind(self.kind)
        if self.subject is MessageSubject.EXECUTIONS:
            return EXECUTION_KIND_TITLES[kind]
        return kind.title


class NotificationPreference(Base):
    """An account's choice of e-mail; an account without a row is mailed at once
    (when it has an address). ``last_digest_at``: when its last daily digest
    was queued, so that it gets at most one a day and each message once."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email_mode: Mapped[EmailMode] = mapped_column(
        _enum(EmailMode, "email_mode"), default=EmailMode.IMMEDIATE
    )
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime)


class OutboxMail(Base):
    """A mail queued in the transaction that caused it and sent after the
    commit; one that could not be sent stays here (``sent_at`` NULL) with its
    last error and is tried again (``flask send-mail``, the next request)."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_mail_outbox_sent_at_id", "sent_at", "id"),)
