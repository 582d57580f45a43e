"""Who sees what (docs/domain.md#visibility), as SQL expressions and selects.

Every list, count, detail, action, export, filter option and lookup goes
through these; nothing else decides visibility.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, exists, false, or_, select

from models import (
    AuditEntry,
    Certificate,
    Discipline,
    ExecutionEvent,
    ExecutionReport,
    ExecutionState,
    Project,
    ProjectEvent,
    ProjectState,
    ProjectTally,
    RosterEntry,
    Unit,
    UnitKind,
    User,
)


def _usable(account) -> bool:
    return account is not None and account.is_authenticated and account.is_active


def project_visibility(account) -> ColumnElement[bool]:
    """The WHERE clause of the projects ``account`` may see.

    Entry units: their own, in every state. A society: its branches' projects
    except drafts. A committee: every project of its own tree except drafts.
    """
    return _review_chain(account, Project, ProjectState.DRAFT)


def execution_visibility(account) -> ColumnElement[bool]:
    """The WHERE clause of the execution reports (执行情况) ``account`` may see: the
    project's review chain, as for projects (the owner in every state; its society
    and its committee once it was reported). Their rosters hold personal data and
    follow the same clause (``visible_roster``); nothing of them is public."""
    return _review_chain(account, ExecutionReport, ExecutionState.DRAFT)


def _review_chain(account, model, draft) -> ColumnElement[bool]:
    """The WHERE clause of the rows of ``model`` (a project or an execution report)
    along ``account``'s review chain: an entry unit's own in every state; a society's
    branches' and a committee's tree's once out of ``draft``."""
    if not _usable(account):
        return false()
    unit = account.unit
    if unit.kind.is_entry:
        return model.owner_unit_id == unit.id
    not_draft = model.state != draft
    if unit.kind is UnitKind.SOCIETY:
        return (model.society_id == unit.id) & not_draft
    return (model.committee_id == unit.id) & not_draft


def visible_executions(account) -> Select:
    return select(ExecutionReport).where(execution_visibility(account))


def visible_roster(account) -> Select:
    """Roster rows of the reports the account may see (one EXISTS per row's report)."""
    condition = exists().where(
        ExecutionReport.id == RosterEntry.report_id, execution_visibility(account)
    )
    return select(RosterEntry).where(condition)


def visible_execution_events(account) -> Select:
    condition = exists().where(
        ExecutionReport.id == ExecutionEvent.report_id, execution_visibility(account)
    )
    return select(ExecutionEvent).where(condition)


def certificate_visibility(account) -> ColumnElement[bool]:
    """The WHERE clause of the certificates ``account`` may see in the panel: its
    report's review chain (a certificate exists only for a report that was
    accepted, so its society and committee saw the report). Public pages read a
    certificate by its code only, and show masked fields."""
    if not _usable(account):
        return false()
    unit = account.unit
    if unit.kind.is_entry:
        return Certificate.owner_unit_id == unit.id
    if unit.kind is UnitKind.SOCIETY:
        return Certificate.society_id == unit.id
    return Certificate.committee_id == unit.id


def visible_certificates(account) -> Select:
    return select(Certificate).where(certificate_visibility(account))


def tally_visibility(account) -> ColumnElement[bool] | None:
    """The WHERE clause of the ``project_tallies`` rows ``account`` may read, or None
    when it has none of its own (an entry unit: its scope includes drafts, which the
    tallies leave out). The committee reads its committee's rows, a society its own."""
    if not _usable(account):
        return false()
    if account.unit.kind not in (UnitKind.COMMITTEE, UnitKind.SOCIETY):
        return None
    return ProjectTally.scope_unit_id == account.unit_id


def statistics_units(account) -> ColumnElement[bool]:
    """The WHERE clause of the units a 统计 table lists a row for, each unit of it whether
    it has figures or not: the committee's societies and certificate-issuing units, a
    society's branches (the units ``reports.statistics.unit_column`` counts under);
    none for an entry unit."""
    if not _usable(account) or account.unit.kind.is_entry:
        return false()
    return Unit.parent_id == account.unit_id


def visible_projects(account) -> Select:
    return select(Project).where(project_visibility(account))


def published_projects() -> Select:
    """What anyone, without logging in, may see."""
    return select(Project).where(Project.state == ProjectState.PUBLISHED)


def visible_events(account) -> Select:
    """History rows of the projects the account may see; an entry unit also
    keeps the history of the projects it deleted. (EXISTS, so each event
    probes one project by key instead of listing every visible id.)"""
    if not _usable(account):
        return select(ProjectEvent).where(false())
    condition = exists().where(Project.id == ProjectEvent.project_id, project_visibility(account))
    if account.unit.kind.is_entry:
        condition = or_(condition, ProjectEvent.owner_unit_id == account.unit_id)
    return select(ProjectEvent).where(condition)


def filing_units(account) -> Select:
    """The entry units whose projects the account may see (for a filter's
    options): its own unit, a society's branches, a committee's entry units."""
    if not _usable(account):
        return select(Unit).where(false())
    unit = account.unit
    if unit.kind.is_entry:
        return select(Unit).where(Unit.id == unit.id)
    if unit.kind is UnitKind.SOCIETY:
        return select(Unit).where(Unit.parent_id == unit.id, Unit.kind == UnitKind.BRANCH)
    return select(Unit).where(
        Unit.root_id == unit.id, Unit.kind.in_([UnitKind.BRANCH, UnitKind.ISSUER])
    )


def unit_management(account) -> ColumnElement[bool]:
    """The WHERE clause of the units ``account`` may edit.

    A committee: every unit of its tree, itself included. A society: its own
    unit (contact details) and its branches. Entry units: none.
    """
    if not _usable(account):
        return false()
    unit = account.unit
    if unit.kind is UnitKind.COMMITTEE:
        return or_(Unit.id == unit.id, Unit.root_id == unit.id)
    if unit.kind is UnitKind.SOCIETY:
        return or_(Unit.id == unit.id, (Unit.parent_id == unit.id) & (Unit.kind == UnitKind.BRANCH))
    return false()


def manageable_units(account) -> Select:
    return select(Unit).where(unit_management(account))


def subordinate_unit_ids(account) -> Select:
    """Units under the account's unit whose accounts it manages (docs/domain.md#accounts):
    the committee manages accounts of every unit of its tree, itself
    included; a society only those of its branches."""
    unit = account.unit if _usable(account) else None
    if unit is None or unit.kind.is_entry:
        return select(Unit.id).where(false())
    if unit.kind is UnitKind.COMMITTEE:
        return select(Unit.id).where(unit_management(account))
    return select(Unit.id).where(Unit.parent_id == unit.id, Unit.kind == UnitKind.BRANCH)


def account_management(account) -> ColumnElement[bool]:
    return User.unit_id.in_(subordinate_unit_ids(account))


def manageable_accounts(account) -> Select:
    return select(User).where(account_management(account))


def audit_visibility(account) -> ColumnElement[bool]:
    """The WHERE clause of the security-log entries ``account`` may read.

    A committee: those of every unit of its tree, itself included. A society:
    those of its own unit and of its branches. Entry units: none. An entry of a
    username no account has carries no unit and is shown to no unit (it stays in
    the database for the operators).
    """
    # The units whose records the account manages (``unit_management``).
    return AuditEntry.unit_id.in_(select(Unit.id).where(unit_management(account)))


def visible_audit_entries(account) -> Select:
    return select(AuditEntry).where(audit_visibility(account))


def own_committee_id(account) -> int | None:
    """The committee at the top of the account's tree (its own unit for a committee)."""
    return account.unit.committee_id if _usable(account) else None


def discipline_ownership(account) -> ColumnElement[bool]:
    """The WHERE clause of the disciplines ``account`` may read: its own
    committee's list, never another tree's."""
    committee_id = own_committee_id(account)
    if committee_id is None:
        return false()
    return Discipline.committee_id == committee_id


def committee_disciplines(account, active_only: bool = True) -> Select:
    """The account's committee's disciplines, in the committee's order (the
    project form's select, the list filter, the import template)."""
    stmt = select(Discipline).where(discipline_ownership(account))
    if active_only:
        stmt = stmt.where(Discipline.active)
    return stmt.order_by(Discipline.sort_order, Discipline.id)


def creatable_unit_kinds(account) -> tuple[UnitKind, ...]:
    """The kinds of unit ``account`` may create: a society only branches
    (中级行政单位只能添加立项单位); the committee every kind below it."""
    if not _usable(account):
        return ()
    kind = account.unit.kind
    if kind is UnitKind.COMMITTEE:
        return (UnitKind.SOCIETY, UnitKind.ISSUER, UnitKind.BRANCH)
    if kind is UnitKind.SOCIETY:
        return (UnitKind.BRANCH,)
    return ()
