"""Versions (版本) of a project: what it said each time it was reported or
published, kept so that a reviewer can see what changed since they last saw it
(``workflow.versions`` writes them, ``workflow.diff`` compares two).

A version is immutable: written once, in the transaction of the move that
made it, and never changed. It goes with its project when the project is
deleted (only a draft or returned project can be), because the history
(``ProjectEvent``) already records the deletion and the project's name, and a
version outliving its project could be shown under a later project that
SQLite gave the same id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, immutable, utcnow
from models.unit import Unit


class ProjectVersion(Base):
    """One snapshot: the project's fields and lecturers as they stood after
    the move ``action`` (report or publish) took it from ``from_state`` to
    ``to_state``. ``number`` counts the project's versions from 1.

    ``data`` holds every field of ``models.rules.PROJECT_FIELDS`` as stored
    (enum values, ISO dates; ``discipline`` by name, with ``discipline_id``)
    and ``lecturers``: a list of ``{id, name, title, unit, topic, hours}``."""

    __tablename__ = "project_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    actor_unit: Mapped[Unit] = relationship(foreign_keys=[actor_unit_id], lazy="joined")

    __table_args__ = (
        # Also the index of "the versions of these projects, in order".
        UniqueConstraint("project_id", "number"),
    )


immutable(ProjectVersion, what="a project version")
