"""Predicates on one object, for views that already hold it.

Each answers "may this account do X to this object now?" by the same rules as
the scope functions, never by a role name in a view. What an account may do to
a project in a given state (edit, delete, report…) is the workflow table's
answer: ``workflow.can_edit_project`` and friends, one layer up.
"""

from __future__ import annotations

from models import ExecutionState, ProjectState, UnitKind
from permissions.relations import OWNERS, relation
from permissions.scopes import _usable, creatable_unit_kinds


def can_view_project(account, project) -> bool:
    """The predicate twin of ``project_visibility`` for a loaded project."""
    rel = relation(account, project)
    return rel in OWNERS or (rel is not None and project.state != ProjectState.DRAFT)


def can_view_execution(account, report) -> bool:
    """The predicate twin of ``execution_visibility`` for a loaded execution report."""
    rel = relation(account, report)
    return rel in OWNERS or (rel is not None and report.state != ExecutionState.DRAFT)


def can_create_project(account) -> bool:
    return _usable(account) and account.unit.kind.is_entry


def can_manage_unit(account, unit) -> bool:
    """May edit ``unit``'s details (a society its own unit and its branches)."""
    if not _usable(account):
        return False
    mine = account.unit
    if mine.kind is UnitKind.COMMITTEE:
        return unit.id == mine.id or unit.root_id == mine.id
    if mine.kind is UnitKind.SOCIETY:
        return unit.id == mine.id or (unit.parent_id == mine.id and unit.kind is UnitKind.BRANCH)
    return False


def can_rename_unit(account, unit) -> bool:
    """May change ``unit``'s name: a society edits only its own unit's contact
    details, never its name (the committee named it)."""
    if not can_manage_unit(account, unit):
        return False
    return not (account.unit.kind is UnitKind.SOCIETY and unit.id == account.unit_id)


def can_deactivate_unit(account, unit) -> bool:
    """Deactivate (never delete) a subordinate unit; nobody deactivates their own."""
    return can_manage_unit(account, unit) and unit.id != account.unit_id


def can_create_unit(account, kind: UnitKind, parent) -> bool:
    if kind not in creatable_unit_kinds(account) or parent is None:
        return False
    if kind.parent_kind is not parent.kind:
        return False
    return parent.id == account.unit_id or can_manage_unit(account, parent)


def can_manage_account(account, other) -> bool:
    """Create, edit, deactivate or reset the password of ``other``."""
    return can_manage_accounts_of(account, other.unit)


def can_manage_accounts_of(account, unit) -> bool:
    """Manage the accounts of ``unit``: a committee those of every unit of its
    tree, itself included; a society those of its branches."""
    if not _usable(account) or unit is None:
        return False
    mine = account.unit
    if mine.kind is UnitKind.COMMITTEE:
        return unit.id == mine.id or unit.root_id == mine.id
    if mine.kind is UnitKind.SOCIETY:
        return unit.parent_id == mine.id and unit.kind is UnitKind.BRANCH
    return False
