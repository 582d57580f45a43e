"""The tables of the batch import: an upload waiting between its preview and its
confirmation (of projects, or of an execution report's roster), and the import keys
that let a later file update the same project.

Only the import (``imports/``) reads and writes them; they live with the other
tables so that the schema is in one package and built by the migrations like every
other.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class BatchStatus(enum.StrEnum):
    PENDING = "pending"  # previewed, not confirmed yet
    IMPORTED = "imported"


class ImportBatch(Base):
    """One uploaded file of one unit, identified by the hash of its bytes: the same
    file uploaded twice is the same batch, so confirming it again adds nothing.

    A batch of a report's roster (学员名单) names its report, and its hash covers the
    report's id too (``imports.roster``): the same file for two reports is two batches."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.PENDING.value)
    # The execution report whose roster the file holds; None for a file of projects.
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("execution_reports.id", ondelete="CASCADE"), index=True
    )
    # The file's rows as read (cell texts by field name, with their row numbers):
    # the confirmation checks and writes exactly what the preview showed.
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    imported_at: Mapped[datetime | None] = mapped_column(DateTime)
    added: Mapped[int | None] = mapped_column(Integer)
    updated: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("unit_id", "sha256"),)


class ImportKey(Base):
    """The unit's own key (导入编号) of a project it imported: a later file with the
    same key updates that project instead of adding a second one."""

    __tablename__ = "import_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    key: Mapped[str] = mapped_column(String(100))
    # No foreign key, like the history: a deleted project leaves a key that matches nothing.
    project_id: Mapped[int] = mapped_column(Integer, index=True)

    __table_args__ = (UniqueConstraint("unit_id", "key"),)
