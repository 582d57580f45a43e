"""``project_tallies``: the 统计 page's figures, summed ahead, kept by database triggers.

One row per (scope unit, dimension, year, value) holds how many projects (or events)
fall there and the sum of their credits. Only what the committee and society scopes see
counts: projects that are not drafts (``permissions.project_visibility``). Each such
project contributes one row per dimension under its committee and, when it has one,
under its society:

==================  ===========================================================  ========
dimension           value                                                        credits
==================  ===========================================================  ========
``state``           the state                                                    yes
``level``           the level                                                    yes
``discipline``      ``discipline_id``                                            yes
``mode``            the 举办方式                                                 yes
``unit``            committee: ``coalesce(society_id, owner_unit_id)``;           yes
                    society: ``owner_unit_id``
``month``           published projects only: Beijing month of ``published_at``  yes
``send_back_unit``  one per 置为可修改 (unlock) event, the unit as for ``unit``   0
``reason``          one per unlock event with a reason: the reason               0
``queue:<state>``   one per decided 上报: hours from the report to the next move  0
                    whose from_state is the report's to_state (rounded, half up)
==================  ===========================================================  ========

The rows are the contribution of each project, a function of its own row and its events;
every write is turned into "what the rows contribute after minus what they contributed
before", summed per key and added with ``INSERT … ON CONFLICT DO UPDATE`` in key order:

- SQLite: row-level triggers on ``projects`` (insert, delete, update of the counted
  columns, with ``WHEN`` clauses so that an update touching none of them does nothing)
  and on ``project_events`` (insert, delete, update of a move). They are registered in
  ``models.triggers`` so that a batch migration, which drops them, puts them back.
- PostgreSQL: statement-level triggers with transition tables, one per table and event
  (PostgreSQL allows neither a column list nor several events on such a trigger), all
  running ``project_tallies_apply()``, which aggregates the statement's deltas with one
  ``GROUP BY`` and upserts them in key order: a fixed lock order, so that two concurrent
  bulk actions do not deadlock on the rows they both count.

Rows whose figures come back to zero stay; readers ignore them. ``rebuild`` recomputes
the table from the projects and events (the migration's backfill, ``flask rebuild-statistics``
after hand-written SQL, and the benchmark's bulk load, which drops the triggers first).
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models import triggers
from models.base import BEIJING_OFFSET_HOURS, Base
from models.project import ProjectState

TABLE = "project_tallies"
KEY = ("scope_unit_id", "dimension", "year", "value")

STATE, LEVEL, DISCIPLINE, MODE, UNIT, MONTH = (
    "state",
    "level",
    "discipline",
    "mode",
    "unit",
    "month",
)
SEND_BACK_UNIT, REASON = "send_back_unit", "reason"
QUEUE = "queue:"
PROJECT_DIMENSIONS = (STATE, LEVEL, DISCIPLINE, MODE, UNIT, MONTH)
EVENT_DIMENSIONS = (SEND_BACK_UNIT, REASON)
# The workflow's actions as stored in project_events.action (``workflow.Action``; the
# models cannot import the workflow, tests/test_tallies.py checks they agree).
REPORT, UNLOCK = "report", "unlock"
MOVES = (REPORT, UNLOCK, "publish", "withdraw")
DRAFT, PUBLISHED = ProjectState.DRAFT.value, ProjectState.PUBLISHED.value


def queue_dimension(state: str) -> str:
    return QUEUE + state


class ProjectTally(Base):
    """Figures of one scope unit (a committee or a society), dimension, year and value."""

    __tablename__ = TABLE

    scope_unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    # The key's order serves every read: one scope's dimension for a year, or for every
    # year (the trend), is a prefix of the primary key.
    dimension: Mapped[str] = mapped_column(String(24), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[str] = mapped_column(Text, primary_key=True)
    projects: Mapped[int] = mapped_column(Integer, default=0)
    credits: Mapped[float] = mapped_column(Float, default=0.0)

    # Derived rows: a copy of the tables (tests' snapshots) leaves them out, the triggers
    # fill them again from the projects and events copied.
    __table_args__ = ({"info": {"kept_by_triggers": True}},)


# -- the SQL both dialects share -------------------------------------------------------

PROJECT_COLUMNS = (
    "id",
    "committee_id",
    "society_id",
    "owner_unit_id",
    "year",
    "state",
    "level",
    "discipline_id",
    "mode",
    "credits",
    "published_at",
)
EVENT_COLUMNS = ("id", "project_id", "action", "from_state", "to_state", "reason", "created_at")
# What a project's own rows depend on, and what its events' rows depend on.
COUNTED = ("state", "level", "discipline_id", "mode", "credits", "year", "published_at")
COUNTED += ("committee_id", "society_id", "owner_unit_id")
EVENTS_DEPEND_ON = ("year", "committee_id", "society_id", "owner_unit_id")

MONTH_SQL = {
    "sqlite": "strftime('%Y-%m', {0}, '+" + str(BEIJING_OFFSET_HOURS) + " hours')",
    "postgresql": "to_char({0} + interval '" + str(BEIJING_OFFSET_HOURS) + " hours', 'YYYY-MM')",
}
# Whole hours from {0} to {1}, half up (durations are never negative).
HOURS_SQL = {
    "sqlite": "CAST((julianday({1}) - julianday({0})) * 24 + 0.5 AS INTEGER)",
    "postgresql": "CAST(floor(EXTRACT(EPOCH FROM ({1} - {0})) / 3600 + 0.5) AS BIGINT)",
}


_IN_SCOPE = f"p.state <> '{DRAFT}' AND (k.scope = 'committee' OR p.society_id IS NOT NULL)"


def project_rows(projects: str, sign: int, dialect: str) -> str:
    """The rows the projects of ``projects`` (a table or a parenthesised SELECT with
    PROJECT_COLUMNS) contribute by themselves, times ``sign``."""
    month = MONTH_SQL[dialect].format("p.published_at")
    value = (
        f"CASE d.dimension WHEN '{STATE}' THEN p.state WHEN '{LEVEL}' THEN p.level"
        f" WHEN '{DISCIPLINE}' THEN CAST(p.discipline_id AS TEXT) WHEN '{MODE}' THEN p.mode"
        f" WHEN '{UNIT}' THEN CAST({triggers.UNIT_KEY} AS TEXT)"
        f" WHEN '{MONTH}' THEN CASE WHEN p.state = '{PUBLISHED}' THEN {month} END END"
    )
    return (
        f"SELECT {triggers.SCOPE_UNIT} AS scope_unit_id, d.dimension AS dimension, p.year AS year,"
        f" {value} AS value, {sign} AS projects, {sign} * p.credits AS credits"
        f" FROM {projects} p CROSS JOIN {triggers.SCOPES} k"
        f" CROSS JOIN {triggers.constants('dimension', PROJECT_DIMENSIONS)} d WHERE {_IN_SCOPE}"
    )


def durations(events: str, dialect: str) -> str:
    """(project_id, queue, hours) of every decided report among ``events``: as the page
    always defined it, from a 上报 to the next move of the same project, when that move
    leaves the state the report entered."""
    hours = HOURS_SQL[dialect].format("m.created_at", "m.next_at")
    order = "OVER (PARTITION BY e.project_id ORDER BY e.id)"
    return (
        f"(SELECT m.project_id AS project_id, m.to_state AS queue, {hours} AS hours FROM"
        f" (SELECT e.project_id AS project_id, e.action AS action, e.to_state AS to_state,"
        f" e.created_at AS created_at, lead(e.created_at) {order} AS next_at,"
        f" lead(e.from_state) {order} AS next_from"
        f" FROM {events} e WHERE e.action IN ({triggers.quoted(MOVES)})) m"
        f" WHERE m.action = '{REPORT}' AND m.next_at IS NOT NULL AND m.next_from = m.to_state)"
    )


def event_rows(projects: str, events: str, sign: int, dialect: str) -> str:
    """The rows the events of ``events`` contribute for the projects of ``projects``."""
    no_credits = "CAST(0 AS FLOAT)"
    value = (
        f"CASE d.dimension WHEN '{SEND_BACK_UNIT}' THEN CAST({triggers.UNIT_KEY} AS TEXT)"
        " ELSE e.reason END"
    )
    unlocks = (
        f"SELECT {triggers.SCOPE_UNIT} AS scope_unit_id, d.dimension AS dimension, p.year AS year,"
        f" {value} AS value, {sign} AS projects, {no_credits} AS credits"
        f" FROM {projects} p JOIN {events} e ON e.project_id = p.id CROSS JOIN {triggers.SCOPES} k"
        f" CROSS JOIN {triggers.constants('dimension', EVENT_DIMENSIONS)} d"
        f" WHERE {_IN_SCOPE} AND e.action = '{UNLOCK}'"
    )
    waits = (
        f"SELECT {triggers.SCOPE_UNIT}, '{QUEUE}' || w.queue, p.year, CAST(w.hours AS TEXT),"
        f" {sign}, {no_credits}"
        f" FROM {projects} p JOIN {durations(events, dialect)} w ON w.project_id = p.id"
        f" CROSS JOIN {triggers.SCOPES} k WHERE {_IN_SCOPE}"
    )
    return f"{unlocks} UNION ALL {waits}"


FIGURES = ("projects", "credits")


def _summed(parts: list[str]) -> str:
    return triggers.summed(KEY, FIGURES, parts, where=" WHERE t.value IS NOT NULL")


_COLUMNS = f"{TABLE} ({', '.join(KEY + FIGURES)})"


def add(parts: list[str]) -> str:
    """Add the summed rows of ``parts`` to the table, in key order."""
    return triggers.upsert(TABLE, KEY, FIGURES, _summed(parts))


def rebuild_statements(dialect: str) -> list[str]:
    """The SQL that recomputes every row from the projects and events."""
    parts = [
        project_rows("projects", 1, dialect),
        event_rows("projects", "project_events", 1, dialect),
    ]
    return [f"DELETE FROM {TABLE}", f"INSERT INTO {_COLUMNS} {_summed(parts)}"]


def rebuild(connection) -> None:
    """Recompute every row from the projects and events (in the caller's transaction)."""
    for sql in rebuild_statements(connection.dialect.name):
        connection.exec_driver_sql(sql)


# -- SQLite: row-level triggers ---------------------------------------------------------


def _row(prefix: str, columns) -> str:
    return "(SELECT " + ", ".join(f"{prefix}.{c} AS {c}" for c in columns) + ")"


def _projects_where(condition: str) -> str:
    return f"(SELECT {', '.join(PROJECT_COLUMNS)} FROM projects WHERE {condition})"


def _events_where(condition: str, plus: str | None = None) -> str:
    select = f"SELECT {', '.join(EVENT_COLUMNS)} FROM project_events WHERE {condition}"
    return f"({select} UNION ALL {plus})" if plus else f"({select})"


def _changed(columns, new: str = "NEW", old: str = "OLD") -> str:
    return " OR ".join(f"{new}.{c} IS NOT {old}.{c}" for c in columns)


def _sqlite_triggers() -> dict[str, str]:
    d = "sqlite"
    new, old = _row("NEW", PROJECT_COLUMNS), _row("OLD", PROJECT_COLUMNS)
    old_event = "SELECT " + ", ".join(f"OLD.{c}" for c in EVENT_COLUMNS)
    moves = triggers.quoted(MOVES)
    draft_changed = f"(NEW.state = '{DRAFT}') IS NOT (OLD.state = '{DRAFT}')"
    # The project(s) an event statement touches, their events now and before it.
    touched = "id IN (OLD.project_id, NEW.project_id)"
    by_event = "project_id IN (OLD.project_id, NEW.project_id)"

    def body(statement: str) -> str:
        return f"BEGIN {statement}; END"

    return {
        f"{TABLE}_insert": f"AFTER INSERT ON projects WHEN NEW.state <> '{DRAFT}' "
        + body(
            add(
                [
                    project_rows(new, 1, d),
                    event_rows(new, _events_where("project_id = NEW.id"), 1, d),
                ]
            )
        ),
        f"{TABLE}_delete": f"AFTER DELETE ON projects WHEN OLD.state <> '{DRAFT}' "
        + body(
            add(
                [
                    project_rows(old, -1, d),
                    event_rows(old, _events_where("project_id = OLD.id"), -1, d),
                ]
            )
        ),
        f"{TABLE}_update": f"AFTER UPDATE OF {', '.join(COUNTED)} ON projects"
        f" WHEN {_changed(COUNTED)} "
        + body(add([project_rows(new, 1, d), project_rows(old, -1, d)])),
        f"{TABLE}_update_events": f"AFTER UPDATE OF state, {', '.join(EVENTS_DEPEND_ON)}"
        f" ON projects WHEN {_changed(EVENTS_DEPEND_ON)} OR {draft_changed} "
        + body(
            add(
                [
                    event_rows(new, _events_where("project_id = NEW.id"), 1, d),
                    event_rows(old, _events_where("project_id = OLD.id"), -1, d),
                ]
            )
        ),
        f"{TABLE}_event_insert": f"AFTER INSERT ON project_events WHEN NEW.action IN ({moves}) "
        + body(
            add(
                [
                    event_rows(
                        _projects_where("id = NEW.project_id"),
                        _events_where("project_id = NEW.project_id"),
                        1,
                        d,
                    ),
                    event_rows(
                        _projects_where("id = NEW.project_id"),
                        _events_where("project_id = NEW.project_id AND id <> NEW.id"),
                        -1,
                        d,
                    ),
                ]
            )
        ),
        f"{TABLE}_event_delete": f"AFTER DELETE ON project_events WHEN OLD.action IN ({moves}) "
        + body(
            add(
                [
                    event_rows(
                        _projects_where("id = OLD.project_id"),
                        _events_where("project_id = OLD.project_id"),
                        1,
                        d,
                    ),
                    event_rows(
                        _projects_where("id = OLD.project_id"),
                        _events_where("project_id = OLD.project_id", old_event),
                        -1,
                        d,
                    ),
                ]
            )
        ),
        f"{TABLE}_event_update": "AFTER UPDATE ON project_events"
        f" WHEN OLD.action IN ({moves}) OR NEW.action IN ({moves}) "
        + body(
            add(
                [
                    event_rows(_projects_where(touched), _events_where(by_event), 1, d),
                    event_rows(
                        _projects_where(touched),
                        _events_where(f"{by_event} AND id <> NEW.id", old_event),
                        -1,
                        d,
                    ),
                ]
            )
        ),
    }


SQLITE_TRIGGERS = _sqlite_triggers()


@triggers.register_sqlite_repair
def repair_sqlite(connection) -> None:
    """After any migration: if the table exists, its triggers do too; when one was
    missing (a batch migration rebuilt ``projects`` or ``project_events``), the table
    is recomputed."""
    if triggers.sqlite_table_exists(connection, TABLE) and triggers.ensure(
        connection, SQLITE_TRIGGERS
    ):
        rebuild(connection)


# -- PostgreSQL: statement-level triggers with transition tables ---------------------------


def _pg_changed(columns) -> str:
    row = ", ".join(f"{{0}}.{c}" for c in columns)
    return f"({row.format('n')}) IS DISTINCT FROM ({row.format('o')})"


def _pg_function() -> str:
    d = "postgresql"
    moves = triggers.quoted(MOVES)
    cols = ", ".join(PROJECT_COLUMNS)
    counted = _pg_changed(COUNTED)
    events_changed = (
        f"{_pg_changed(EVENTS_DEPEND_ON)} OR (n.state = '{DRAFT}') <> (o.state = '{DRAFT}')"
    )

    def pairs(side: str, condition: str) -> str:
        return (
            f"(SELECT {', '.join(f'{side}.{c}' for c in PROJECT_COLUMNS)}"
            f" FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE {condition})"
        )

    def events_of(projects: str) -> str:
        return _events_where(f"project_id IN (SELECT id FROM {projects} x)")

    inserted = f"(SELECT {cols} FROM new_rows WHERE state <> '{DRAFT}')"
    deleted = f"(SELECT {cols} FROM old_rows WHERE state <> '{DRAFT}')"
    projects_insert = add(
        [project_rows(inserted, 1, d), event_rows(inserted, events_of(inserted), 1, d)]
    )
    projects_delete = add(
        [project_rows(deleted, -1, d), event_rows(deleted, events_of(deleted), -1, d)]
    )
    new_counted, old_counted = pairs("n", counted), pairs("o", counted)
    new_moved, old_moved = pairs("n", events_changed), pairs("o", events_changed)
    projects_update = add(
        [
            project_rows(new_counted, 1, d),
            project_rows(old_counted, -1, d),
            event_rows(new_moved, events_of(new_moved), 1, d),
            event_rows(old_moved, events_of(old_moved), -1, d),
        ]
    )

    # Events: the projects whose moves the statement touched, their events after it
    # and before it (after, without the rows it wrote, with the rows it removed).
    event_cols = ", ".join(EVENT_COLUMNS)

    def event_statement(ids: str, written: str | None, removed: str | None) -> str:
        projects = f"(SELECT {cols} FROM projects WHERE id IN {ids})"
        after = f"project_id IN {ids}"
        before = after + (f" AND id NOT IN (SELECT id FROM {written})" if written else "")
        plus = f"SELECT {event_cols} FROM {removed} WHERE project_id IN {ids}" if removed else None
        return add(
            [
                event_rows(projects, _events_where(after), 1, d),
                event_rows(projects, _events_where(before, plus), -1, d),
            ]
        )

    new_ids = f"(SELECT project_id FROM new_rows WHERE action IN ({moves}))"
    old_ids = f"(SELECT project_id FROM old_rows WHERE action IN ({moves}))"
    both_ids = f"({new_ids[1:-1]} UNION {old_ids[1:-1]})"
    return f"""
CREATE OR REPLACE FUNCTION {TABLE}_apply() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_TABLE_NAME = 'projects' THEN
        IF TG_OP = 'INSERT' THEN
            {projects_insert};
        ELSIF TG_OP = 'DELETE' THEN
            {projects_delete};
        ELSE
            {projects_update};
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        IF EXISTS {new_ids} THEN
            {event_statement(new_ids, "new_rows", None)};
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF EXISTS {old_ids} THEN
            {event_statement(old_ids, None, "old_rows")};
        END IF;
    ELSIF EXISTS {both_ids} THEN
        {event_statement(both_ids, "new_rows", "old_rows")};
    END IF;
    RETURN NULL;
END
$body$"""


PG_TRIGGERS = triggers.pg_statement_triggers(TABLE, ("projects", "project_events"))


# -- install, drop ----------------------------------------------------------------------------


def ddl() -> list[triggers.Statement]:
    """The triggers, the function and the backfill as statements, in order: what the
    migrations froze (they read their frozen copy, never this function; see
    ``models.triggers``)."""
    return triggers.summary_ddl(
        TABLE, SQLITE_TRIGGERS, PG_TRIGGERS, _pg_function(), rebuild_statements
    )


install, drop = triggers.install_and_drop(ddl)
