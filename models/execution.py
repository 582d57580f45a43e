"""After the event (执行情况): the execution report of a published project, the
lecturers who actually taught, the attendance roster (学员名单) and the report's
immutable history. docs/domain.md#执行情况.

A report is opened by its project's owner unit once the project is published,
prefilled from the published version; it then goes up the same review chain as
the project, through the second transition table of ``workflow.transitions``
run by the same engine. Like a project's, its state column is written only by
the engine (compare-and-set UPDATEs); assigning it through the ORM raises.

Roster rows hold learners' personal data (ID numbers): who may read them is
``permissions.scopes.execution_visibility``; how they are shown is
``models.rules.mask_id_number``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from models.base import Base, ReviewState, Timestamps, TitledEnum, immutable, utcnow
from models.event import HistoryColumns
from models.project import (
    LecturerColumns,
    Project,
    ProjectMode,
    StateAssignmentError,
    _enum_type,
)
from models.unit import Unit


class ExecutionState(ReviewState):
    DRAFT = "draft", _l("Not reported")
    RETURNED = "returned", _l("Returned for changes")
    AT_SOCIETY = "at_society", _l("Reported to society")
    AT_COMMITTEE = "at_committee", _l("Reported to committee")
    ACCEPTED = "accepted", _l("Accepted")


class IdType(TitledEnum):
    """证件类型 of a learner."""

    RESIDENT = "resident", _l("Resident identity card")
    PERMIT = "permit", _l("Residence permit for Hong Kong, Macao and Taiwan residents")
    PASSPORT = "passport", _l("Passport")


class RosterSource(enum.StrEnum):
    """How a learner came onto the roster."""

    PANEL = "panel"
    IMPORT = "import"
    SIGNIN = "signin"


class ExecutionReport(Timestamps, Base):
    """执行情况: what was actually held, one per published project."""

    __tablename__ = "execution_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    # Copied from the project when the report is opened (units never move, a
    # published project's name and year do not change while it is published):
    # the engine reads a report exactly as it reads a project.
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    society_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    committee_id: Mapped[int] = mapped_column(ForeignKey("units.id"))

    state: Mapped[ExecutionState] = mapped_column(
        _enum_type(ExecutionState, "execution_state"), default=ExecutionState.DRAFT
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The published end date + the committee's number of days for the year.
    due_date: Mapped[date] = mapped_column(Date)

    # What was held (prefilled from the published project).
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    venue: Mapped[str] = mapped_column(String(200))
    mode: Mapped[ProjectMode] = mapped_column(_enum_type(ProjectMode, "mode"))
    theory_hours: Mapped[float] = mapped_column(Float)
    practice_hours: Mapped[float] = mapped_column(Float, default=0)
    # Credits awarded per learner who completed it (at most the published credits).
    credits: Mapped[float] = mapped_column(Float)
    # Number of learners (the roster's attended rows when a roster is kept).
    learners: Mapped[int] = mapped_column(Integer, default=0)
    # The roster's own figures, counted again from its rows at every roster write
    # (``workflow.execution.roster_write``): its attended rows, and the sum of all its
    # rows' credits. 统计 and the public catalog read these, never the roster's rows.
    attended_learners: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    credits_awarded: Mapped[float] = mapped_column(Float, default=0, server_default="0")
    summary: Mapped[str | None] = mapped_column(Text)
    # Exam pass rate in percent, optional.
    pass_rate: Mapped[float | None] = mapped_column(Float)

    return_reason: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime | None] = mapped_column(DateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    # On-site QR sign-in (public/signin.py): open while ``signin_open``, on the
    # event's dates only; a new ``signin_nonce`` voids every code shown before.
    signin_open: Mapped[bool] = mapped_column(Boolean, default=False)
    signin_nonce: Mapped[str | None] = mapped_column(String(32))

    project: Mapped[Project] = relationship(lazy="joined", innerjoin=True)
    owner_unit: Mapped[Unit] = relationship(foreign_keys=[owner_unit_id], lazy="joined")
    lecturers: Mapped[list[ExecutionLecturer]] = relationship(
        back_populates="report",
        cascade="all, delete-orphan",
        order_by="ExecutionLecturer.position, ExecutionLecturer.id",
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_execution_reports_owner_state_year", "owner_unit_id", "state", "year"),
        Index("ix_execution_reports_society_state_year", "society_id", "state", "year"),
        Index("ix_execution_reports_committee_state_year", "committee_id", "state", "year"),
        Index("ix_execution_reports_owner_updated", "owner_unit_id", "updated_at", "id"),
        Index("ix_execution_reports_society_updated", "society_id", "updated_at", "id"),
        Index("ix_execution_reports_committee_updated", "committee_id", "updated_at", "id"),
        # A reviewer's work tab (待审阅 / 待审核): one state, newest first, a page read in order
        # however long the queue (migration 0031).
        Index(
            "ix_execution_reports_society_state_updated", "society_id", "state", "updated_at", "id"
        ),
        Index(
            "ix_execution_reports_committee_state_updated",
            "committee_id",
            "state",
            "updated_at",
            "id",
        ),
        Index("ix_execution_reports_state_due", "state", "due_date"),
        # 统计 · 执行情况: a project's report with what the figures read of it, from the index.
        Index(
            "ix_execution_reports_project_figures",
            "project_id",
            "state",
            "due_date",
            "attended_learners",
            "credits_awarded",
            "id",
        ),
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        CheckConstraint("credits >= 0 AND credits <= 30", name="credits_range"),
        CheckConstraint("theory_hours >= 0 AND practice_hours >= 0", name="hours_range"),
        CheckConstraint("learners >= 0", name="learners_range"),
        CheckConstraint(
            "pass_rate IS NULL OR (pass_rate >= 0 AND pass_rate <= 100)", name="pass_rate_range"
        ),
    )

    def __str__(self) -> str:
        return self.name

    @validates("state")
    def _refuse_state_assignment(self, key, value):
        raise StateAssignmentError("a report's state changes only through the workflow engine")

    @property
    def total_hours(self) -> float:
        return (self.theory_hours or 0) + (self.practice_hours or 0)

    def is_overdue(self, today: date) -> bool:
        """Not yet reported upwards (or sent back) and past its due date."""
        return ExecutionState(self.state).modifiable and today > self.due_date


class ExecutionLecturer(LecturerColumns, Base):
    """A lecturer who actually taught (授课教师), as the report says."""

    __tablename__ = "execution_lecturers"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("execution_reports.id", ondelete="CASCADE"), index=True
    )

    report: Mapped[ExecutionReport] = relationship(back_populates="lecturers")


class RosterEntry(Timestamps, Base):
    """One learner of a report's roster (学员名单)."""

    __tablename__ = "roster_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("execution_reports.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    id_type: Mapped[IdType] = mapped_column(_enum_type(IdType, "id_type"), default=IdType.RESIDENT)
    # Stored whole, for matching; shown masked (``models.rules.mask_id_number``).
    id_number: Mapped[str] = mapped_column(String(32))
    workplace: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(50))
    license_no: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(40))
    attended: Mapped[bool] = mapped_column(Boolean, default=True)
    credits: Mapped[float] = mapped_column(Float, default=0)
    source: Mapped[RosterSource] = mapped_column(
        _enum_type(RosterSource, "roster_source"), default=RosterSource.PANEL
    )

    report: Mapped[ExecutionReport] = relationship()

    __table_args__ = (
        UniqueConstraint("report_id", "id_number", name="uq_roster_entries_report_id_id_number"),
        Index("ix_roster_entries_report_id_id", "report_id", "id"),
        # A learner's own record across reports (the ID number is the key).
        Index("ix_roster_entries_id_number", "id_number"),
        CheckConstraint("credits >= 0 AND credits <= 30", name="credits_range"),
    )

    def __str__(self) -> str:
        return self.name


class ExecutionEvent(HistoryColumns, Base):
    """One transition (or open/edit) of one report: immutable, like a project's.
    ``report_id`` has no foreign key, as a project event's has none."""

    __tablename__ = "execution_events"

    report_id: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_execution_events_report_id_id", "report_id", "id"),
        # A report's first 上报 (统计 · 执行情况's on time): its report events, from the index.
        Index(
            "ix_execution_events_report_action", "report_id", "action", "from_state", "created_at"
        ),
    )


class ExecutionSnapshot(Base):
    """What a report and its roster said each time it was reported or accepted:
    the reviewer compares the last two (who was added, removed or changed)."""

    __tablename__ = "execution_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("execution_reports.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    # JSON text: the report's fields, its lecturers and its roster (ID numbers masked).
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_execution_snapshots_report_id_id", "report_id", "id"),)


immutable(ExecutionEvent, ExecutionSnapshot, what="an execution report's history")


DEFAULT_DUE_DAYS = 14


def due_on(end_date: date, days: int | None) -> date:
    """The due-date rule: a report is due ``days`` (the committee's setting for the
    project's year; ``DEFAULT_DUE_DAYS`` when it set none) after its project's end
    date. ``due_on_sql`` is the same rule in SQL; every screen, count and rule uses
    one of the two."""
    return end_date + timedelta(days=days or DEFAULT_DUE_DAYS)


def due_on_sql(end_date, days) -> ColumnElement:
    """``due_on`` as a SQL expression: ``days`` a column or value that may be NULL."""
    return plus_days(end_date, func.coalesce(days, DEFAULT_DUE_DAYS))


class plus_days(FunctionElement):
    """A date plus a whole number of days, as each database spells it."""

    type = Date()
    inherit_cache = True
    name = "plus_days"


@compiles(plus_days, "sqlite")
def _plus_days_sqlite(element, compiler, **kw):
    day, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"date({day}, '+' || CAST({days} AS INTEGER) || ' days')"


@compiles(plus_days)
def _plus_days(element, compiler, **kw):
    day, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"({day} + CAST({days} AS INTEGER))"


class ExecutionDeadline(Base):
    """How many days after a project's end date its report is due, per committee
    and year (``DEFAULT_DUE_DAYS`` where the committee set none)."""

    __tablename__ = "execution_deadlines"

    committee_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, default=DEFAULT_DUE_DAYS)

    __table_args__ = (CheckConstraint("days >= 1 AND days <= 365", name="days_range"),)
