"""The only code that changes a project's or an execution report's state
(docs/domain.md#transitions).

Every function writes one event per changed row, flushes and never commits:
the caller (a request handler or a CLI command) commits once. A ``machine``
(``workflow.machines``) says which table runs: ``PROJECTS`` unless told.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, column, delete, insert, select, update
from sqlalchemy import values as sql_values
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models import Project, ProjectEvent, ProjectNumberCounter, ProjectState, rules, utcnow
from permissions.relations import Relation, relation
from workflow import counters, hooks
from workflow.errors import (
    NotAllowed,
    ProjectChanged,
    ProjectNotFound,
    ReasonRequired,
    WorkflowError,
)
from workflow.machines import PROJECTS, Machine
from workflow.transitions import Action, Outcome, Transition

projects = Project.__table__
BULK_ACTIONS = PROJECTS.bulk_actions
# ``session.info`` key where a ``hooks.checking`` receiver leaves notes for the history
# rows of the rows it lets move, ``{project_id: note}`` (e.g. a step taken under a
# filing-window exception, ``workflow.calendar``); ``_write`` puts each before the
# action's own reason in that row's event, and forgets them.
EVENT_NOTES = "workflow_event_notes"


@dataclass
class BulkResult:
    """What a bulk action did: the ids it changed, and each skipped id with why."""

    action: Action
    done: list[int] = field(default_factory=list)
    skipped: list[NotAllowed | ProjectNotFound | ProjectChanged] = field(default_factory=list)
    # What moved, for the ``hooks.moved`` receivers (snapshots, messages).
    moves: list[hooks.Move] = field(default_factory=list)


# Where a project stands and whom it waits for, by state.
WAITING = PROJECTS.waiting
# Who holds a relation, in the manual's words.
ACTOR_NAMES = {
    Relation.OWNER_BRANCH: _l("the entry unit"),
    Relation.OWNER_ISSUER: _l("the entry unit"),
    Relation.SOCIETY: _l("the society"),
    Relation.COMMITTEE: _l("the committee"),
}


# The verb a refusal uses for an action, where its button title does not read as one.
VERBS = {Action.REPORT: _l("report it")}


def _actors(action: Action, state, machine: Machine = PROJECTS) -> list[str]:
    """Who may take ``action`` from ``state``, in the table's order, each named once."""
    names = (
        str(ACTOR_NAMES[actor])
        for t in machine.transitions
        if t.action is action and state in t.sources
        for actor in sorted(t.actors)
    )
    return list(dict.fromkeys(names))


def refusal(project, action: Action, account, machine: Machine = PROJECTS) -> NotAllowed | None:
    """Why ``account`` may not take ``action`` on ``project`` (or report) now, or
    None: where it stands, and who can act on it now (or that nobody can)."""
    rel = relation(account, project)
    state = machine.states(project.state)
    if machine.find(action, rel, state) is not None:
        return None
    if rel is None or not any(machine.find(action, rel, s) for s in machine.states):
        message = machine.forbidden(machine.action_title(action))
        return NotAllowed(message, project.id, project.name)
    verb = VERBS.get(action, machine.action_title(action))
    unlockers = _actors(Action.UNLOCK, state, machine)
    if others := _actors(action, state, machine):
        next_step = _l("only %(who)s can %(action)s", who=others[0], action=verb)
    elif action in (Action.EDIT, Action.DELETE) and unlockers:
        next_step = _l(
            "%(who)s must set it modifiable before you can %(action)s it",
            who=unlockers[0],
            action=verb,
        )
    else:
        next_step = _l("it cannot be %(action)s now", action=verb)
    message = machine.refused(machine.waiting[state], next_step)
    return NotAllowed(message, project.id, project.name)


def is_allowed(project, action: Action, account, machine: Machine = PROJECTS) -> bool:
    return refusal(project, action, account, machine) is None


def can_edit_project(account, project) -> bool:
    """May ``account`` change ``project``'s fields now (its owner, while it holds it)."""
    return is_allowed(project, Action.EDIT, account)


def can_delete_project(account, project) -> bool:
    return is_allowed(project, Action.DELETE, account)


def available_actions(project, account, machine: Machine = PROJECTS) -> list[Action]:
    """The actions ``account`` may take on ``project`` now, in table order."""
    actions = {t.action for t in machine.transitions}
    return [
        a
        for a in Action
        if a in actions and a is not Action.CREATE and is_allowed(project, a, account, machine)
    ]


def ensure_allowed(project, action: Action, account, machine: Machine = PROJECTS) -> None:
    if (error := refusal(project, action, account, machine)) is not None:
        raise error


def history_row(account, row, action, from_state, to_state, reason=None, machine=PROJECTS):
    """One history event of ``row`` (a project, or a report with ``machine=EXECUTIONS``),
    as the values of an INSERT into the machine's events table."""
    return {
        machine.event_key: row.id,
        "project_name": row.name,
        "owner_unit_id": row.owner_unit_id,
        "actor_id": account.id,
        "actor_unit_id": account.unit_id,
        "action": action.value,
        "from_state": from_state.value if from_state else None,
        "to_state": to_state.value if to_state else None,
        "reason": reason,
        "created_at": utcnow(),
    }


def create(session: Session, account, project: Project, reason: str | None = None) -> Project:
    """Add ``project`` as a draft of the account's own entry unit; ``reason`` is
    the history's note on how it came (e.g. a batch import)."""
    create_many(session, account, [project], reason)
    return project


def create_many(session: Session, account, projects: list[Project], reason=None) -> None:
    """Add ``projects`` as drafts of the account's own entry unit: one flush (the
    ORM batches the INSERTs) and one INSERT of their history rows, so a batch
    import of thousands costs a few statements per table, not per project."""
    unit = account.unit
    if not (account.is_active and unit.kind.is_entry):
        raise NotAllowed(_l("Only an entry unit can add projects."))
    for project in projects:
        project.owner_unit = unit
        if not project.organizer:
            project.organizer = unit.name
    session.add_all(projects)
    session.flush()
    if projects:
        session.execute(
            insert(ProjectEvent),
            [
                history_row(account, p, Action.CREATE, None, ProjectState.DRAFT, reason)
                for p in projects
            ],
        )


def edit(
    session: Session, account, project, reason: str | None = None, machine: Machine = PROJECTS
) -> None:
    """Save the changes made to ``project``'s (or a report's) fields, if its
    owner may edit it now.

    The UPDATE carries the version read with the row, so an edit based on a
    stale copy, or racing a transition, raises ``ProjectChanged`` (``ReportChanged``).
    """
    with session.no_autoflush:
        ensure_allowed(project, Action.EDIT, account, machine)
        project_id, name = project.id, project.name
    try:
        session.flush()
    except StaleDataError as exc:
        raise machine.changed(project_id, name) from exc
    state = machine.states(project.state)
    event = history_row(account, project, Action.EDIT, state, state, reason, machine)
    session.execute(insert(machine.events), [event])


def apply(
    session: Session, project, action: Action, account, reason=None, machine: Machine = PROJECTS
) -> None:
    """Take ``action`` on one project (or report), compare-and-set against the state read."""
    result = apply_bulk(
        session,
        action,
        account,
        [project.id],
        reason,
        expected={project.id: project.state},
        machine=machine,
    )
    if result.skipped:
        raise result.skipped[0]


def apply_bulk(
    session: Session,
    action: Action,
    account,
    ids: Iterable[int],
    reason: str | None = None,
    *,
    expected: dict[int, ProjectState] | None = None,
    machine: Machine = PROJECTS,
) -> BulkResult:
    """Take ``action`` on every eligible project among ``ids``.

    Ids outside the account's scope are reported as not found. The eligible
    rows move with one compare-and-set statement per (from, to) group, so the
    number of statements does not grow with the number of ids; a row whose
    state changed meanwhile is reported as changed, never overwritten.

    Three steps: read the rows the account may see, decide each id's
    transition (or why not), write each group and its history rows.
    """
    reason = _checked_reason(action, reason, machine)
    result = BulkResult(action)
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if not wanted:
        return result
    rows = _read(session, account, wanted, machine)
    groups = _decide(action, account, wanted, rows, expected, result, machine)
    groups = _hold_back(session, action, account, groups, result, machine)
    _write(session, account, action, reason, groups, result, machine)
    if result.moves:
        machine.moved.send(
            action, session=session, account=account, moves=result.moves, reason=reason
        )
    _expire(session, result.done, removed=action is Action.DELETE, model=machine.model)
    return result


def _hold_back(session, action, account, groups: dict, result, machine=PROJECTS) -> dict:
    """The groups without the rows a ``hooks.checking`` receiver holds back
    (e.g. a blocking filing rule); those are reported as skipped."""
    rows = [row for members in groups.values() for row in members]
    refused = hooks.held_back(action, session, account, rows, machine.checking) if rows else {}
    if not refused:
        return groups
    return _without(groups, refused, result)


def _without(groups: dict, refused: dict, result) -> dict:
    """The groups without the refused rows (those reported as skipped, with why); a
    group left empty is dropped."""
    kept = {}
    for key, members in groups.items():
        result.skipped.extend(refused[r.id] for r in members if r.id in refused)
        if remaining := [r for r in members if r.id not in refused]:
            kept[key] = remaining
    return kept


def _checked_reason(action: Action, reason: str | None, machine: Machine = PROJECTS) -> str | None:
    if action not in machine.bulk_actions:
        raise ValueError(f"{action} is not a bulk action")
    reason = (reason or "").strip() or None
    if reason is None and any(t.reason_required for t in machine.transitions if t.action is action):
        raise ReasonRequired()
    if message := rules.reason_error(reason):
        raise WorkflowError(message)
    return reason


# What the engine reads of a project to decide a transition (and what callers
# that ask ``refusal`` about a row read too, e.g. the import).
ROW_COLUMNS = (
    Project.id,
    Project.name,
    Project.state,
    Project.year,
    Project.project_no,
    Project.owner_unit_id,
    Project.society_id,
    Project.committee_id,
)


def _read(session: Session, account, wanted: list[int], machine: Machine = PROJECTS) -> dict:
    """The wanted rows the account may see, by id: one SELECT."""
    columns = ROW_COLUMNS if machine is PROJECTS else machine.row_columns()
    model = machine.model
    stmt = select(*columns).where(model.id.in_(wanted), machine.visibility(account))
    return {row.id: row for row in session.execute(stmt)}


def _decide(action, account, wanted, rows, expected, result: BulkResult, machine=PROJECTS) -> dict:
    """Group the movable rows by (source state, transition); record in
    ``result`` why each other id is skipped."""
    groups: dict[tuple[ProjectState, Transition], list] = defaultdict(list)
    found: dict = {}  # the table's answer per (relation, state): a few keys, many rows
    for project_id in wanted:
        row = rows.get(project_id)
        verdict = _verdict(action, account, project_id, row, expected, found, machine)
        if isinstance(verdict, Transition):
            groups[(row.state, verdict)].append(row)
        else:
            result.skipped.append(verdict)
    return groups


def _verdict(action, account, project_id, row, expected, found=None, machine=PROJECTS):
    """The transition ``row`` takes, or the error saying why it does not."""
    if row is None:
        return machine.not_found(project_id)
    if expected and expected.get(project_id) not in (None, row.state):
        return machine.changed(row.id, row.name)
    found = {} if found is None else found
    key = (relation(account, row), row.state)
    if (transition := found.get(key)) is None and key not in found:
        transition = found[key] = machine.find(action, key[0], machine.states(key[1]))
    # No transition: ``refusal`` says why, in the table's words.
    return transition or refusal(row, action, account, machine)


def _write(session, account, action, reason, groups: dict, result, machine=PROJECTS) -> None:
    """One compare-and-set statement per group, then one INSERT of every
    history row; a row that lost its race is reported as changed."""
    now = utcnow()
    # What every history row of this action shares, read once (not per row).
    shared = {
        "actor_id": account.id,
        "actor_unit_id": account.unit_id,
        "action": action.value,
        "reason": reason,
        "created_at": now,
    }
    notes = session.info.pop(EVENT_NOTES, None) or {}
    events = []
    for (source, transition), members in groups.items():
        changed = _move_group(session, source, transition, members, reason, now, machine)
        states = _event_states(source, transition, machine)
        move = partial(hooks.Move, source=states["from_state"], target=states["to_state"])
        common = states | shared
        for row in members:
            if row.id not in changed:
                result.skipped.append(machine.changed(row.id, row.name))
                continue
            result.done.append(row.id)
            result.moves.append(
                move(
                    row.id, row.name, row.owner_unit_id, row.society_id, row.committee_id, row.year
                )
            )
            events.append(_event(machine, row, common, notes.get(row.id), reason))
    if events:
        session.connection().execute(insert(machine.events.__table__), events)


def _move_group(session, source, transition: Transition, members, reason, now, machine) -> set:
    """Compare-and-set of one group's rows (numbered first where the transition gives
    项目编号 and a row has none): the ids moved."""
    if transition.effects.allocates_number and any(not r.project_no for r in members):
        return _move_numbered(session, members, source, transition, reason, now)
    ids = [r.id for r in members]
    return _move(session, ids, source, transition, reason, now, {}, machine.table)


def _event_states(source, transition: Transition, machine) -> dict:
    """The states a group's history rows name (no target state for a deletion)."""
    target = None if transition.target is Outcome.REMOVED else transition.target
    return {
        "from_state": machine.states(source).value,
        "to_state": machine.states(target).value if target is not None else None,
    }


def _event(machine, row, common: dict, note: str | None, reason: str | None) -> dict:
    """One moved row's history event; a step taken late carries its note
    (``EVENT_NOTES``) before the reason."""
    event = {
        machine.event_key: row.id,
        "project_name": row.name,
        "owner_unit_id": row.owner_unit_id,
    } | common
    if note is not None:
        event["reason"] = f"{note} {reason}" if reason else note
    return event


def _move_numbered(session, members, source, transition: Transition, reason, now) -> set[int]:
    """Compare-and-set for a transition that gives 项目编号: first claim the rows
    still in ``source``, then number the claimed rows that have none, then move
    them. A row that lost its race is never claimed, so it takes no number and
    the committee's series has no gaps. Four statements, whatever the rows."""
    claimed = _claim(session, [r.id for r in members], source)
    if not claimed:
        return set()
    by_id = {r.id: r for r in members}
    numbers = _allocate_numbers(
        session, [by_id[pid] for pid, number in sorted(claimed.items()) if not number]
    )
    if numbers:
        # Every claimed row with the number it ends with (its own where it had one).
        numbers = {pid: number or numbers[pid] for pid, number in claimed.items()}
    return _move(session, sorted(claimed), source, transition, reason, now, numbers)


def _claim(session, ids, source: ProjectState) -> dict[int, str | None]:
    """Lock the rows among ``ids`` still in ``source`` until the transaction ends
    and return their 项目编号 (None where they have none). A concurrent claim of
    the same rows waits, then finds them moved. PostgreSQL: ``SELECT … FOR
    UPDATE`` in id order (so two overlapping claims cannot deadlock), which
    writes nothing. SQLite has one writer at a time, from the first write on, and
    reads outside a transaction until then: the claim is that first write, of no
    indexed column (not even ``updated_at``'s onupdate), so that the move then
    rewrites these rows and their index entries once, not twice."""
    still = (projects.c.id.in_(ids), projects.c.state == source.value)
    locked = select(projects.c.id, projects.c.project_no).where(*still).order_by(projects.c.id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = locked.with_for_update()
    else:
        stmt = (
            update(projects)
            .where(projects.c.id.in_(locked.with_only_columns(projects.c.id)), *still)
            .values(version=projects.c.version, updated_at=projects.c.updated_at)
            .returning(projects.c.id, projects.c.project_no)
        )
    return {row.id: row.project_no for row in session.execute(stmt)}


def _move(
    session, ids, source, transition: Transition, reason, now, numbers, table=projects
) -> set[int]:
    """One compare-and-set statement on ``table``; returns the ids that actually moved.

    ``numbers``, when given, holds every id with the 项目编号 it ends with: the
    rows are joined to that list (``UPDATE … FROM (VALUES …)``), so each row
    finds its number by key instead of scanning a CASE of every number."""
    where = [table.c.id.in_(ids), table.c.state == source.value]
    if transition.target is Outcome.REMOVED:
        stmt = delete(table).where(*where).returning(table.c.id)
    else:
        values = _values(transition, reason, now, table)
        if numbers:
            given = (
                sql_values(column("id", Integer), column("project_no", String), name="numbers")
                .data(sorted(numbers.items()))
                .cte("numbers")
            )
            where[0] = projects.c.id == given.c.id
            values["project_no"] = given.c.project_no
        stmt = update(table).where(*where).values(values).returning(table.c.id)
    return set(session.execute(stmt).scalars())


def _values(transition: Transition, reason, now, table=projects) -> dict:
    """The new state and what the transition's effects write besides it."""
    effects = transition.effects
    values = {"state": transition.target.value, "version": table.c.version + 1}
    values |= {"updated_at": now} | dict.fromkeys(effects.stamps, now)
    values |= dict.fromkeys(effects.clears)
    if effects.reason_column:
        values[effects.reason_column] = reason
    return values


def _allocate_numbers(session: Session, rows) -> dict[int, str]:
    """项目编号 for projects about to be published without one: one counter per
    committee and year, only ever incremented, so a number is never reused.

    A number some other row of the committee already holds (one saved before
    issuers were kept out of the committee's series, whoever may see it) is
    skipped rather than given twice. Two statements when none is taken."""
    wanting: dict[tuple[int, int], list[int]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.id):
        wanting[(row.committee_id, row.year)].append(row.id)
    numbers: dict[int, str] = {}
    while wanting:
        handed = counters.advance(
            session,
            ProjectNumberCounter.__table__,
            {key: len(ids) for key, ids in wanting.items()},
        )
        offered = {
            key: [format_number(key[1], sequence) for sequence in values]
            for key, values in handed.items()
        }
        taken = _taken_numbers(session, offered)
        for key, ids in list(wanting.items()):
            free = [n for n in offered[key] if (key[0], n) not in taken]
            numbers |= dict(zip(ids, free, strict=False))
            if rest := ids[len(free) :]:
                wanting[key] = rest
            else:
                del wanting[key]
    return numbers


def _taken_numbers(session: Session, offered: dict) -> set[tuple[int, str]]:
    """The (committee, number) pairs among ``offered`` some project already has."""
    committees = {committee_id for committee_id, _ in offered}
    candidates = [number for numbers in offered.values() for number in numbers]
    stmt = select(projects.c.committee_id, projects.c.project_no).where(
        projects.c.committee_id.in_(committees), projects.c.project_no.in_(candidates)
    )
    return {(row.committee_id, row.project_no) for row in session.execute(stmt)}


def number_refusal(session: Session, account, number: str):
    """Why ``number`` cannot be the 项目编号 of a project of ``account``'s unit:
    another project of the same committee has it (numbers are unique per
    committee, including projects the unit cannot see); None when it is free."""
    taken = select(Project.id).where(
        Project.committee_id == account.unit.committee_id, Project.project_no == number
    )
    if session.scalar(taken.limit(1)) is None:
        return None
    return _l("This project number is already used by another project. Enter a different one.")


def format_number(year: int, sequence: int) -> str:
    return f"{year}-XH-{sequence:05d}"


def _expire(session: Session, ids: list[int], *, removed: bool, model=Project) -> None:
    """Objects already loaded in the session must not show the old state. (The
    session's few loaded projects are looked at, not each of the ``ids``.)"""
    if not ids or not session.identity_map:
        return
    moved = set(ids)
    loaded = [
        obj
        for key, obj in list(session.identity_map.items())
        if key[0] is model and key[1][0] in moved
    ]
    for obj in loaded:
        session.expunge(obj) if removed else session.expire(obj)
