"""Visibility (scope functions returning SQL) and per-object predicates."""

from permissions.predicates import (
    can_create_project,
    can_create_unit,
    can_deactivate_unit,
    can_delete_project,
    can_edit_project,
    can_manage_account,
    can_manage_unit,
    can_view_project,
)
from permissions.scopes import (
    account_management,
    creatable_unit_kinds,
    filing_units,
    manageable_accounts,
    manageable_units,
    project_visibility,
    published_projects,
    subordinate_unit_ids,
    unit_management,
    visible_events,
    visible_projects,
)

__all__ = [
    "account_management",
    "can_create_project",
    "can_create_unit",
    "can_deactivate_unit",
    "can_delete_project",
    "can_edit_project",
    "can_manage_account",
    "can_manage_unit",
    "can_view_project",
    "creatable_unit_kinds",
    "filing_units",
    "manageable_accounts",
    "manageable_units",
    "project_visibility",
    "published_projects",
    "subordinate_unit_ids",
    "unit_management",
    "visible_events",
    "visible_projects",
]
