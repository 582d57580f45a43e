"""Database errors as messages a user can act on; the details go to the log only.

Flask-Admin flashes ``str(exc)`` when a create, save or delete fails: for a
database error that is the driver's English text with the SQL and its
parameters ("Integrity error. (psycopg.errors.UniqueViolation) ... [SQL:
INSERT INTO projects ..."). ``ScopedModelView.handle_view_exception`` calls
``handle_view_exception`` here first: it logs the error with its traceback,
ends the failed transaction, flashes one Chinese sentence chosen by the kind of
failure, and tells Flask-Admin the error is handled (the form is shown again
with what the user typed).
"""

from __future__ import annotations

import logging

from flask import flash
from flask_babel import gettext
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from extensions import db

log = logging.getLogger(__name__)


def _constraint(exc: DBAPIError) -> str:
    """The violated constraint's name (PostgreSQL), else the driver's text (SQLite
    names the columns: "UNIQUE constraint failed: projects.committee_id, projects.project_no")."""
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return (name or str(exc.orig)).lower()


def is_readonly(exc: BaseException) -> bool:
    """SQLite refused a write because the file (or the connection) is read-only."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "readonly database" in text or "read-only" in text or "query_only" in text


def message_for(exc: SQLAlchemyError) -> str:
    """One sentence, in the user's language, that says what went wrong and what to do."""
    if isinstance(exc, IntegrityError):
        return _integrity_message(exc)
    if is_readonly(exc):
        return gettext(
            "The database cannot be written at the moment, so nothing was saved."
            " Try again later; if it keeps happening, call the support line."
        )
    if isinstance(exc, OperationalError | DBAPIError) and getattr(
        exc, "connection_invalidated", False
    ):
        return gettext("The database cannot be reached at the moment. Try again later.")
    return gettext(
        "The database could not save the change, so nothing was saved."
        " Try again; if it keeps happening, call the support line."
    )


def _integrity_message(exc: IntegrityError) -> str:
    """The sentence for a refused constraint, by the kind of constraint it names."""
    constraint = _constraint(exc)
    if "project_no" in constraint:
        return gettext(
            "This project number is already used by another project. Enter a different one."
        )
    if "unique" in constraint or "uq_" in constraint or "duplicate" in constraint:
        return gettext(
            "A record with the same value already exists. Change the value and save again."
        )
    if "foreign" in constraint or "fk_" in constraint:
        return gettext(
            "This record is still used by other records (or uses one that no longer"
            " exists), so the change was not saved."
        )
    return gettext("The change breaks a rule of the data, so it was not saved.")


def handle_view_exception(exc: Exception) -> bool:
    """Flash a Chinese message for a database error and return True; False for anything else."""
    if not isinstance(exc, SQLAlchemyError):
        return False
    log.warning("a database error refused a change: %s", exc, exc_info=exc)
    # The failed statement left the transaction unusable (aborted, on PostgreSQL):
    # end it before the form is shown again and reads the database.
    db.session.rollback()
    flash(message_for(exc), "error")
    return True
