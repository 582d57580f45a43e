"""Visibility (scope functions returning SQL), per-object predicates and how an
account stands to a project.

Layer: imports only ``models`` (and libraries); ``workflow`` and the views build
on it. The direction is checked by import-linter in ``make lint``."""

from permissions.predicates import (
    can_create_project,
    can_create_unit,
    can_deactivate_unit,
    can_manage_account,
    can_manage_accounts_of,
    can_manage_unit,
    can_rename_unit,
    can_view_project,
)
from permissions.relations import OWNERS, Relation, relation
from permissions.roles import (
    can_copy_project,
    can_enter_projects,
    can_read_statistics,
    can_set_filing_rules,
    holds,
)
from permissions.scopes import (
    account_management,
    audit_visibility,
    committee_disciplines,
    creatable_unit_kinds,
    discipline_ownership,
    filing_units,
    manageable_accounts,
    manageable_units,
    own_committee_id,
    project_visibility,
    published_projects,
    subordinate_unit_ids,
    tally_visibility,
    unit_management,
    visible_audit_entries,
    visible_events,
    visible_projects,
)

__all__ = [
    "OWNERS",
    "Relation",
    "account_management",
    "audit_visibility",
    "can_copy_project",
    "can_create_project",
    "can_create_unit",
    "can_deactivate_unit",
    "can_enter_projects",
    "can_manage_account",
    "can_manage_accounts_of",
    "can_manage_unit",
    "can_read_statistics",
    "can_rename_unit",
    "can_set_filing_rules",
    "can_view_project",
    "committee_disciplines",
    "creatable_unit_kinds",
    "discipline_ownership",
    "filing_units",
    "holds",
    "manageable_accounts",
    "manageable_units",
    "own_committee_id",
    "project_visibility",
    "published_projects",
    "relation",
    "subordinate_unit_ids",
    "tally_visibility",
    "unit_management",
    "visible_audit_entries",
    "visible_events",
    "visible_projects",
]
