"""Background jobs (a long export): who asked, how far it got, and its file.

The row is the job's only state that every web worker and the background worker share
(the queue holds the call, not the progress). Only the account that asked may see the
job or fetch its file, until ``expires_at``; the row itself stays a while longer, so that
its page can say the file has gone and offer the same export again (``list_args``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
# The file's time is over (or the file was lost): the row stays for its page only.
EXPIRED = "expired"
# Why a job failed without an error of its own (stored in ``error``, shown in words):
# its process stopped while it ran (no heartbeat), no process ever took it, or the queue
# could not be reached when it was asked for.
INTERRUPTED, NOT_STARTED, UNAVAILABLE = "interrupted", "not_started", "unavailable"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_user_id_created_at", "user_id", "created_at"),
        Index("ix_jobs_expires_at", "expires_at"),
    )

    # A random token: the page's URL names it, and it cannot be guessed.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # What runs: the panel view whose list is exported, and the file type.
    view: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(255))
    # The list's query string (sort, search, filters): what 重新导出 asks for again.
    list_args: Mapped[str | None] = mapped_column(Text)
    # Not "state": that name is the projects' workflow column, written by the engine only.
    status: Mapped[str] = mapped_column(String(10), default=QUEUED)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Written by the running job at least every JOB_HEARTBEAT_SECONDS: a running job whose
    # heartbeat is older than JOB_STALE_SECONDS has lost its process (``jobs.reaper``).
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def percent(self) -> int:
        if self.status == DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0
