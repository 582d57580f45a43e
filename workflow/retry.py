"""Commit a unit of work, running it once more when the database chose it as the
victim of a deadlock or a serialization conflict with another transaction.

Such a failure says nothing about the work itself: the same statements usually
succeed a moment later, once the other transaction has committed. A second
failure is reported to the user, in Chinese, as a message to try again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from workflow.errors import WorkflowError

log = logging.getLogger(__name__)
T = TypeVar("T")

# PostgreSQL's serialization_failure and deadlock_detected.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})


class Busy(WorkflowError):
    """The database kept refusing the work because of concurrent transactions."""

    def __init__(self):
        super().__init__(
            _l(
                "Other changes to the same data were being saved at the same moment, so"
                " nothing was saved. Please try again."
            )
        )


def is_transient(error: BaseException) -> bool:
    """Whether the database refused ``error``'s statement only because of another
    transaction (a deadlock, a serialization conflict, SQLite's lock timeout)."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(original)


def retrying(session: Session, work: Callable[[], T], *, attempts: int = 2) -> T:
    """Run ``work()`` and commit ``session``; on a transient failure roll back and
    run it again, up to ``attempts`` times in all, then raise ``Busy``.

    ``work`` must do everything it changes through ``session`` (a rollback
    undoes all of it) and may run more than once."""
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            session.commit()
            return result
        except DBAPIError as error:
            session.rollback()
            if not is_transient(error):
                raise
            log.warning(
                "attempt %d of %d lost to a concurrent transaction: %s",
                attempt,
                attempts,
                error.orig,
            )
    raise Busy()
