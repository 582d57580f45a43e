"""Versions (版本) of projects: a snapshot each time one is reported or
published, and what changed since a reviewer last saw it (修改对比).

Writing: a ``hooks.moved`` receiver keeps a ``models.ProjectVersion`` of every
project a report or publish moved, in the move's transaction, with three
statements whatever the number of projects (one SELECT of the projects with
their last version numbers, one of their lecturers, one INSERT of every snapshot).

Reading:
- ``versions_of(session, project_id)``: a project's versions, oldest first;
- ``since_last_seen(session, account, project)``: for a project back at a
  reviewer after 退回修改, the version the reviewer last saw, the current one,
  the changes between them and the send-back reasons given in between;
- ``changed_counts(session, account, projects)``: the same count of changes for
  a page of a list, in one statement.

"Last seen" by a reviewer: the latest earlier version that reached the
reviewer's level (a society sees what was reported to it or what it reported
on; the committee what reached the committee). A project "came back" when a
version after that one was reported from 退回修改.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Date, DateTime, func, insert, select
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Session

from models import Discipline, Lecturer, Project, ProjectEvent, ProjectState, ProjectVersion, utcnow
from models.rules import PROJECT_FIELDS
from models.unit import UnitKind
from permissions.scopes import visible_events
from workflow.diff import Changes, diff
from workflow.transitions import TRANSITIONS, Action

S = ProjectState
SNAPSHOT_ACTIONS = frozenset({Action.REPORT, Action.PUBLISH})
# The states a version must have reached for a reviewer of each kind to have seen it.
SEEN_BY = {
    UnitKind.SOCIETY: frozenset({S.AT_SOCIETY, S.AT_COMMITTEE, S.PUBLISHED}),
    UnitKind.COMMITTEE: frozenset({S.AT_COMMITTEE, S.PUBLISHED}),
}
# The project columns a snapshot keeps (``discipline`` is kept by name).
COLUMNS = tuple(f for f in PROJECT_FIELDS if f != "discipline")
LECTURER_COLUMNS = ("id", "name", "title", "unit", "topic", "hours")


# -- writing -----------------------------------------------------------------------
def _json(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


_projects = Project.__table__
_lecturers = Lecturer.__table__
# The project columns a snapshot reads, and which of them need converting to JSON
# (dates to ISO strings, enums to their values); the others are kept as read.
_CONVERTED = tuple(
    name for name in COLUMNS if isinstance(_projects.c[name].type, (Date, DateTime, SAEnum))
)


def read_snapshots(session: Session, ids: Sequence[int]) -> dict[int, tuple[dict, int]]:
    """Each project's snapshot as stored now, with its last version number (0
    when it has none): two plain SELECTs on the session's connection (the
    projects with their discipline's name and last version number; their
    lecturers), the rows zipped once with the column names."""
    if not ids:
        return {}
    conn = session.connection()
    versions = ProjectVersion.__table__
    last = (
        select(func.max(versions.c.number))
        .where(versions.c.project_id == _projects.c.id)
        .scalar_subquery()
    )
    disciplines = Discipline.__table__
    stmt = (
        select(
            _projects.c.id,
            *(_projects.c[name] for name in COLUMNS),
            disciplines.c.name.label("discipline"),
            _projects.c.discipline_id,
            last.label("last_number"),
        )
        .join_from(_projects, disciplines, disciplines.c.id == _projects.c.discipline_id)
        .where(_projects.c.id.in_(ids))
        .order_by(_projects.c.id)
    )
    # The keys in the order snapshots have always had them.
    names = ("id", *COLUMNS, "discipline", "discipline_id", "last_number")
    found: dict[int, tuple[dict, int]] = {}
    for row in conn.execute(stmt):
        data = dict(zip(names, row, strict=True))
        data.pop("id")
        for name in _CONVERTED:
            data[name] = _json(data[name])
        data["lecturers"] = []
        found[row[0]] = (data, data.pop("last_number") or 0)
    lecturer_stmt = (
        select(_lecturers.c.project_id, *(_lecturers.c[name] for name in LECTURER_COLUMNS))
        .where(_lecturers.c.project_id.in_(ids))
        .order_by(_lecturers.c.project_id, _lecturers.c.position, _lecturers.c.id)
    )
    for project_id, *values in conn.execute(lecturer_stmt):
        if (snapshot := found.get(project_id)) is not None:
            snapshot[0]["lecturers"].append(dict(zip(LECTURER_COLUMNS, values, strict=True)))
    return found


def keep_versions(action, *, session, account, moves, reason):
    """A version of every project a report or publish moved. Three statements."""
    if action not in SNAPSHOT_ACTIONS:
        return
    by_id = {move.project_id: move for move in moves if move.target is not None}
    snapshots = read_snapshots(session, sorted(by_id))
    now = utcnow()
    rows = [
        {
            "project_id": project_id,
            "number": last + 1,
            "action": action.value,
            "from_state": by_id[project_id].source,
            "to_state": by_id[project_id].target,
            "actor_id": account.id,
            "actor_unit_id": account.unit_id,
            "data": data,
            "created_at": now,
        }
        for project_id, (data, last) in snapshots.items()
    ]
    if rows:
        session.connection().execute(insert(ProjectVersion.__table__), rows)


# -- reading -----------------------------------------------------------------------
def versions_of(session: Session, project_id: int) -> list[ProjectVersion]:
    """The project's versions, oldest first (the caller has checked that the
    account may see the project)."""
    stmt = (
        select(ProjectVersion)
        .where(ProjectVersion.project_id == project_id)
        .order_by(ProjectVersion.number)
    )
    return list(session.scalars(stmt))


def version_pair(versions: Sequence, kind: UnitKind) -> tuple | None:
    """(last seen, current) among a project's ``versions`` (oldest first) for a
    reviewer of unit ``kind``, when the project came back after 退回修改 since
    the reviewer last saw it; else None. Pure."""
    seen = SEEN_BY.get(kind)
    if seen is None or len(versions) < 2:
        return None
    current = versions[-1]
    for index in range(len(versions) - 2, -1, -1):
        if S(versions[index].to_state) in seen:
            later = versions[index + 1 :]
            if any(v.from_state == S.RETURNED.value for v in later):
                return versions[index], current
            return None
    return None


def _written_by_move(version) -> tuple[str, ...]:
    """The snapshot fields that ``version``'s move wrote itself (the number that
    publishing allocates, ``Effects.allocates_number``), from the transition table."""
    allocates = any(
        t.effects.allocates_number
        for t in TRANSITIONS
        if t.action == version.action and S(version.from_state) in t.sources
    )
    return ("project_no",) if allocates else ()


def opening_pair(versions: Sequence) -> tuple | None:
    """The two versions 修改对比 opens on, among a project's ``versions`` (oldest
    first): the latest step in which someone changed a field (a report after
    edits), not a step that only moved the project (a publish changes no field;
    the number it gives is the move's own); the first and the last version when
    no step changed a field; None with fewer than two versions. Pure."""
    if len(versions) < 2:
        return None
    for older, newer in zip(reversed(versions[:-1]), reversed(versions[1:]), strict=True):
        kept = {name: older.data.get(name) for name in _written_by_move(newer)}
        if diff(older.data, {**newer.data, **kept}):
            return older, newer
    return versions[0], versions[-1]


def _shows_changes(project, kind: UnitKind) -> bool:
    """Changes are shown while the project is at or past the reviewer, not
    while its entry unit holds it again."""
    return kind in SEEN_BY and S(project.state) in SEEN_BY[kind]


@dataclass
class Comparison:
    """What changed between two versions, with the send-back reasons (退回原因)
    given between them: ``returns`` are ``ProjectEvent`` rows of unlocks."""

    old: ProjectVersion
    new: ProjectVersion
    changes: Changes
    returns: list = field(default_factory=list)


def compare(old: ProjectVersion, new: ProjectVersion) -> Comparison:
    return Comparison(old, new, diff(old.data, new.data))


def since_last_seen(session: Session, account, project, versions=None) -> Comparison | None:
    """For a reviewer (a society or the committee), the changes of ``project``
    since they last saw it, when it came back after 退回修改; else None."""
    kind = account.unit.kind
    if not _shows_changes(project, kind):
        return None
    versions = versions_of(session, project.id) if versions is None else versions
    pair = version_pair(versions, kind)
    if pair is None:
        return None
    comparison = compare(*pair)
    comparison.returns = returns_between(session, account, project.id, *pair)
    return comparison


def returns_between(session: Session, account, project_id: int, old, new) -> list:
    """The unlock events of the project between versions ``old`` and ``new``,
    oldest first: the reasons it was sent back for."""
    stmt = visible_events(account).where(
        ProjectEvent.project_id == project_id,
        ProjectEvent.action == Action.UNLOCK.value,
        ProjectEvent.created_at >= old.created_at,
        ProjectEvent.created_at <= new.created_at,
    )
    return list(session.scalars(stmt.order_by(ProjectEvent.id)))


def changed_counts(session: Session, account, projects: Iterable) -> dict[int, int]:
    """For the projects of a list's page: how many changes each shows since
    the reviewer last saw it (only those that came back after 退回修改 and have
    changes). One statement, reading the versions of the projects that were
    ever reported from 退回修改 only; none for an account that reviews nothing."""
    kind = account.unit.kind
    wanted = [p.id for p in projects if _shows_changes(p, kind)]
    if not wanted:
        return {}
    came_back = select(ProjectVersion.project_id).where(
        ProjectVersion.project_id.in_(wanted), ProjectVersion.from_state == S.RETURNED.value
    )
    stmt = (
        select(
            ProjectVersion.project_id,
            ProjectVersion.number,
            ProjectVersion.from_state,
            ProjectVersion.to_state,
            ProjectVersion.data,
        )
        .where(ProjectVersion.project_id.in_(came_back))
        .order_by(ProjectVersion.project_id, ProjectVersion.number)
    )
    by_project = defaultdict(list)
    for row in session.execute(stmt):
        by_project[row.project_id].append(row)
    counts = {}
    for project_id, versions in by_project.items():
        pair = version_pair(versions, kind)
        if pair and (count := diff(pair[0].data, pair[1].data).count):
            counts[project_id] = count
    return counts
