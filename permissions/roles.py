"""What an account's role lets it open, read from the role's permissions
(``models.account.ROLE_PERMISSIONS``, Flask-Security's ``has_permission``).

The views ask these predicates, never which kind of unit the account belongs to:
the role is derived from the unit's kind in one place (``ROLE_OF_KIND``), and what a
role may do is its list of permissions, so a new kind of unit or a moved duty is a
change of that table, not of every screen."""

from __future__ import annotations

from permissions.scopes import _usable

# The role permissions that decide which screens an account may open.
ENTER = "project-enter"  # entry units: add, import and report projects
REVIEW = "project-review"  # a society: review its branches' projects
AUDIT = "project-audit"  # the committee: audit and publish; it sets the filing rules


def holds(account, permission: str) -> bool:
    """A signed-in, active account whose role grants ``permission``."""
    return _usable(account) and account.has_permission(permission)


def can_enter_projects(account) -> bool:
    """Add projects, import them from a workbook, report them (an entry unit)."""
    return holds(account, ENTER)


def can_read_statistics(account) -> bool:
    """The 统计 page: the reviewers (a society, the committee) read their figures."""
    return holds(account, REVIEW) or holds(account, AUDIT)


def can_set_filing_rules(account) -> bool:
    """The 备案规则 page: the auditor (the committee) sets the rules it audits by."""
    return holds(account, AUDIT)


def can_copy_project(account, project) -> bool:
    """复制为新项目: an entry unit copies one of its own projects, in any state."""
    return can_enter_projects(account) and project.owner_unit_id == account.unit_id
