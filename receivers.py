"""Every write that the code doing a write does not call: connected here, in one place.

The workflow engine announces what it is about to do (``workflow.hooks.checking``) and what
it did (``workflow.hooks.moved``); SQLAlchemy announces flushes and commits. The receivers
below answer those announcements with writes of their own, in the same transaction (or, for
mail, after it). They are connected by :func:`connect_receivers`, which ``create_app`` calls,
so every process built on the application (gunicorn, ``python -m worker``, the ``flask``
commands and the demo data, the tests) has all of them, and a module's import never
connects anything by itself. ``docs/architecture.md`` ("Writes you do not see") lists them
with the models' own listeners and the database triggers.
"""

from __future__ import annotations

from flask_principal import identity_loaded
from sqlalchemy import event
from sqlalchemy.orm import Session

from accounts import audit
from certificates import issuing as certificates
from notifications import mail
from notifications import on_execution_moved as write_execution_messages
from notifications import on_moved as write_messages
from public.catalog import on_execution_moved as bump_catalog_version_on_held
from public.catalog import on_moved as bump_catalog_version
from workflow import calendar, execution, execution_rules, filing_rules, hooks, versions

#: (signal, receiver): what the engine's moves set off, in the move's transaction.
SIGNALS = (
    (hooks.checking, filing_rules.hold_blocked),  # a blocking filing rule holds rows back
    # A step outside its 申报时间 is held back; one taken under an exception gets its
    # history note (the engine writes it with the event: workflow.engine.EVENT_NOTES).
    (hooks.checking, calendar.hold_outside_window),
    (hooks.checking, execution_rules.hold_projects),  # deleting a project that has a report
    (hooks.moved, filing_rules.record_warnings),  # a warning rule's notes on the project
    (hooks.moved, versions.keep_versions),  # a version snapshot of each reported/published row
    (hooks.moved, write_messages),  # the units' messages (and the mail queued with them)
    (hooks.moved, bump_catalog_version),  # the public catalog's cache version
    (hooks.moved, execution_rules.send_back_withdrawn),  # 撤销公布 sets an accepted report back
    (hooks.execution_checking, execution_rules.hold_unpublished),  # a withdrawn project's report
    (hooks.execution_moved, execution.keep_snapshots),  # a report's snapshot (roster diff)
    (hooks.execution_moved, bump_catalog_version_on_held),  # the catalog's 已举办 (accepted)
    (hooks.execution_moved, write_execution_messages),  # the units' messages about reports
    (hooks.execution_moved, certificates.on_execution_moved),  # issue (审核通过), revoke (set back)
    (hooks.learners_removed, certificates.on_learners_removed),  # a removed learner's certificate
    # Not a write: who is signed in, for the security log's entries written at flush time.
    (identity_loaded, audit.remember_actor),
)
#: (target, event, listener): SQLAlchemy session events outside the models.
SESSION_EVENTS = (
    (Session, "before_flush", audit.audit_account_changes),  # the security log's account entries
    (Session, "after_commit", mail.on_commit),  # queued mail handed to a sender
    (Session, "after_rollback", mail.on_rollback),  # … or forgotten
)


def connect_receivers() -> None:
    """Connect every receiver once (calling it again changes nothing)."""
    for signal, receiver in SIGNALS:
        signal.connect(receiver)
    for target, name, listener in SESSION_EVENTS:
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)
