"""Writing the messages of a bulk action, in its transaction.

Four statements whatever the number of projects: the receiving units with
their accounts and e-mail choices (one SELECT), which of the projects each unit
may see through ``permissions.project_visibility`` (one SELECT), the messages
(one INSERT) and the mails to send at once (one INSERT). Mail is only queued
here; it is sent after the commit (``notifications.mail``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, has_app_context
from sqlalchemy import and_, insert, literal, select, union_all
from sqlalchemy.orm import Session

from models import Project, Unit, User, utcnow
from models.message import EmailMode, Message, NotificationPreference, OutboxMail
from notifications import mail
from notifications.planning import Notice, plan
from permissions import project_visibility


class UnitViewer:
    """Any active account of ``unit``, as the scopes see it: a unit's messages
    are read by each of its accounts, so a project goes into a message only if
    the unit's accounts may see it."""

    is_authenticated = True
    is_active = True

    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        self.unit_id = unit.id


@dataclass
class Receiver:
    unit: Unit
    # (account id, address) of the accounts mailed at once.
    mailed: list[tuple[int, str]] = field(default_factory=list)


def _receivers(session: Session, unit_ids: set[int]) -> dict[int, Receiver]:
    """The active receiving units with their active accounts that have an
    address and want each message mailed (no preference means at once)."""
    wants_mail = and_(
        User.unit_id == Unit.id,
        User.active.is_(True),
        User.email.is_not(None),
        User.email != "",
    )
    stmt = (
        select(Unit, User.id, User.email, NotificationPreference.email_mode)
        .outerjoin(User, wants_mail)
        .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(Unit.id.in_(unit_ids), Unit.active.is_(True))
        .order_by(Unit.id, User.id)
    )
    found: dict[int, Receiver] = {}
    for unit, user_id, email, mode in session.execute(stmt):
        receiver = found.setdefault(unit.id, Receiver(unit))
        if user_id is not None and (mode is None or mode is EmailMode.IMMEDIATE):
            receiver.mailed.append((user_id, email))
    return found


def _visible(session: Session, notices: list[Notice], found: dict[int, Receiver]) -> set:
    """(notice index, project id) of every project its receiving unit may see:
    one UNION ALL of one scoped SELECT per notice."""
    parts = [
        select(literal(index).label("notice"), Project.id).where(
            Project.id.in_([m.project_id for m in notice.moves]),
            project_visibility(UnitViewer(found[notice.unit_id].unit)),
        )
        for index, notice in enumerate(notices)
    ]
    if not parts:
        return set()
    stmt = parts[0] if len(parts) == 1 else union_all(*parts)
    return {(row[0], row[1]) for row in session.execute(stmt)}


def write(session: Session, action, account, moves, reason) -> list[int]:
    """The messages (and queued mails) of one bulk action; their ids."""
    notices = plan(action, moves)
    if not notices:
        return []
    found = _receivers(session, {n.unit_id for n in notices})
    notices = [n for n in notices if n.unit_id in found]
    visible = _visible(session, notices, found)
    kept = []
    for index, notice in enumerate(notices):
        # Nobody is told about a project they may not see.
        notice.moves = [m for m in notice.moves if (index, m.project_id) in visible]
        if notice.moves:
            kept.append(notice)
    if not kept:
        return []
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
    # Matched back by unit (one message per unit): asking RETURNING for the rows'
    # order would make SQLite insert them one statement each.
    id_of_unit = {
        unit_id: message_id
        for message_id, unit_id in session.execute(
            insert(Message).returning(Message.id, Message.unit_id), rows
        )
    }
    ids = [id_of_unit[row["unit_id"]] for row in rows]
    # Mail is queued only by an app that has a server to send it through.
    if has_app_context() and current_app.config.get("MAIL_SERVER"):
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
            session.execute(insert(OutboxMail), letters)
            mail.send_after_commit(session)
    return ids
