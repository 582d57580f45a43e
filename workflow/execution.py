"""执行情况: a published project's execution report and its roster (学员名单).

Opening a report, saving its fields and its roster, and comparing what was held
with what was filed. Its state moves only through the engine, with the second
transition table (``machines.EXECUTIONS``): ``move`` and ``move_bulk`` here are
the engine's ``apply`` and ``apply_bulk`` with that machine. Like the engine,
nothing here commits: the caller commits once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from itertools import chain, islice

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from models import (
    DEFAULT_DUE_DAYS,
    ExecutionDeadline,
    ExecutionEvent,
    ExecutionLecturer,
    ExecutionReport,
    ExecutionSnapshot,
    ExecutionState,
    IdType,
    Project,
    ProjectState,
    RosterEntry,
    RosterSource,
    rules,
    utcnow,
)
from models.base import beijing_today
from models.execution import due_on
from permissions.relations import OWNERS, relation
from permissions.scopes import execution_visibility
from workflow import diff, engine, hooks
from workflow.errors import NotAllowed, ReportNotFound
from workflow.machines import EXECUTIONS
from workflow.transitions import Action

# The report's own fields, in the form's order.
REPORT_FIELDS = (
    "start_date",
    "end_date",
    "venue",
    "mode",
    "theory_hours",
    "practice_hours",
    "credits",
    "learners",
    "summary",
    "pass_rate",
)
# The fields a report shares with its project: the filed-vs-held comparison.
HELD_FIELDS = ("start_date", "end_date", "venue", "mode", "theory_hours", "practice_hours")
# Changes the reviewer must not miss (marked on the comparison).
FLAGGED = frozenset({"start_date", "end_date", "theory_hours", "practice_hours", "credits"})
ROSTER_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "workplace",
    "title",
    "license_no",
    "phone",
    "attended",
    "credits",
)
# More learners than the planned number × this is worth a reviewer's look.
OVER_ENROLMENT = 1.5


# -- opening --------------------------------------------------------------------------------
def due_days(session: Session, committee_id: int, year: int) -> int:
    """How many days after its end date a report is due (the committee's setting)."""
    days = session.scalar(
        select(ExecutionDeadline.days).where(
            ExecutionDeadline.committee_id == committee_id, ExecutionDeadline.year == year
        )
    )
    return days or DEFAULT_DUE_DAYS


def open_refusal(session: Session, account, project: Project):
    """Why ``account`` cannot open ``project``'s report now, or None."""
    if relation(account, project) not in OWNERS:
        return NotAllowed(
            _l("Only the entry unit that filed the project can report its execution.")
        )
    if ProjectState(project.state) is not ProjectState.PUBLISHED:
        return NotAllowed(
            _l("The execution of a project can be reported only once it is published."),
            project.id,
            project.name,
        )
    return None


def report_of_project(session: Session, project_id: int) -> ExecutionReport | None:
    return session.scalar(select(ExecutionReport).where(ExecutionReport.project_id == project_id))


def open_report(session: Session, account, project: Project) -> ExecutionReport:
    """The report of ``project`` (a draft, prefilled from the published project
    and its lecturers), opened now if it was not yet; the owner unit only."""
    if (error := open_refusal(session, account, project)) is not None:
        raise error
    if (existing := report_of_project(session, project.id)) is not None:
        return existing
    report = ExecutionReport(
        project_id=project.id,
        name=project.name,
        year=project.year,
        owner_unit_id=project.owner_unit_id,
        society_id=project.society_id,
        committee_id=project.committee_id,
        due_date=due_on(project.end_date, due_days(session, project.committee_id, project.year)),
        start_date=project.start_date,
        end_date=project.end_date,
        venue=project.venue,
        mode=project.mode,
        theory_hours=project.theory_hours,
        practice_hours=project.practice_hours or 0,
        credits=project.credits,
        learners=0,
        lecturers=[
            ExecutionLecturer(
                position=index,
                name=lec.name,
                title=lec.title,
                unit=lec.unit,
                topic=lec.topic,
                hours=lec.hours,
            )
            for index, lec in enumerate(project.lecturers)
        ],
    )
    session.add(report)
    session.flush()
    session.execute(
        insert(ExecutionEvent),
        [
            engine.history_row(
                account, report, Action.CREATE, None, ExecutionState.DRAFT, machine=EXECUTIONS
            )
        ],
    )
    return report


# -- reading --------------------------------------------------------------------------------
def visible_report(session: Session, account, report_id: int) -> ExecutionReport:
    """The report, if the account may see it; else ``ReportNotFound`` (a view answers 404)."""
    report = session.scalar(
        select(ExecutionReport).where(
            ExecutionReport.id == report_id, execution_visibility(account)
        )
    )
    if report is None:
        raise ReportNotFound(report_id)
    return report


def can_edit(account, report: ExecutionReport) -> bool:
    """May ``account`` change the report and its roster now (its owner, while it holds it)."""
    return engine.is_allowed(report, Action.EDIT, account, EXECUTIONS)


def shows_id_numbers(account, report: ExecutionReport) -> bool:
    """Whole ID numbers: only to the owner unit while the report is editable."""
    return can_edit(account, report)


def shown_id_number(account, report: ExecutionReport, number: str) -> str:
    return number if shows_id_numbers(account, report) else rules.mask_id_number(number)


def available_actions(report: ExecutionReport, account) -> list[Action]:
    return engine.available_actions(report, account, EXECUTIONS)


def is_overdue(report, today: date | None = None) -> bool:
    today = today or beijing_today()
    return ExecutionState(report.state).modifiable and today > report.due_date


# -- moving ---------------------------------------------------------------------------------
def move(session: Session, report: ExecutionReport, action: Action, account, reason=None) -> None:
    engine.apply(session, report, action, account, reason, machine=EXECUTIONS)


def move_bulk(session: Session, action: Action, account, ids: Iterable[int], reason=None):
    return engine.apply_bulk(session, action, account, ids, reason, machine=EXECUTIONS)


# -- saving ---------------------------------------------------------------------------------
def save_report(
    session: Session,
    account,
    report: ExecutionReport,
    values: Mapping,
    lecturers: Sequence[Mapping] | None = None,
) -> dict:
    """Save the report's fields (and, when given, its lecturers): ``{field: message}``
    of what is wrong, and nothing saved; ``{}`` when saved."""
    engine.ensure_allowed(report, Action.EDIT, account, EXECUTIONS)
    values = {name: values.get(name) for name in REPORT_FIELDS}
    errors = rules.validate_execution(values, published_credits=report.project.credits)
    errors |= _lecturer_errors(lecturers or ())
    if errors:
        return errors
    for name, value in values.items():
        # 实践学时 and 学员人数 left blank are none.
        setattr(report, name, 0 if value is None and name in ZERO_IF_BLANK else value)
    if lecturers is not None:
        report.lecturers = [
            ExecutionLecturer(position=index, **{k: lec.get(k) for k in LECTURER_KEYS})
            for index, lec in enumerate(lecturers)
        ]
    report.updated_at = utcnow()
    engine.edit(session, account, report, machine=EXECUTIONS)
    return {}


LECTURER_KEYS = ("name", "title", "unit", "topic", "hours")
ZERO_IF_BLANK = ("practice_hours", "learners")


def _lecturer_errors(lecturers: Sequence[Mapping]) -> dict:
    """``{lecturers-N-field: message}`` of the report's lecturer rows."""
    return {
        f"lecturers-{index}-{name}": message
        for index, lecturer in enumerate(lecturers)
        for name, message in rules.validate_lecturer(lecturer).items()
    }


# -- the roster -----------------------------------------------------------------------------
def clean_learner(values: Mapping) -> dict:
    """A learner's row as the rules judge it: texts stripped, the ID number normalised."""
    row = {name: values.get(name) for name in ROSTER_FIELDS}
    for name in ("name", "workplace", "title", "license_no", "phone"):
        if isinstance(row[name], str):
            row[name] = row[name].strip() or None
    row["id_type"] = IdType(row["id_type"] or IdType.RESIDENT).value
    row["id_number"] = rules.normalise_id_number(row["id_number"]) or None
    row["attended"] = True if row["attended"] is None else bool(row["attended"])
    return row


def learner_errors(report: ExecutionReport, row: Mapping) -> dict:
    """``{field: message}`` of one cleaned learner row."""
    return rules.validate_roster_entry(row, max_credits=report.credits)


def _duplicate(session: Session, report: ExecutionReport, number: str, keep_id=None) -> bool:
    stmt = select(RosterEntry.id).where(
        RosterEntry.report_id == report.id, RosterEntry.id_number == number
    )
    if keep_id is not None:
        stmt = stmt.where(RosterEntry.id != keep_id)
    return session.scalar(stmt.limit(1)) is not None


DUPLICATE_LEARNER = _l("This ID number is already on the roster.")


def _touch(session: Session, account, report: ExecutionReport, reason=None) -> None:
    """A roster change is a change of the report: its version moves (so an edit
    racing a move is refused, not lost) and its history says so."""
    report.updated_at = utcnow()
    engine.edit(session, account, report, reason, machine=EXECUTIONS)


def count_roster(session: Session, report: ExecutionReport) -> None:
    """Count the report's roster figures again from its rows (pending ones flushed
    first): ``attended_learners`` and ``credits_awarded``, in one UPDATE whatever the
    number of rows (through ``ix_roster_entries_report_id_id``). Neither the version nor
    ``updated_at`` moves: the write that called it moved them."""
    session.flush()
    table, rows = ExecutionReport.__table__, RosterEntry.__table__
    of_report = rows.c.report_id == table.c.id
    session.execute(
        update(table)
        .where(table.c.id == report.id)
        .values(
            attended_learners=select(func.count())
            .where(of_report, rows.c.attended)
            .scalar_subquery(),
            credits_awarded=select(func.coalesce(func.sum(rows.c.credits), 0.0))
            .where(of_report)
            .scalar_subquery(),
            updated_at=table.c.updated_at,
        )
    )
    session.expire(report, ["attended_learners", "credits_awarded"])


@contextmanager
def roster_write(session: Session, account, report: ExecutionReport, reason=None) -> Iterator:
    """Every write to a report's roster happens inside this (the panel's add, edit and
    remove, the import, the on-site sign-in): first the report's version moves and its
    history gets one event (``_touch``: a write racing a move is refused), then the
    body writes the rows, then the report's roster figures are counted again
    (``count_roster``), in the caller's transaction."""
    _touch(session, account, report, reason)
    yield
    count_roster(session, report)


def add_learner(
    session: Session, account, report: ExecutionReport, values: Mapping, source=RosterSource.PANEL
) -> tuple[RosterEntry | None, dict]:
    """Add one learner: (the row, {}) or (None, {field: message}) with nothing added."""
    engine.ensure_allowed(report, Action.EDIT, account, EXECUTIONS)
    row = clean_learner(values)
    if row["credits"] is None:
        row["credits"] = report.credits if row["attended"] else 0
    if errors := learner_errors(report, row):
        return None, errors
    if _duplicate(session, report, row["id_number"]):
        return None, {"id_number": DUPLICATE_LEARNER}
    entry = RosterEntry(report_id=report.id, source=source, **row)
    with roster_write(session, account, report):
        session.add(entry)
    return entry, {}


def update_learner(
    session: Session, account, report: ExecutionReport, entry: RosterEntry, values: Mapping
) -> dict:
    engine.ensure_allowed(report, Action.EDIT, account, EXECUTIONS)
    if entry.report_id != report.id:
        raise ReportNotFound(report.id)
    row = clean_learner(values)
    if row["credits"] is None:
        row["credits"] = 0
    if errors := learner_errors(report, row):
        return errors
    if _duplicate(session, report, row["id_number"], keep_id=entry.id):
        return {"id_number": DUPLICATE_LEARNER}
    with roster_write(session, account, report):
        for name, value in row.items():
            setattr(entry, name, value)
    return {}


def remove_learners(
    session: Session, account, report: ExecutionReport, entry_ids: Iterable[int]
) -> int:
    """Remove the report's learners among ``entry_ids``; how many were removed."""
    engine.ensure_allowed(report, Action.EDIT, account, EXECUTIONS)
    entries = session.scalars(
        select(RosterEntry).where(
            RosterEntry.report_id == report.id, RosterEntry.id.in_(list(entry_ids))
        )
    ).all()
    if entries:
        with roster_write(session, account, report):
            for entry in entries:
                session.delete(entry)
        hooks.learners_removed.send(
            report, session=session, account=account, entry_ids=[e.id for e in entries]
        )
    return len(entries)


def import_learners(
    session: Session,
    account,
    report: ExecutionReport,
    added: Iterable[Mapping | Sequence],
    changed: Mapping[int, Mapping] | Iterable[tuple[int, Mapping | Sequence]],
    reason=None,
) -> None:
    """Many learners at once (the roster import, ``imports.roster``): the ``added`` rows
    inserted, each of ``changed`` (entry id → row, or (entry id, row) pairs) written over
    that learner of the report. The rows come cleaned and judged (``clean_learner``,
    ``learner_errors``, no ID number twice, an added one not on the roster yet), each a
    mapping of ``ROSTER_FIELDS`` or the sequence of its values in that order (the roster
    import's lists: one dict per row fewer); either may be a generator, read a chunk at a
    time. One INSERT and one UPDATE (executemany) per
    ``WRITE_CHUNK`` rows, each chunk's parameters built when it is written (5,000 rows are
    never all held as parameters); the report's version moves once (first: an import racing
    a move is refused), its history gets one event and its roster figures are counted again
    once (``roster_write``). Nothing at all when both are empty."""
    engine.ensure_allowed(report, Action.EDIT, account, EXECUTIONS)
    added = iter(added)
    changed = iter(changed.items() if isinstance(changed, Mapping) else changed)
    first_added, first_changed = next(added, None), next(changed, None)
    if first_added is None and first_changed is None:
        return
    if first_added is not None:
        added = chain((first_added,), added)
    if first_changed is not None:
        changed = chain((first_changed,), changed)
    with roster_write(session, account, report, reason):
        _write_rows(session, report, added, changed)


# Rows per executemany of an import: the parameters of one chunk are held at a time.
WRITE_CHUNK = 1000


NEW_FIELDS = tuple(f"new_{name}" for name in ROSTER_FIELDS)


def _in_order(row: Mapping | Sequence) -> Iterable:
    """A row's values in ``ROSTER_FIELDS`` order."""
    if isinstance(row, Mapping):
        return [row[name] for name in ROSTER_FIELDS]
    return row


def _in_chunks(rows: Iterable) -> Iterator[list]:
    """``rows`` a ``WRITE_CHUNK`` at a time; a chunk is let go before the next is read (the
    caller drops its own too), so one chunk is held at a time, not two."""
    rows = iter(rows)
    while chunk := list(islice(rows, WRITE_CHUNK)):
        yield chunk
        del chunk


def _write_rows(
    session: Session, report: ExecutionReport, added: Iterable[Mapping], changed: Iterable
) -> None:
    from sqlalchemy import bindparam

    now = utcnow()
    table = RosterEntry.__table__
    # The table's INSERT (Core): the ORM's bulk INSERT costs more than the write itself.
    fixed = {
        "report_id": report.id,
        "source": RosterSource.IMPORT.value,
        "created_at": now,
        "updated_at": now,
    }
    for chunk in _in_chunks(added):
        params = [dict(zip(ROSTER_FIELDS, _in_order(row), strict=True), **fixed) for row in chunk]
        del chunk
        session.execute(insert(table), params)
        del params  # before the next chunk is read
    stmt = (
        update(table)
        .where(table.c.id == bindparam("entry_id"), table.c.report_id == report.id)
        .values({name: bindparam(f"new_{name}") for name in (*ROSTER_FIELDS, "updated_at")})
    )
    for chunk in _in_chunks(changed):
        params = [
            dict(
                zip(NEW_FIELDS, _in_order(row), strict=True), entry_id=entry_id, new_updated_at=now
            )
            for entry_id, row in chunk
        ]
        del chunk
        session.execute(stmt, params)
        del params


def roster_count(session: Session, report_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(RosterEntry).where(RosterEntry.report_id == report_id)
    )


@dataclass
class RosterFigures:
    total: int = 0
    attended: int = 0
    credits: float = 0.0


def roster_figures(session: Session, report_id: int) -> RosterFigures:
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((RosterEntry.attended, 1), else_=0)), 0),
            func.coalesce(func.sum(RosterEntry.credits), 0),
        ).where(RosterEntry.report_id == report_id)
    ).one()
    return RosterFigures(int(row[0]), int(row[1]), float(row[2]))


def roster_warnings(session: Session, report: ExecutionReport) -> list:
    """What a reviewer should look at twice (never blocks)."""
    warnings = []
    planned = report.project.planned_participants
    count = roster_count(session, report.id)
    if planned and count > planned * OVER_ENROLMENT:
        warnings.append(
            _l(
                "The roster has %(count)s learners, more than 1.5 times the %(planned)s planned.",
                count=count,
                planned=planned,
            )
        )
    return warnings


# -- comparing ------------------------------------------------------------------------------
@dataclass(frozen=True)
class HeldChanges:
    """Filed (the published project) vs held (the report)."""

    changes: diff.Changes
    flagged: frozenset[str] = field(default_factory=frozenset)

    @property
    def count(self) -> int:
        return self.changes.count


def _stored(value):
    if isinstance(value, date):
        return value.isoformat()
    return getattr(value, "value", value)


def _lecturer_rows(lecturers) -> list[dict]:
    return [
        {"name": lec.name, "title": lec.title, "unit": lec.unit, "topic": lec.topic,
         "hours": lec.hours}
        for lec in lecturers
    ]  # fmt: skip


def filed_vs_held(report: ExecutionReport) -> HeldChanges:
    """What the report says was held differently from the published project, with
    the existing diff: dates, venue, mode, hours, credits and lecturers."""
    project = report.project
    filed = {name: _stored(getattr(project, name)) for name in (*HELD_FIELDS, "credits")}
    held = {name: _stored(getattr(report, name)) for name in (*HELD_FIELDS, "credits")}
    filed["lecturers"] = _lecturer_rows(project.lecturers)
    held["lecturers"] = _lecturer_rows(report.lecturers)
    changes = diff.diff(filed, held)
    flagged = {c.name for c in changes.fields if c.name in FLAGGED}
    if changes.lecturers:
        flagged.add("lecturers")
    return HeldChanges(changes, frozenset(flagged))


# -- snapshots: what a reviewer saw each time ------------------------------------------------
SNAPSHOT_ACTIONS = frozenset({Action.REPORT, Action.ACCEPT})


# What a snapshot keeps of each learner (the ID number masked).
SNAPSHOT_ROSTER = (
    RosterEntry.id,
    RosterEntry.report_id,
    RosterEntry.name,
    RosterEntry.id_number,
    RosterEntry.workplace,
    RosterEntry.title,
    RosterEntry.attended,
    RosterEntry.credits,
)


def _roster_row(entry) -> dict:
    return {
        "id": entry.id,
        "name": entry.name,
        "id_number": rules.mask_id_number(entry.id_number),
        "workplace": entry.workplace,
        "title": entry.title,
        "attended": entry.attended,
        "credits": entry.credits,
    }


def snapshot_data(report: ExecutionReport, roster: Sequence) -> dict:
    """The report's fields, lecturers and roster (ID numbers masked), to be stored."""
    return {
        "fields": {name: _stored(getattr(report, name)) for name in REPORT_FIELDS},
        "lecturers": _lecturer_rows(report.lecturers),
        "roster": [_roster_row(entry) for entry in roster],
    }


def keep_snapshots(action, *, session, account, moves, reason) -> None:
    """Receiver of ``hooks.execution_moved`` (connected by ``receivers``): a
    snapshot of each report reported or accepted, so the next reviewer sees who
    was added, removed or changed. Three reads and one INSERT, whatever the rows."""
    if action not in SNAPSHOT_ACTIONS:
        return
    target = {move.project_id: move.target for move in moves}
    reports = session.scalars(
        select(ExecutionReport)
        .where(ExecutionReport.id.in_(list(target)))
        .options(selectinload(ExecutionReport.lecturers))
    ).all()
    rosters: dict[int, list] = {report_id: [] for report_id in target}
    # Plain rows, not ORM objects: an accept of 500 reports reads tens of thousands.
    entries = session.execute(
        select(*SNAPSHOT_ROSTER)
        .where(RosterEntry.report_id.in_(list(target)))
        .order_by(RosterEntry.report_id, RosterEntry.id)
    )
    for entry in entries:
        rosters[entry.report_id].append(entry)
    now = utcnow()
    rows = [
        {
            "report_id": report.id,
            "action": action.value,
            "to_state": target[report.id],
            "data": json.dumps(snapshot_data(report, rosters[report.id]), ensure_ascii=False),
            "created_at": now,
        }
        for report in reports
    ]
    if rows:
        session.execute(insert(ExecutionSnapshot), rows)


@dataclass(frozen=True)
class RosterChange:
    kind: str  # diff.ADDED, diff.REMOVED, diff.CHANGED
    name: str
    id_number: str  # masked
    fields: tuple = ()


def _learner_changes(before: Mapping, after: Mapping) -> tuple:
    """(field, old, new) of each shown field one learner's row changed."""
    return tuple(
        (name, before.get(name), after.get(name))
        for name in ("name", "id_number", "workplace", "title", "attended", "credits")
        if before.get(name) != after.get(name)
    )


def roster_changes(old: Sequence[Mapping], new: Sequence[Mapping]) -> list[RosterChange]:
    """Learners removed, changed and added between two snapshots' rosters (by row id)."""
    before = {row["id"]: row for row in old}
    after = {row["id"]: row for row in new}
    found = [
        RosterChange(diff.REMOVED, row["name"], row["id_number"])
        for key, row in before.items()
        if key not in after
    ]
    for key, row in after.items():
        if key in before and (changed := _learner_changes(before[key], row)):
            found.append(RosterChange(diff.CHANGED, row["name"], row["id_number"], changed))
    found += [
        RosterChange(diff.ADDED, row["name"], row["id_number"])
        for key, row in after.items()
        if key not in before
    ]
    return found


def since_last_report(session: Session, report: ExecutionReport) -> list[RosterChange] | None:
    """The roster's changes between the last two snapshots, or None with fewer than two."""
    snapshots = session.scalars(
        select(ExecutionSnapshot.data)
        .where(ExecutionSnapshot.report_id == report.id)
        .order_by(ExecutionSnapshot.id.desc())
        .limit(2)
    ).all()
    if len(snapshots) < 2:
        return None
    newer, older = (json.loads(s) for s in snapshots)
    return roster_changes(older["roster"], newer["roster"])
