"""The immutable history of every project (docs/domain.md#history)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from models.account import User
from models.base import Base, immutable, utcnow
from models.unit import Unit


class HistoryColumns:
    """What every history row holds (a project's and an execution report's): its id,
    the name at the time, the owner unit, who acted from which unit, the action, the
    from and to states, the reason and the time."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)
    project_name: Mapped[str] = mapped_column(String(200))
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @declared_attr
    def actor(cls) -> Mapped[User]:
        return relationship(User, lazy="joined")

    @declared_attr
    def actor_unit(cls) -> Mapped[Unit]:
        return relationship(Unit, foreign_keys=f"{cls.__name__}.actor_unit_id", lazy="joined")


class ProjectEvent(HistoryColumns, Base):
    """One transition (or create/edit/delete) of one project.

    ``project_id`` deliberately has no foreign key: the event of a deleted
    project stays, with the project's name copied at the time.
    """

    __tablename__ = "project_events"

    project_id: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_project_events_project_id_id", "project_id", "id"),
        # Time in queue: each project's moves in order with what the window reads, so
        # the ranking is index-only. (No reason column: free text, unbounded in size.)
        Index(
            "ix_project_events_moves",
            "project_id",
            "id",
            "action",
            "from_state",
            "to_state",
            "created_at",
        ),
    )


immutable(ProjectEvent, what="a project event")
