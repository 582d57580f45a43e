"""The *limit* references: hand-written SQL for the same rows, run straight on the driver.

``page_sql`` is the one SELECT a list page needs at the least (the rows of the page with the
names it shows, no count, no option lists); ``export_sql`` the one SELECT an export needs.
They are compiled once with literal values and executed with ``exec_driver_sql``, so no ORM,
no type processing and no template is involved.

``bulk_write`` is the reference of a bulk action (issue 22, item 11): the same writes as
``workflow.engine.apply_bulk`` and its ``hooks.moved`` receivers for the same rows, as
set-based SQL written by hand in one transaction — the compare-and-set UPDATE of the state
(and, for 公布, the counter and the 项目编号), one INSERT … SELECT of the history rows, the
DELETE of the rows' recorded warnings, one INSERT … SELECT of the version snapshots (the
JSON built by the database), one INSERT … SELECT of the messages, and for 公布 the catalog
version. The tally triggers (``models.tally``) fire on the database for both. What it
leaves out is the request around it (session, login, CSRF, form, redirect) and the engine's
checks (visibility, transitions, filing rules, numbers already taken).
"""

from __future__ import annotations

import csv
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Engine, bindparam, or_, select, text

from models import Discipline, Project, Unit, utcnow
from workflow.versions import COLUMNS as SNAPSHOT_COLUMNS
from workflow.versions import LECTURER_COLUMNS

P = Project.__table__
D = Discipline.__table__
OWNER = Unit.__table__.alias("owner")
SOCIETY = Unit.__table__.alias("society")


@dataclass(frozen=True)
class Scope:
    """Who looks: the same WHERE clause as ``permissions.project_visibility``."""

    kind: str
    unit_id: int

    def where(self):
        if self.kind == "branch":
            return [P.c.owner_unit_id == self.unit_id]
        column = P.c.society_id if self.kind == "society" else P.c.committee_id
        return [column == self.unit_id, P.c.state != "draft"]


def _filters(year: int | None, state: str | tuple | None, search: str | None) -> list:
    terms = []
    if year is not None:
        terms.append(P.c.year == year)
    if isinstance(state, tuple):  # a tab of several states (the branch's 待处理)
        terms.append(P.c.state.in_(state))
    elif state is not None:
        terms.append(P.c.state == state)
    if search:
        pattern = f"%{search}%"
        terms.append(
            or_(
                P.c.name.ilike(pattern), P.c.project_no.ilike(pattern), P.c.principal.ilike(pattern)
            )
        )
    return terms


def _joined(columns):
    return (
        select(*columns)
        .select_from(P)
        .join(D, D.c.id == P.c.discipline_id)
        .join(OWNER, OWNER.c.id == P.c.owner_unit_id)
        .outerjoin(SOCIETY, SOCIETY.c.id == P.c.society_id)
    )


def _literal(engine: Engine, stmt) -> str:
    return str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def page_sql(engine: Engine, scope: Scope, *, page: int = 0, size: int = 50, **filters) -> str:
    """The rows of one list page, newest change first, as our list shows them."""
    stmt = (
        _joined([P, D.c.name, OWNER.c.name, SOCIETY.c.name])
        .where(*scope.where(), *_filters(**_defaults(filters)))
        .order_by(P.c.updated_at.desc(), P.c.id.desc())
        .limit(size)
        .offset(page * size)
    )
    return _literal(engine, stmt)


def _defaults(filters: dict) -> dict:
    return {"year": None, "state": None, "search": None} | filters


EXPORT_COLUMNS = (
    P.c.year,
    P.c.project_no,
    P.c.name,
    P.c.level,
    D.c.name,
    P.c.organizer,
    P.c.co_organizer,
    P.c.principal,
    P.c.principal_title,
    P.c.contact,
    P.c.phone,
    P.c.start_date,
    P.c.end_date,
    P.c.venue,
    P.c.mode,
    P.c.audience,
    P.c.planned_participants,
    P.c.theory_hours,
    P.c.practice_hours,
    P.c.credits,
    P.c.state,
    P.c.state.label("modifiable"),  # 修改状态: the export writes it from the state
    OWNER.c.name,
    P.c.reported_at,
    P.c.published_at,
    P.c.remarks,
)


def export_sql(engine: Engine, scope: Scope, **filters) -> str:
    """Every row of an export, the columns the admin export writes (all 26 of them, in its
    order: 修改状态 is the state again, 上报时间 and 公布时间 the stored times)."""
    stmt = (
        _joined(EXPORT_COLUMNS)
        .where(*scope.where(), *_filters(**_defaults(filters)))
        .order_by(P.c.updated_at.desc(), P.c.id.desc())
    )
    return _literal(engine, stmt)


def details_sql(engine: Engine, project_id: int) -> list[str]:
    """A details page needs the project (with its names) and its history."""
    from models import ProjectEvent

    E = ProjectEvent.__table__
    project = _joined([P, D.c.name, OWNER.c.name, SOCIETY.c.name]).where(P.c.id == project_id)
    events = select(E).where(E.c.project_id == project_id).order_by(E.c.id)
    return [_literal(engine, project), _literal(engine, events)]


def run_sql(engine: Engine, statements: list[str]) -> tuple[float, int]:
    """Execute and fetch ``statements`` on one pooled connection; (seconds, rows)."""
    with engine.connect() as conn:
        started = time.perf_counter()
        rows = 0
        for sql in statements:
            rows += len(conn.exec_driver_sql(sql).fetchall())
        return time.perf_counter() - started, rows


class _Sink:
    """A file that only counts what is written to it."""

    def __init__(self):
        self.size = 0

    def write(self, text: str) -> int:
        self.size += len(text)
        return len(text)


def plain_csv(engine: Engine, sql: str) -> tuple[float, int]:
    """A plain ``csv.writer`` over the raw SELECT, streamed: (seconds, rows)."""
    sink = _Sink()
    writer = csv.writer(sink, lineterminator="\r\n")
    with engine.connect() as conn:
        started = time.perf_counter()
        result = conn.execution_options(stream_results=True, yield_per=1000).exec_driver_sql(sql)
        rows = 0
        for row in result:
            writer.writerow(row)
            rows += 1
        return time.perf_counter() - started, rows


# -- bulk actions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkWrite:
    """One bulk action as the reference writes it: the move, who makes it, who is told."""

    action: str  # "report" or "publish"
    source: str
    target: str
    stamp: str  # the time column the move sets: reported_at or published_at
    actor_id: int
    actor_unit_id: int
    actor_name: str
    # (column naming the unit told, the list its message points to), as notifications.planning
    receivers: tuple[tuple[str, str], ...]

    @property
    def numbered(self) -> bool:
        return self.action == "publish"


# (object, array aggregate) functions of each dialect's JSON.
_JSON = {
    "sqlite": ("json_object", "json_group_array"),
    "postgresql": ("json_build_object", "json_agg"),
}
_MESSAGE_KIND = {"report": "reported", "publish": "published"}


def _ids(ids) -> str:
    return ", ".join(str(int(i)) for i in ids)


def _run(conn, sql: str, **params):
    """``sql`` with its parameters bound by the dialect (the times as the ORM stores them)."""
    stmt = text(sql)
    if "now" in params:
        stmt = stmt.bindparams(bindparam("now", type_=DateTime))
    return conn.execute(stmt, params)


def _lecturers_json(dialect: str) -> str:
    obj, agg = _JSON[dialect]
    pairs = ", ".join(f"'{c}', l.{c}" for c in LECTURER_COLUMNS)
    if dialect == "postgresql":
        return (
            f"coalesce((SELECT {agg}({obj}({pairs}) ORDER BY l.position, l.id)"
            " FROM lecturers l WHERE l.project_id = p.id), '[]'::json)"
        )
    return f"(SELECT {agg}({obj}({pairs})) FROM lecturers l WHERE l.project_id = p.id)"


def _snapshot_sql(dialect: str, ids: str) -> str:
    """Every moved project's version: its fields, discipline and lecturers as JSON, numbered
    after its last version, built by the database in one INSERT … SELECT."""
    obj, _ = _JSON[dialect]
    pairs = ", ".join(f"'{c}', p.{c}" for c in SNAPSHOT_COLUMNS)
    data = (
        f"{obj}({pairs}, 'discipline', d.name, 'discipline_id', p.discipline_id,"
        f" 'lecturers', {_lecturers_json(dialect)})"
    )
    return (
        "INSERT INTO project_versions (project_id, number, action, from_state, to_state,"
        " actor_id, actor_unit_id, data, created_at)"
        " SELECT p.id, coalesce((SELECT max(v.number) FROM project_versions v"
        " WHERE v.project_id = p.id), 0) + 1, :action, :source, :target, :actor, :unit,"
        f" {data}, :now FROM projects p JOIN disciplines d ON d.id = p.discipline_id"
        f" WHERE p.id IN ({ids})"
    )


def _messages_sql(dialect: str, ids: str, column: str) -> str:
    """One message per unit named by ``column`` of the moved projects, listing them."""
    obj, agg = _JSON[dialect]
    return (
        "INSERT INTO messages (unit_id, user_id, kind, actor_unit_id, actor_name, count,"
        " reason, list_endpoint, list_filters, projects, created_at)"
        f" SELECT {column}, NULL, :kind, :unit, :name, count(*), NULL, :endpoint,"
        f" {obj}('state', CAST(:target AS VARCHAR(16))), {agg}({obj}('id', id, 'name', name)), :now"
        f" FROM projects WHERE id IN ({ids}) AND {column} IS NOT NULL GROUP BY {column}"
    )


def _numbers(conn, write: BulkWrite, ids: str, dialect: str) -> dict[int, str]:
    """Lock the rows still in the source state and give the unnumbered ones the next
    项目编号 of their (committee, year) counter: {id: number} of every such row."""
    from workflow.engine import format_number

    lock = " FOR UPDATE" if dialect == "postgresql" else ""
    rows = _run(
        conn,
        f"SELECT id, committee_id, year, project_no FROM projects WHERE id IN ({ids})"
        f" AND state = :source ORDER BY id{lock}",
        source=write.source,
    ).all()
    wanting: dict[tuple[int, int], list[int]] = {}
    for pid, committee, year, number in rows:
        if number is None:
            wanting.setdefault((committee, year), []).append(pid)
    numbers = {pid: number for pid, _, _, number in rows}
    if wanting:
        values = ", ".join(f"({c}, {y}, {len(wanting[(c, y)])})" for c, y in sorted(wanting))
        counters = _run(
            conn,
            "INSERT INTO project_number_counters (committee_id, year, last_value)"
            f" VALUES {values} ON CONFLICT (committee_id, year) DO UPDATE SET"
            " last_value = project_number_counters.last_value + excluded.last_value"
            " RETURNING committee_id, year, last_value",
        )
        for committee, year, last in counters:
            given = wanting[(committee, year)]
            for offset, pid in enumerate(given):
                numbers[pid] = format_number(year, last - len(given) + 1 + offset)
    return numbers


def _move(conn, write: BulkWrite, ids: str, now: datetime, dialect: str) -> list[int]:
    """The compare-and-set UPDATE of the rows still in the source state: their ids."""
    sets = (
        f"state = :target, version = projects.version + 1, updated_at = :now, {write.stamp} = :now"
    )
    params = {"target": write.target, "source": write.source, "now": now}
    if not write.numbered:
        sql = (
            f"UPDATE projects SET {sets}, return_reason = NULL"
            f" WHERE id IN ({ids}) AND state = :source RETURNING id"
        )
        return list(_run(conn, sql, **params).scalars())
    numbers = _numbers(conn, write, ids, dialect)
    if not numbers:
        return []
    values = ", ".join(f"({pid}, '{number}')" for pid, number in sorted(numbers.items()))
    sql = (
        f"WITH v(id, project_no) AS (VALUES {values})"
        f" UPDATE projects SET {sets}, project_no = v.project_no FROM v"
        " WHERE projects.id = v.id AND projects.state = :source RETURNING projects.id"
    )
    return list(_run(conn, sql, **params).scalars())


def bulk_write(engine: Engine, write: BulkWrite, ids: list[int]) -> tuple[float, int]:
    """The reference writes of ``write`` on ``ids``, in one transaction; (seconds, moved)."""
    dialect = engine.dialect.name
    started = time.perf_counter()
    with engine.begin() as conn:
        now = utcnow()
        moved = _move(conn, write, _ids(ids), now, dialect)
        if moved:
            done = _ids(moved)
            who = {
                "action": write.action,
                "source": write.source,
                "target": write.target,
                "actor": write.actor_id,
                "unit": write.actor_unit_id,
                "now": now,
            }
            _run(
                conn,
                "INSERT INTO project_events (project_id, project_name, owner_unit_id, actor_id,"
                " actor_unit_id, action, from_state, to_state, reason, created_at)"
                " SELECT id, name, owner_unit_id, :actor, :unit, :action, :source, :target,"
                f" NULL, :now FROM projects WHERE id IN ({done})",
                **who,
            )
            _run(conn, f"DELETE FROM project_warnings WHERE project_id IN ({done})")
            _run(conn, _snapshot_sql(dialect, done), **who)
            for column, endpoint in write.receivers:
                _run(
                    conn,
                    _messages_sql(dialect, done, column),
                    kind=_MESSAGE_KIND[write.action],
                    unit=write.actor_unit_id,
                    name=write.actor_name,
                    endpoint=endpoint,
                    target=write.target,
                    now=now,
                )
            if write.numbered:
                _run(
                    conn,
                    "INSERT INTO settings (name, value) VALUES ('catalog_version', :token)"
                    " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    token=uuid.uuid4().hex,
                )
    return time.perf_counter() - started, len(moved)
