"""安全日志: the security log, read-only (``/admin/security-log/``).

A committee reads the entries of every unit of its tree, a society those of its
own unit and its branches (``permissions.audit_visibility``); entry units do not
see it. Nothing here creates, edits or deletes an entry: they are written with
the events themselves (``accounts.audit``). Exported as CSV or XLSX like the
other lists.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

import permissions
from admin_views.base import ChoiceFilter, ScopedModelView, account, local_time
from extensions import db
from models import AuditEntry, AuditEvent, Unit

LABELS = {
    "at": _l("Time"),
    "event": _l("Event"),
    "username": _l("Username"),
    "unit": _l("Unit"),
    "actor": _l("Done by"),
    "remote_addr": _l("IP address"),
    "detail": _l("Details"),
}


def _unit_name(entry) -> str:
    return entry.unit.name if entry.unit is not None else ""


def _actor(entry) -> str:
    return str(entry.actor) if entry.actor is not None else ""


class SecurityLogView(ScopedModelView):
    permission = "account-manage"
    can_create = False
    can_edit = False
    can_delete = False
    can_export = True
    column_list = ["at", "event", "username", "unit", "actor", "remote_addr", "detail"]
    column_details_list = column_list
    column_labels = LABELS
    column_formatters = {
        "event": lambda v, c, entry, n: entry.event.title,
        "unit": lambda v, c, entry, n: _unit_name(entry),
        "actor": lambda v, c, entry, n: _actor(entry),
    }
    column_formatters_detail = column_formatters
    column_searchable_list = ["username", "remote_addr"]
    column_sortable_list = ["at", "username"]
    column_default_sort = [("at", True), ("id", True)]
    empty_list_message = _l("No security events yet.")
    export_columns = (
        (lambda entry: local_time(entry.at), LABELS["at"]),
        (lambda entry: str(entry.event.title), LABELS["event"]),
        ("username", LABELS["username"]),
        (_unit_name, LABELS["unit"]),
        (_actor, LABELS["actor"]),
        ("remote_addr", LABELS["remote_addr"]),
        ("detail", LABELS["detail"]),
    )

    def scope(self, user):
        return permissions.audit_visibility(user)

    def get_filters(self):
        return [
            ChoiceFilter(AuditEntry.event, _l("Event"), self._event_options, coerce=AuditEvent),
            ChoiceFilter(AuditEntry.unit_id, _l("Unit"), self._unit_options, coerce=int),
        ]

    def _event_options(self):
        return [(kind.value, kind.title) for kind in AuditEvent]

    def _unit_options(self):
        stmt = (
            select(Unit)
            .where(permissions.unit_management(account()))
            .order_by(Unit.kind, Unit.name)
        )
        return [(unit.id, unit.name) for unit in self.db_session.scalars(stmt)]


def register(admin) -> None:
    admin.add_view(
        SecurityLogView(
            AuditEntry,
            db,
            name=_l("Security log"),
            endpoint="security_log",
            url="security-log",
            category=_l("Management"),
        )
    )
