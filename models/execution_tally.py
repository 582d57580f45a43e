"""``execution_tallies``: 统计 · 执行情况's figures, summed ahead, kept by database triggers.

统计 · 执行情况 (``reports.execution_stats``) counts, per unit and year, the published projects
whose execution report is due (its due date before today, Beijing), how many of them the
owner unit reported on time, how many are accepted, and the learners and credits of the
accepted ones. A project's part in those figures is a function of its own row, its report,
its report's first 上报 event and its committee's due days for the year
(``execution_deadlines``, for a report never opened). This table holds those parts summed
per key:

- ``scope_unit_id``: the committee, and the society when the project has one (the same
  two scopes as ``project_tallies``: ``permissions.tally_visibility``);
- ``year``: the project's year; ``unit_id``: the unit the page shows the project under
  (committee: its society, or the issuer itself; society: the branch), and again under
  ``TOTAL_UNIT`` (0, no unit's id): the scope's 合计, read from its own rows (since 0029);
- ``grain`` and ``bucket``: the due date at three grains, each project counted once in
  each: ``year`` (``'2025'``), ``month`` (``'2025-03'``) and ``day`` (``'2025-03-14'``).
  "Due before today" is then the year rows of the years before this one, the month rows
  of this year's months before this one and the day rows of this month's days before
  today: at most 12 + 31 rows per unit and year besides one per past year, however many
  projects there are;
- ``reports`` (due projects, a report or not), ``on_time``, ``accepted``, ``learners`` and
  ``credits`` (of the accepted reports, as each report keeps them on its row).

Only published projects count. As in ``models.tally``, each write is turned into what the
touched projects contribute after it minus what they contributed before it, summed per key
and added with ``INSERT … ON CONFLICT DO UPDATE`` in key order. The touched projects and
"before" are derived alike for every table: the rows the statement wrote (``written``) and
removed (``removed``); a table before the statement is its rows now, without the written
ones, with the removed ones.

- SQLite: row-level triggers on ``projects``, ``execution_reports``, ``execution_events``
  (a 上报 only) and ``execution_deadlines``, with ``WHEN`` clauses so that a write touching
  no counted column does nothing; registered in ``models.triggers`` for the batch-migration
  repair.
- PostgreSQL: statement-level triggers with transition tables running
  ``execution_tallies_apply()``; an UPDATE counts only the rows whose counted columns
  changed.

The same triggers keep ``execution_owner_tallies`` (``ExecutionOwnerTally``, since migration
0027): the entry unit's 执行情况 list counted per owner unit, year, report state (or none)
and due bucket, so that its 状态 tabs (已逾期 too) are read from a few rows, not by walking
the unit's projects.

Rows whose figures come back to zero stay; readers ignore them. ``rebuild`` recomputes the
table (the migration's backfill, ``flask rebuild-statistics``, the benchmark's bulk load).
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models import triggers
from models.base import BEIJING_OFFSET_HOURS, Base
from models.execution import DEFAULT_DUE_DAYS

TABLE = "execution_tallies"
KEY = ("scope_unit_id", "grain", "bucket", "year", "unit_id")
FIGURES = ("reports", "on_time", "accepted", "learners", "credits")
YEAR, MONTH, DAY = "year", "month", "day"
GRAINS = (YEAR, MONTH, DAY)
# Each project counts twice per scope, year and bucket: under its unit, and under the
# scope's total (``unit_id`` 0, no unit's id), so that a page of the table reads its own
# units' rows and the 合计 a few rows of its own, never every unit's.
UNIT, TOTAL = "unit", "total"
TOTAL_UNIT = 0
# Stored values of the states this module reads (``ProjectState`` / ``ExecutionState``;
# the workflow's action ``report``): tests/test_execution_tallies.py checks they agree.
PUBLISHED, ACCEPTED, REPORT = "published", "accepted", "report"
HELD = ("draft", "returned")


class ExecutionTally(Base):
    """Figures of one scope unit, year, shown unit and due-date bucket."""

    __tablename__ = TABLE

    # Per grain, one range of buckets (the past years, this year's past months, this
    # month's past days) holds the due dates before today, whatever is stored for the
    # other dates: one range per unit (or the total) of ``ix_execution_tallies_year_unit``
    # (one year) or ``ix_execution_tallies_unit_figures`` (every year).
    scope_unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    grain: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    reports: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    learners: Mapped[int] = mapped_column(Integer, default=0)
    credits: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (
        # A page of one year: each of its units' (and the total's) three ranges.
        Index(
            "ix_execution_tallies_year_unit", "scope_unit_id", "year", "unit_id", "grain", "bucket"
        ),
        # A page of every year: the same ranges, the years within them, and the figures
        # (a covering index: a unit's 20-odd rows of every year read from it alone).
        Index(
            "ix_execution_tallies_unit_figures",
            "scope_unit_id",
            "unit_id",
            "grain",
            "bucket",
            "year",
            *FIGURES,
        ),
        {"info": {"kept_by_triggers": True}},
    )


OWNER_TABLE = "execution_owner_tallies"
OWNER_KEY = ("owner_unit_id", "grain", "bucket", "year", "value")
# The ``value`` of a published project with no report opened yet (the report's state else):
# ``admin_views.executions.NO_REPORT``.
NO_REPORT = "none"


class ExecutionOwnerTally(Base):
    """执行情况 (the entry unit's list): its published projects counted per owner unit,
    year, report state (``value``: the report's, or ``none``) and due-date bucket (the
    same three grains as ``execution_tallies``). The 状态 tabs' counts are the year
    grain's rows summed; 已逾期's, the held values' (none, draft, returned) rows due
    before today: the past years', this year's past months', this month's past days'."""

    __tablename__ = OWNER_TABLE

    owner_unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    grain: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[str] = mapped_column(String(16), primary_key=True)
    projects: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = ({"info": {"kept_by_triggers": True}},)


# -- the SQL both dialects share -------------------------------------------------------------

PROJECT_COLUMNS = ("id", "committee_id", "society_id", "owner_unit_id", "year", "state", "end_date")
REPORT_COLUMNS = ("id", "project_id", "state", "due_date", "attended_learners", "credits_awarded")
EVENT_COLUMNS = ("id", "report_id", "action", "from_state", "created_at")
DEADLINE_COLUMNS = ("committee_id", "year", "days")
# What a row's part depends on (an UPDATE touching none of these changes nothing).
PROJECT_COUNTED = ("state", "year", "committee_id", "society_id", "owner_unit_id", "end_date")
REPORT_COUNTED = ("project_id", "state", "due_date", "attended_learners", "credits_awarded")
EVENT_COUNTED = ("report_id", "action", "from_state", "created_at")

# A date as 'YYYY-MM-DD' text; a date ``{1}`` days after ``{0}``; the Beijing day of a
# naive-UTC timestamp (``reports.sql.DAY_SQL``, ``models.execution.plus_days``).
DATE_TEXT = {"sqlite": "{0}", "postgresql": "to_char({0}, 'YYYY-MM-DD')"}
PLUS_DAYS = {
    "sqlite": "date({0}, '+' || CAST({1} AS INTEGER) || ' days')",
    "postgresql": "({0} + CAST({1} AS INTEGER))",
}
BEIJING_DAY = {
    "sqlite": "date({0}, '+" + str(BEIJING_OFFSET_HOURS) + " hours')",
    "postgresql": "CAST({0} + interval '" + str(BEIJING_OFFSET_HOURS) + " hours' AS DATE)",
}


_IN_SCOPE = f"p.state = '{PUBLISHED}' AND (k.scope = 'committee' OR p.society_id IS NOT NULL)"


def _due(dialect: str) -> str:
    """A published project's report due date: the report's own, or the project's end
    date + the committee's days for the year (``DEFAULT_DUE_DAYS`` without a setting)."""
    days = f"COALESCE(d.days, {DEFAULT_DUE_DAYS})"
    return f"COALESCE(r.due_date, {PLUS_DAYS[dialect].format('p.end_date', days)})"


# A due date's bucket at each grain (year, month, day).
_BUCKET = (
    f"CASE g.grain WHEN '{YEAR}' THEN substr(c.due_on, 1, 4)"
    f" WHEN '{MONTH}' THEN substr(c.due_on, 1, 7) ELSE c.due_on END"
)


def rows(projects: str, reports: str, events: str, deadlines: str, sign: int, dialect: str):
    """The rows the published projects of ``projects`` contribute, times ``sign``, their
    reports, events and due days read from the other three sources (tables or
    parenthesised SELECTs of the module's columns)."""
    due = _due(dialect)
    first = (
        f"(SELECT MIN(e.created_at) FROM {events} e WHERE e.report_id = r.id"
        f" AND e.action = '{REPORT}' AND e.from_state IN ({triggers.quoted(HELD)}))"
    )
    accepted = f"r.state = '{ACCEPTED}'"
    part = (
        f"SELECT {triggers.SCOPE_UNIT} AS scope_unit_id, p.year AS year,"
        f" {triggers.UNIT_KEY} AS unit_id,"
        f" {DATE_TEXT[dialect].format(due)} AS due_on,"
        f" CASE WHEN {BEIJING_DAY[dialect].format(first)} <= {due} THEN 1 ELSE 0 END AS on_time,"
        f" CASE WHEN {accepted} THEN 1 ELSE 0 END AS accepted,"
        f" CASE WHEN {accepted} THEN r.attended_learners ELSE 0 END AS learners,"
        f" CASE WHEN {accepted} THEN r.credits_awarded ELSE 0 END AS credits"
        f" FROM {projects} p CROSS JOIN {triggers.SCOPES} k"
        f" LEFT JOIN {reports} r ON r.project_id = p.id"
        f" LEFT JOIN {deadlines} d ON d.committee_id = p.committee_id AND d.year = p.year"
        f" WHERE {_IN_SCOPE}"
    )
    return (
        f"SELECT c.scope_unit_id AS scope_unit_id, c.year AS year,"
        f" CASE s.shown WHEN '{UNIT}' THEN c.unit_id ELSE {TOTAL_UNIT} END AS unit_id,"
        f" g.grain AS grain, {_BUCKET} AS bucket, {sign} AS reports,"
        f" {sign} * c.on_time AS on_time, {sign} * c.accepted AS accepted,"
        f" {sign} * c.learners AS learners, {sign} * c.credits AS credits"
        f" FROM ({part}) c CROSS JOIN {triggers.constants('grain', GRAINS)} g"
        f" CROSS JOIN {triggers.constants('shown', (UNIT, TOTAL))} s"
    )


def _summed(parts: list[str]) -> str:
    return triggers.summed(KEY, FIGURES, parts)


_COLUMNS = f"{TABLE} ({', '.join(KEY + FIGURES)})"


def add(parts: list[str]) -> str:
    """Add the summed rows of ``parts`` to the table, in key order."""
    return triggers.upsert(TABLE, KEY, FIGURES, _summed(parts))


def owner_rows(projects: str, reports: str, deadlines: str, sign: int, dialect: str) -> str:
    """The rows of ``execution_owner_tallies`` the published projects of ``projects``
    contribute, times ``sign``: per owner, year, report state (or none) and due bucket."""
    due = _due(dialect)
    part = (
        f"SELECT p.owner_unit_id AS owner_unit_id, p.year AS year,"
        f" COALESCE(r.state, '{NO_REPORT}') AS value, {DATE_TEXT[dialect].format(due)} AS due_on"
        f" FROM {projects} p LEFT JOIN {reports} r ON r.project_id = p.id"
        f" LEFT JOIN {deadlines} d ON d.committee_id = p.committee_id AND d.year = p.year"
        f" WHERE p.state = '{PUBLISHED}'"
    )
    return (
        f"SELECT c.owner_unit_id AS owner_unit_id, g.grain AS grain, {_BUCKET} AS bucket,"
        f" c.year AS year, c.value AS value, {sign} AS projects"
        f" FROM ({part}) c CROSS JOIN {triggers.constants('grain', GRAINS)} g"
    )


OWNER_FIGURES = ("projects",)


def _owner_summed(parts: list[str]) -> str:
    return triggers.summed(OWNER_KEY, OWNER_FIGURES, parts)


_OWNER_COLUMNS = f"{OWNER_TABLE} ({', '.join(OWNER_KEY + OWNER_FIGURES)})"


def owner_add(parts: list[str]) -> str:
    """Add the summed rows of ``parts`` to ``execution_owner_tallies``, in key order."""
    return triggers.upsert(OWNER_TABLE, OWNER_KEY, OWNER_FIGURES, _owner_summed(parts))


def rebuild_statements(dialect: str) -> list[str]:
    """The SQL that recomputes every row from the projects, reports, events and due days."""
    everything = rows(
        "projects", "execution_reports", "execution_events", "execution_deadlines", 1, dialect
    )
    owned = owner_rows("projects", "execution_reports", "execution_deadlines", 1, dialect)
    return [
        f"DELETE FROM {TABLE}",
        f"INSERT INTO {_COLUMNS} {_summed([everything])}",
        f"DELETE FROM {OWNER_TABLE}",
        f"INSERT INTO {_OWNER_COLUMNS} {_owner_summed([owned])}",
    ]


def rebuild(connection) -> None:
    """Recompute every row (in the caller's transaction)."""
    for sql in rebuild_statements(connection.dialect.name):
        connection.exec_driver_sql(sql)


# -- a write's delta, for both dialects --------------------------------------------------------

# table: (its columns, its key, how to find the touched projects' ids from its rows ``{0}``)
_SOURCES = {
    "projects": (PROJECT_COLUMNS, "id", "SELECT id FROM {0} x"),
    "execution_reports": (REPORT_COLUMNS, "id", "SELECT project_id FROM {0} x"),
    "execution_events": (
        EVENT_COLUMNS,
        "id",
        "SELECT project_id FROM execution_reports WHERE id IN"
        f" (SELECT report_id FROM {{0}} x WHERE action = '{REPORT}')",
    ),
    "execution_deadlines": (
        DEADLINE_COLUMNS,
        None,
        f"SELECT p.id FROM projects p WHERE p.state = '{PUBLISHED}' AND EXISTS"
        " (SELECT 1 FROM {0} x WHERE x.committee_id = p.committee_id AND x.year = p.year)"
        " AND NOT EXISTS (SELECT 1 FROM execution_reports r WHERE r.project_id = p.id)",
    ),
}


def _not_written(table: str, written: str) -> str:
    _columns, key, _ids = _SOURCES[table]
    if key:
        return f"{key} NOT IN (SELECT {key} FROM {written} w)"
    return (
        f"NOT EXISTS (SELECT 1 FROM {written} w WHERE w.committee_id = {table}.committee_id"
        f" AND w.year = {table}.year)"
    )


# The tables ``execution_owner_tallies`` reads (a 上报 event changes none of its rows).
OWNER_SOURCES = ("projects", "execution_reports", "execution_deadlines")


def delta(table: str, written: str | None, removed: str | None, dialect: str) -> str:
    """The statements (joined by ``; ``) adding what a write to ``table`` changed, to
    ``execution_tallies`` and (but for an event) ``execution_owner_tallies``: ``written``
    and ``removed`` are parenthesised SELECTs of the rows it wrote (inserted, or updated
    as they are now) and removed (deleted, or updated as they were), each with the
    table's columns."""
    columns, _key, ids_of = _SOURCES[table]
    cols = ", ".join(columns)
    ids = " UNION ".join(ids_of.format(s) for s in (written, removed) if s)
    ids = f"({ids})"
    now = {
        "projects": f"(SELECT {', '.join(PROJECT_COLUMNS)} FROM projects WHERE id IN {ids})",
        "execution_reports": f"(SELECT {', '.join(REPORT_COLUMNS)} FROM execution_reports"
        f" WHERE project_id IN {ids})",
        "execution_events": "execution_events",
        "execution_deadlines": "execution_deadlines",
    }
    before = dict(now)
    restrict = {
        "projects": f"id IN {ids}",
        "execution_reports": f"project_id IN {ids}",
        "execution_events": "report_id IN"
        f" (SELECT id FROM execution_reports WHERE project_id IN {ids})",
    }
    kept = [restrict[table]] if table in restrict else []
    if written:
        kept.append(_not_written(table, written))
    where = f" WHERE {' AND '.join(kept)}" if kept else ""
    old = f"SELECT {cols} FROM {table}{where}"
    if removed:
        old += f" UNION ALL SELECT {cols} FROM {removed} x"
    before[table] = f"({old})"
    order = ("projects", "execution_reports", "execution_events", "execution_deadlines")
    statements = [
        add(
            [
                rows(*(now[t] for t in order), 1, dialect),
                rows(*(before[t] for t in order), -1, dialect),
            ]
        )
    ]
    if table in OWNER_SOURCES:
        statements.append(
            owner_add(
                [
                    owner_rows(*(now[t] for t in OWNER_SOURCES), 1, dialect),
                    owner_rows(*(before[t] for t in OWNER_SOURCES), -1, dialect),
                ]
            )
        )
    return "; ".join(statements)


# -- SQLite: row-level triggers ------------------------------------------------------------------


def _row(prefix: str, columns) -> str:
    return "(SELECT " + ", ".join(f"{prefix}.{c} AS {c}" for c in columns) + ")"


def _changed(columns) -> str:
    return " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)


def _sqlite_triggers() -> dict[str, str]:
    d = "sqlite"
    published = f"(NEW.state = '{PUBLISHED}' OR OLD.state = '{PUBLISHED}')"
    report_event = f"'{REPORT}'"
    when = {
        "projects": {
            "insert": f"NEW.state = '{PUBLISHED}'",
            "delete": f"OLD.state = '{PUBLISHED}'",
            "update": f"{published} AND ({_changed(PROJECT_COUNTED)})",
        },
        "execution_reports": {
            "insert": None,
            "delete": None,
            "update": _changed(REPORT_COUNTED),
        },
        "execution_events": {
            "insert": f"NEW.action = {report_event}",
            "delete": f"OLD.action = {report_event}",
            "update": f"(NEW.action = {report_event} OR OLD.action = {report_event})"
            f" AND ({_changed(EVENT_COUNTED)})",
        },
        "execution_deadlines": {
            "insert": None,
            "delete": None,
            "update": "NEW.days IS NOT OLD.days",
        },
    }
    of = {
        "projects": "projects",
        "execution_reports": "execution_reports",
        "execution_events": "execution_events",
        "execution_deadlines": "execution_deadlines",
    }
    found = {}
    for table, ops in when.items():
        columns = _SOURCES[table][0]
        for op, condition in ops.items():
            written = _row("NEW", columns) if op != "delete" else None
            removed = _row("OLD", columns) if op != "insert" else None
            columns_of = ""
            if op == "update" and table == "projects":
                columns_of = f" OF {', '.join(PROJECT_COUNTED)}"
            head = f"AFTER {op.upper()}{columns_of} ON {of[table]}"
            if condition:
                head += f" WHEN {condition}"
            found[f"{TABLE}_{_short(table)}_{op}"] = (
                f"{head} BEGIN {delta(table, written, removed, d)}; END"
            )
    return found


def _short(table: str) -> str:
    return table.removeprefix("execution_")


SQLITE_TRIGGERS = _sqlite_triggers()


@triggers.register_sqlite_repair
def repair_sqlite(connection) -> None:
    """After any migration: if the table exists, its triggers do too; when one was
    missing or changed, the table is recomputed."""
    # Before migration 0027 (no owner table) the installed triggers are 0026's own.
    installed = all(triggers.sqlite_table_exists(connection, t) for t in (TABLE, OWNER_TABLE))
    if installed and triggers.ensure(connection, SQLITE_TRIGGERS):
        rebuild(connection)


# -- PostgreSQL: statement-level triggers with transition tables ----------------------------------


def _pg_changed(columns) -> str:
    row = ", ".join(f"{{0}}.{c}" for c in columns)
    return f"({row.format('n')}) IS DISTINCT FROM ({row.format('o')})"


_PG_UPDATED = {
    "projects": (
        "n.id = o.id",
        f"({_pg_changed(PROJECT_COUNTED)})"
        f" AND (n.state = '{PUBLISHED}' OR o.state = '{PUBLISHED}')",
    ),
    "execution_reports": ("n.id = o.id", _pg_changed(REPORT_COUNTED)),
    "execution_events": (
        "n.id = o.id",
        f"({_pg_changed(EVENT_COUNTED)}) AND (n.action = '{REPORT}' OR o.action = '{REPORT}')",
    ),
    "execution_deadlines": (
        "n.committee_id = o.committee_id AND n.year = o.year",
        "n.days IS DISTINCT FROM o.days",
    ),
}


def _pg_function() -> str:
    d = "postgresql"
    branches = []
    for table, (join, changed) in _PG_UPDATED.items():
        columns = _SOURCES[table][0]

        def pairs(side: str, columns=columns, join=join, changed=changed) -> str:
            return (
                f"(SELECT {', '.join(f'{side}.{c}' for c in columns)}"
                f" FROM new_rows n JOIN old_rows o ON {join} WHERE {changed})"
            )

        cols = ", ".join(columns)
        inserted, deleted = f"(SELECT {cols} FROM new_rows)", f"(SELECT {cols} FROM old_rows)"
        branches.append(
            f"""    IF TG_TABLE_NAME = '{table}' THEN
        IF TG_OP = 'INSERT' THEN
            {delta(table, inserted, None, d)};
        ELSIF TG_OP = 'DELETE' THEN
            {delta(table, None, deleted, d)};
        ELSIF EXISTS {pairs("n")} THEN
            {delta(table, pairs("n"), pairs("o"), d)};
        END IF;
    END IF;"""
        )
    body = "\n".join(branches)
    return f"""
CREATE OR REPLACE FUNCTION {TABLE}_apply() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
{body}
    RETURN NULL;
END
$body$"""


PG_TRIGGERS = triggers.pg_statement_triggers(TABLE, _SOURCES, _short)


# -- install, drop --------------------------------------------------------------------------------


def ddl() -> list[triggers.Statement]:
    """The triggers, the function and the backfill as statements, in order: what migration
    0029 froze (``migrations/frozen/0029_execution_tallies.sql``; 0027's, without the total
    rows, in ``0027_execution_tallies.sql``; 0026's, without ``execution_owner_tallies``,
    in ``0026_execution_tallies.sql``)."""
    return triggers.summary_ddl(
        TABLE, SQLITE_TRIGGERS, PG_TRIGGERS, _pg_function(), rebuild_statements
    )


install, drop = triggers.install_and_drop(ddl)
