"""One-time tokens of the forms that create or move something (submit once).

A create form, the import's confirmation and a list's bulk action carry a random
token made when the page is drawn (no row then). The POST that does the work stores
its token here in the same transaction as the work itself; a second POST of the
same token (Back then 提交, a double click, a retried request) finds it and answers
with what the first one did instead of doing it again. Two POSTs racing with one
token are decided by the unique constraint: the loser's INSERT fails and it is
answered like a retry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

# Long enough for ``secrets.token_urlsafe(32)`` (43 characters).
TOKEN_LENGTH = 64


class Submission(Base):
    """A token that has been used, by whom, and what its POST did."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(TOKEN_LENGTH))
    # What the token was for: "project-create", "import", "bulk-<action>".
    kind: Mapped[str] = mapped_column(String(32))
    # The project a create form made (no foreign key, like the history: a deleted
    # project leaves a token that points at nothing, and a retry says so).
    project_id: Mapped[int | None] = mapped_column(Integer)
    # How many rows the first POST changed (a bulk action, an import).
    done: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    # Per account: nobody can spend, or learn of, another account's token.
    __table_args__ = (UniqueConstraint("account_id", "token"),)
