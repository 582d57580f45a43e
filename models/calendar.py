"""The filing calendar (申报时间) and its reminders (催办).

A committee sets, per year, a window for each step a project takes on its way up
(``WindowStep``); a society may close the entry units' step earlier for its own
branches; the committee (or a society, inside its own window) grants one unit a
later date (``WindowException``). The checks and the resolution of a unit's
window are ``workflow.calendar``; the reminders sent when work waits are
``notifications.reminders``, which records each one here (``Reminder``).
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamps, TitledEnum, enum_type, utcnow


def _enum(cls, name: str):
    return enum_type(cls, name, length=24)


class WindowStep(TitledEnum):
    """A step with a window: the entry units' 上报 (a branch to its society, a
    certificate-issuing unit to the committee), a society's 上报 to the committee,
    and the committee's own 审核 (公布)."""

    ENTRY_REPORT = "entry_report", _l("Entry units' reporting")
    SOCIETY_REPORT = "society_report", _l("Societies' reporting")
    AUDIT = "audit", _l("Committee's audit")


class FilingWindow(Timestamps, Base):
    """One window of one year: from ``opens_on`` (None: no start) to ``closes_on``,
    both days included, Beijing days.

    ``unit_id`` is the unit that set it: the committee (any step), or a society
    (the entry units' step only: an earlier cut-off for its own branches, inside
    the committee's window)."""

    __tablename__ = "filing_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    committee_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    step: Mapped[WindowStep] = mapped_column(_enum(WindowStep, "window_step"))
    opens_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("unit_id", "year", "step"),
        Index("ix_filing_windows_committee_id_year", "committee_id", "year"),
    )


class WindowException(Base):
    """A later date granted to one unit for one step of one year (a named
    exception): the unit may take the step until ``until`` (its expiry), for
    ``reason``. Granted by the committee, or by a society to one of its branches
    (never past the committee's own window)."""

    __tablename__ = "window_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    committee_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    granted_by_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    granted_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    year: Mapped[int] = mapped_column(Integer)
    step: Mapped[WindowStep] = mapped_column(_enum(WindowStep, "window_step"))
    until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        Index("ix_window_exceptions_unit_id_year_step", "unit_id", "year", "step"),
        Index("ix_window_exceptions_committee_id_year", "committee_id", "year"),
    )


class ReminderClock(TitledEnum):
    """What a reminder is about: each clock counts days from its own event."""

    # Projects not yet reported (可修改) when the unit's reporting window closes in N days.
    WINDOW_CLOSING = "window_closing", _l("Reporting window closing")
    # Projects waiting at a society (已上报学会), or at the committee, for more than N days.
    WAITING_SOCIETY = "waiting_society", _l("Projects waiting at a society")
    WAITING_COMMITTEE = "waiting_committee", _l("Projects waiting at the committee")
    # Execution reports (with their rosters) due within N days, and those overdue.
    EXECUTION_DUE = "execution_due", _l("Execution reports coming due")
    EXECUTION_OVERDUE = "execution_overdue", _l("Execution reports overdue")


class ReminderSettings(Timestamps, Base):
    """A committee's 催办 settings: each clock on or off with its N days
    (``clocks``: ``{clock: {"on": bool, "days": int}}``, a missing clock takes
    ``DEFAULT_CLOCKS``), and M, the days after which an item still overdue is
    escalated to the parent unit. A committee without a row uses the defaults."""

    __tablename__ = "reminder_settings"

    committee_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    clocks: Mapped[dict] = mapped_column(JSON, default=dict)
    escalate_after_days: Mapped[int] = mapped_column(Integer, default=7)


# Each clock's default: on, with its N days.
DEFAULT_CLOCKS: dict[ReminderClock, dict] = {
    ReminderClock.WINDOW_CLOSING: {"on": True, "days": 7},
    ReminderClock.WAITING_SOCIETY: {"on": True, "days": 14},
    ReminderClock.WAITING_COMMITTEE: {"on": True, "days": 14},
    ReminderClock.EXECUTION_DUE: {"on": True, "days": 7},
    ReminderClock.EXECUTION_OVERDUE: {"on": True, "days": 0},
}
DEFAULT_ESCALATE_AFTER_DAYS = 7


class Reminder(Base):
    """One reminder sent: to ``unit_id``, about ``clock``, on Beijing ``day``.

    ``escalation`` is False for the unit holding the items, True for the parent
    unit told about its children's overdue items. The unique key makes a run
    idempotent: at most one reminder per unit, clock, kind and day, however many
    runs (or concurrent runs) there are. ``items`` lists what it named
    (``{"id", "name", "unit_id"}``); ``message_id`` is the bell's message."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    committee_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    clock: Mapped[ReminderClock] = mapped_column(_enum(ReminderClock, "reminder_clock"))
    day: Mapped[date] = mapped_column(Date)
    escalation: Mapped[bool] = mapped_column(Boolean, default=False)
    item_count: Mapped[int] = mapped_column(Integer)
    items: Mapped[list] = mapped_column(JSON, default=list)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    # Which run wrote it (a random id per run): the run's own rows, for its mail.
    run_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("unit_id", "clock", "escalation", "day"),
        Index("ix_reminders_committee_id_day", "committee_id", "day"),
    )
