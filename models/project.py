"""Projects (项目) and their lecturers (授课教师): docs/domain.md#projects.

The state column is written only by the workflow engine (``workflow/``), with
compare-and-set UPDATE statements; assigning it through the ORM raises.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
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
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates

from models.base import Base, ReviewState, Timestamps, TitledEnum, enum_type, utcnow
from models.discipline import Discipline
from models.unit import Unit, UnitKind

_enum_type = enum_type


class ProjectState(ReviewState):
    DRAFT = "draft", _l("Not reported")
    RETURNED = "returned", _l("Returned for changes")
    AT_SOCIETY = "at_society", _l("Reported to society")
    AT_COMMITTEE = "at_committee", _l("Reported to committee")
    PUBLISHED = "published", _l("Published (passed)")


class ProjectLevel(TitledEnum):
    NATIONAL = "national", _l("National")
    BEIJING = "beijing", _l("Beijing municipal")
    SOCIETY_I = "society_i", _l("Society class I")


LEVELS_OF_KIND = {
    UnitKind.ISSUER: (ProjectLevel.NATIONAL, ProjectLevel.BEIJING),
    UnitKind.BRANCH: (ProjectLevel.SOCIETY_I,),
}


class ProjectMode(TitledEnum):
    FACE_TO_FACE = "face_to_face", _l("Face to face")
    REMOTE = "remote", _l("Remote")
    BLENDED = "blended", _l("Online and face to face")


class StateAssignmentError(AttributeError):
    """Raised when code outside the workflow engine assigns a project's state."""


class Project(Timestamps, Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    project_no: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[ProjectLevel] = mapped_column(_enum_type(ProjectLevel, "level"))
    discipline_id: Mapped[int] = mapped_column(ForeignKey("disciplines.id"), index=True)
    organizer: Mapped[str] = mapped_column(String(200))
    co_organizer: Mapped[str | None] = mapped_column(String(200))
    principal: Mapped[str] = mapped_column(String(50))
    principal_title: Mapped[str | None] = mapped_column(String(50))
    contact: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(40))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    venue: Mapped[str] = mapped_column(String(200))
    mode: Mapped[ProjectMode] = mapped_column(_enum_type(ProjectMode, "mode"))
    audience: Mapped[str] = mapped_column(String(200))
    planned_participants: Mapped[int] = mapped_column(Integer)
    theory_hours: Mapped[float] = mapped_column(Float)
    practice_hours: Mapped[float] = mapped_column(Float, default=0)
    credits: Mapped[float] = mapped_column(Float)
    remarks: Mapped[str | None] = mapped_column(Text)

    state: Mapped[ProjectState] = mapped_column(
        _enum_type(ProjectState, "state"), default=ProjectState.DRAFT
    )
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    # Denormalised from the owner unit at creation (units never move), so that
    # each reviewer's list is one indexed equality.
    society_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    committee_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    # The reason given by the last reviewer who sent the project back; shown
    # to the entry unit until it reports again.
    return_reason: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    discipline: Mapped[Discipline] = relationship(lazy="joined", innerjoin=True)
    owner_unit: Mapped[Unit] = relationship(foreign_keys=[owner_unit_id], lazy="joined")
    society: Mapped[Unit | None] = relationship(foreign_keys=[society_id])
    lecturers: Mapped[list[Lecturer]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        order_by="Lecturer.position, Lecturer.id",
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("committee_id", "project_no", name="uq_projects_committee_id_project_no"),
        Index("ix_projects_owner_state_year", "owner_unit_id", "state", "year"),
        # 执行情况 (an entry unit's published projects, newest first): one page read in order.
        Index("ix_projects_owner_state_start", "owner_unit_id", "state", "start_date", "id"),
        # Per scope column: the state tabs and filters, and (ending in reported_at)
        # the 统计 page's oldest waiting projects of a queue and year, read in order.
        Index(
            "ix_projects_society_state_year_reported",
            "society_id",
            "state",
            "year",
            "reported_at",
            "id",
        ),
        Index(
            "ix_projects_committee_state_year_reported",
            "committee_id",
            "state",
            "year",
            "reported_at",
            "id",
        ),
        # The committee's list filtered by 状态 and 年度, in its order (newest change first).
        Index(
            "ix_projects_committee_state_year_updated",
            "committee_id",
            "state",
            "year",
            "updated_at",
            "id",
        ),
        # A society's 项目审阅 opens on 待审阅: that state's rows in the list's order.
        Index("ix_projects_society_state_updated", "society_id", "state", "updated_at", "id"),
        Index("ix_projects_updated_at", "updated_at"),
        # Each list's default order (newest change first) and its year filter
        # options, per scope column: no scan of a whole tree's projects.
        Index("ix_projects_owner_updated", "owner_unit_id", "updated_at", "id"),
        Index("ix_projects_society_updated", "society_id", "updated_at", "id"),
        Index("ix_projects_committee_updated", "committee_id", "updated_at", "id"),
        Index("ix_projects_owner_year", "owner_unit_id", "year"),
        Index("ix_projects_society_year", "society_id", "year"),
        Index("ix_projects_committee_year", "committee_id", "year"),
        # The 统计 page: every figure is a GROUP BY over one tree's projects of a year;
        # with each grouped column and the credits in one index per scope column the
        # totals are an index-only range scan of that year instead of a table walk.
        Index(
            "ix_projects_committee_stats",
            "committee_id",
            "year",
            "state",
            "discipline_id",
            "level",
            "mode",
            "society_id",
            "owner_unit_id",
            "credits",
            "published_at",
        ),
        Index(
            "ix_projects_society_stats",
            "society_id",
            "year",
            "state",
            "discipline_id",
            "level",
            "mode",
            "owner_unit_id",
            "credits",
            "published_at",
        ),
        # 统计 · 执行情况 (``reports.execution_stats``): a tree's published projects of a year
        # with what their report's due date and unit need, read from the index alone.
        Index(
            "ix_projects_committee_execution",
            "committee_id",
            "year",
            "state",
            "society_id",
            "owner_unit_id",
            "end_date",
            "id",
        ),
        Index(
            "ix_projects_society_execution",
            "society_id",
            "year",
            "state",
            "owner_unit_id",
            "end_date",
            "id",
        ),
        # The public catalog: published projects by start date.
        Index("ix_projects_state_start_date", "state", "start_date", "id"),
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        CheckConstraint("credits > 0 AND credits <= 30", name="credits_range"),
        CheckConstraint(
            "planned_participants >= 1 AND planned_participants <= 100000",
            name="participants_range",
        ),
        CheckConstraint("theory_hours > 0 AND practice_hours >= 0", name="hours_range"),
        CheckConstraint(
            "state <> 'published' OR (project_no IS NOT NULL AND published_at IS NOT NULL)",
            name="published_has_number",
        ),
    )

    def __str__(self) -> str:
        return self.name

    @validates("state")
    def _refuse_state_assignment(self, key, value):
        raise StateAssignmentError("a project's state changes only through the workflow engine")

    @validates("owner_unit_id", "owner_unit")
    def _owner_is_set_once(self, key, value):
        if self.id is not None:
            raise ValueError("a project's owner cannot change")
        return value

    @property
    def total_hours(self) -> float:
        return (self.theory_hours or 0) + (self.practice_hours or 0)


class LecturerColumns:
    """What a lecturer's row holds, a project's (授课教师) as an execution report's (who
    actually taught): the place in the list and what the form asks (the id first, then
    the row's own foreign key, then these, as the tables were made)."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(50))
    unit: Mapped[str | None] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    hours: Mapped[float | None] = mapped_column(Float)

    def __str__(self) -> str:
        return self.name


class Lecturer(LecturerColumns, Base):
    __tablename__ = "lecturers"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )

    project: Mapped[Project] = relationship(back_populates="lecturers")


class ProjectNumberCounter(Base):
    """The last 项目编号 handed out per committee and year: numbers are never reused."""

    __tablename__ = "project_number_counters"

    committee_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


@event.listens_for(Project, "before_insert")
def _derive_reviewers(mapper, connection, project: Project) -> None:
    owner = project.owner_unit
    if owner is None or not owner.kind.is_entry:
        raise ValueError("a project belongs to an entry unit (a branch or an issuer)")
    project.society_id = owner.society_id
    project.committee_id = owner.committee_id


def _lecturers_projects(session: Session, new, dirty, deleted) -> set:
    """The projects of the lecturers this flush adds, changes or removes (a lecturer
    only marked dirty, with nothing changed, not)."""
    return {
        lecturer.project
        for lecturer in (*new, *dirty, *deleted)
        if isinstance(lecturer, Lecturer)
        and (lecturer not in dirty or session.is_modified(lecturer))
    }


@event.listens_for(Session, "before_flush")
def _lecturer_changes_move_the_version(session: Session, flush_context, instances) -> None:
    """A project's lecturers are part of it: adding, changing or removing one
    updates the project row too, so its version moves (and an edit based on the
    old version is refused) even when none of the project's own columns changed."""
    # ``session.new``, ``.dirty`` and ``.deleted`` build a new set on each access:
    # read once, not per object (a batch import flushes thousands of new projects).
    new, dirty, deleted = session.new, session.dirty, session.deleted
    touched = _lecturers_projects(session, new, dirty, deleted)
    # A lecturer taken out of the list no longer points at its project: the
    # project's own list changed instead.
    touched |= {
        project
        for project in dirty
        if isinstance(project, Project) and session.is_modified(project)
    }
    for project in touched - {None}:
        if project in session and project not in new and project not in deleted:
            project.updated_at = utcnow()
