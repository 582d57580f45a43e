"""The *limit* references: hand-written SQL for the same rows, run straight on the driver.

``page_sql`` is the one SELECT a list page needs at the least (the rows of the page with the
names it shows, no count, no option lists); ``export_sql`` the one SELECT an export needs.
They are compiled once with literal values and executed with ``exec_driver_sql``, so no ORM,
no type processing and no template is involved.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass

from sqlalchemy import Engine, or_, select

from models import Discipline, Project, Unit

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
