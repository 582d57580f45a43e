"""Writing the messages of a bulk action, in its transaction.

Three statements whatever the number of projects (or execution reports): the
receiving units with their accounts and e-mail choices (one SELECT), the messages
(one INSERT) and the mails to send at once (one INSERT). A unit is told only about
the rows its accounts may see: ``permissions.can_view_project`` (the predicate twin
of ``project_visibility``; ``can_view_execution`` for reports) decides it for each
moved row, from what the move itself carries (the row's units and the state it
moved to), so no SELECT is needed for it. Mail is only queued here; it is sent after
the commit (``notifications.mail``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from flask import current_app, has_app_context
from sqlalchemy import and_, insert, select
from sqlalchemy.orm import Session

from models import Unit, UnitKind, User, utcnow
from models.message import (
    EmailMode,
    Message,
    MessageSubject,
    NotificationPreference,
    OutboxMail,
)
from notifications import mail
from notifications.planning import Notice, plan
from permissions import can_view_execution, can_view_project

messages = Message.__table__
# Whether a unit's accounts may see a moved row, by what moved.
CAN_VIEW = {
    MessageSubject.PROJECTS: can_view_project,
    MessageSubject.EXECUTIONS: can_view_execution,
}


class ReceivingUnit(NamedTuple):
    """What the scopes read of a receiving unit."""

    id: int
    kind: UnitKind


class UnitViewer:
    """Any active account of ``unit``, as the scopes see it: a unit's messages
    are read by each of its accounts, so a project goes into a message only if
    the unit's accounts may see it."""

    is_authenticated = True
    is_active = True

    def __init__(self, unit) -> None:
        self.unit = unit
        self.unit_id = unit.id


class MovedProject(NamedTuple):
    """A moved project (or report) as ``CAN_VIEW`` reads it: after the move."""

    owner_unit_id: int
    society_id: int | None
    committee_id: int
    state: str


@dataclass
class Receiver:
    unit: ReceivingUnit
    # (account id, address) of the accounts mailed at once.
    mailed: list[tuple[int, str]] = field(default_factory=list)


def _receivers(session: Session, unit_ids: set[int]) -> dict[int, Receiver]:
    """The active receiving units with their active accounts that have an
    address and want each message mailed (no preference means at once)."""
    return receivers_where(session, Unit.__table__.c.id.in_(unit_ids))


def receivers_where(session: Session, which) -> dict[int, Receiver]:
    """``_receivers`` of the units ``which`` (a condition on the units table) selects:
    one statement."""
    units, users = Unit.__table__, User.__table__
    preferences = NotificationPreference.__table__
    wants_mail = and_(
        users.c.unit_id == units.c.id,
        users.c.active.is_(True),
        users.c.email.is_not(None),
        users.c.email != "",
    )
    stmt = (
        select(units.c.id, units.c.kind, users.c.id, users.c.email, preferences.c.email_mode)
        .select_from(units)
        .outerjoin(users, wants_mail)
        .outerjoin(preferences, preferences.c.user_id == users.c.id)
        .where(which, units.c.active.is_(True))
        .order_by(units.c.id, users.c.id)
    )
    found: dict[int, Receiver] = {}
    for unit_id, kind, user_id, email, mode in session.connection().execute(stmt):
        receiver = found.get(unit_id)
        if receiver is None:
            receiver = found[unit_id] = Receiver(ReceivingUnit(unit_id, kind))
        if user_id is not None and (mode is None or mode is EmailMode.IMMEDIATE):
            receiver.mailed.append((user_id, email))
    return found


def _visible(notice: Notice, receiver: Receiver, can_view) -> list:
    """The moves of ``notice`` its receiving unit may see (after the move)."""
    viewer = UnitViewer(receiver.unit)
    return [
        move
        for move in notice.moves
        if can_view(
            viewer,
            MovedProject(move.owner_unit_id, move.society_id, move.committee_id, move.target),
        )
    ]


def _kept(notices: list, found: dict, can_view=can_view_project) -> list:
    """The notices that still tell someone something: their unit has receivers
    (``found``), and each keeps only the projects its receivers may see (nobody is
    told about a project they may not see)."""
    kept = []
    for notice in notices:
        if (receiver := found.get(notice.unit_id)) is None:
            continue
        notice.moves = _visible(notice, receiver, can_view)
        if notice.moves:
            kept.append(notice)
    return kept


def _insert_with_mail(session: Session, rows: list, kept: list, found: dict, now) -> None:
    """Insert the messages and queue a mail, pointing at its message, to each of their
    units' receivers who take mail; sent once the transaction commits."""
    # Matched back by unit (one message per unit): asking RETURNING for the rows'
    # order would make SQLite insert them one statement each.
    id_of_unit = {
        unit_id: message_id
        for message_id, unit_id in session.connection().execute(
            insert(messages).returning(messages.c.id, messages.c.unit_id), rows
        )
    }
    ids = [id_of_unit[row["unit_id"]] for row in rows]
    letters = [
        {
            "user_id": user_id,
            "recipient": address,
            **mail.compose(row, message_id),
            "created_at": now,
        }
        for row, message_id, notice in zip(rows, ids, kept, strict=True)
        for user_id, address in found[notice.unit_id].mailed
    ]
    if letters:
        session.connection().execute(insert(OutboxMail.__table__), letters)
        mail.send_after_commit(session)


def write(
    session: Session,
    action,
    account,
    moves,
    reason,
    subject: MessageSubject = MessageSubject.PROJECTS,
) -> int:
    """The messages (and queued mails) of one bulk action; how many messages.
    ``subject``: what moved, projects or execution reports (then each move's
    ``project_id`` is the report's id)."""
    notices = plan(action, moves, subject)
    if not notices:
        return 0
    found = _receivers(session, {n.unit_id for n in notices})
    kept = _kept(notices, found, CAN_VIEW[subject])
    if not kept:
        return 0
    now = utcnow()
    actor_name = account.unit.name
    rows = [
        {
            "unit_id": n.unit_id,
            "user_id": None,
            "kind": n.kind,
            "actor_unit_id": account.unit_id,
            "actor_name": actor_name,
            "count": len(n.moves),
            "reason": reason,
            "list_endpoint": n.endpoint,
            "list_filters": n.filters,
            "projects": [{"id": m.project_id, "name": m.name} for m in n.moves],
            "created_at": now,
        }
        for n in kept
    ]
    # Mail is queued only by an app that has a server to send it through.
    if not (has_app_context() and current_app.config.get("MAIL_SERVER")):
        # No mail to point at its message: a plain executemany, no RETURNING
        # (PostgreSQL's multi-row VALUES with RETURNING costs more per row).
        session.connection().execute(insert(messages), rows)
        return len(rows)
    _insert_with_mail(session, rows, kept, found, now)
    return len(rows)
