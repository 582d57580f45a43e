"""Database objects kept outside the models (triggers, functions, trigram indexes), their
frozen copies in the migrations, and the SQLite repair after a batch migration.

A module whose triggers keep a table of its own in step (the search index, the statistics
tallies) describes its objects as :class:`Statement` lists (``ddl()``). Those lists are the
*generator*: a migration never imports them. ``python -m tools.freeze_sql`` writes them into
``migrations/frozen/<revision>.sql``, and the migration of that revision reads its own
frozen file, so that an old migration installs on a new database exactly what it installed
when it was written (Alembic's "replaceable objects" recipe). ``tests/test_frozen_sql.py``
fails when a generator's output differs from its newest frozen copy: a change to the SQL
needs a new migration (docs/howto.md).

Alembic's batch mode rebuilds a SQLite table by copy and rename, which drops the table's
triggers. A module registers a repair function here; ``migrations/env.py`` runs every
registered repair at the end of each upgrade. A repair checks that its table is installed,
(re)creates the triggers that are missing *or differ* from the generator's (``ensure``)
and, when any did, refills what they maintain.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

SqliteRepair = Callable[[object], None]
_REPAIRS: list[SqliteRepair] = []

UPGRADE, DOWNGRADE = "upgrade", "downgrade"


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a generator: for ``dialect`` (``sqlite`` / ``postgresql``),
    run on ``step`` (upgrade or downgrade), named for the reader and the frozen file."""

    dialect: str
    step: str
    name: str
    sql: str


def register_sqlite_repair(repair: SqliteRepair) -> SqliteRepair:
    """Decorator: run ``repair(connection)`` after every SQLite migration."""
    if repair not in _REPAIRS:
        _REPAIRS.append(repair)
    return repair


def repair_sqlite(connection) -> None:
    """Every registered repair, in registration order."""
    for repair in _REPAIRS:
        repair(connection)


def sqlite_table_exists(connection, name: str) -> bool:
    return (
        connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).first()
        is not None
    )


def _folded(sql: str | None) -> str:
    return re.sub(r"\s+", " ", sql or "").strip()


def ensure(connection, triggers: dict[str, str]) -> list[str]:
    """Make each trigger of ``{name: definition after the name}`` exist with exactly that
    definition: a missing one is created, one whose stored text differs (white space
    aside) is dropped and created again. Returns the names (re)created."""
    rows = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
    ).all()
    present = dict(rows)
    changed = []
    for name, definition in triggers.items():
        wanted = f"CREATE TRIGGER {name} {definition}"
        if name in present and _folded(present[name]) == _folded(wanted):
            continue
        if name in present:
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
        connection.exec_driver_sql(wanted)
        changed.append(name)
    return changed


def summary_ddl(
    table: str,
    sqlite_triggers: dict[str, str],
    pg_triggers: dict[str, tuple[str, str]],
    pg_function: str,
    rebuild: Callable[[str], list[str]],
) -> list[Statement]:
    """A summary table's triggers, its PostgreSQL function and its backfill as statements,
    in order (``project_tallies``, ``execution_tallies``): SQLite's row triggers by name
    and body, PostgreSQL's statement triggers by name and (definition, table), the
    function ``<table>_apply()`` they run, and ``rebuild(dialect)``'s recount."""
    sqlite = [(name, f"CREATE TRIGGER {name} {body}") for name, body in sqlite_triggers.items()]
    sqlite_down = [(name, f"DROP TRIGGER IF EXISTS {name}") for name in sqlite_triggers]
    pg = [(f"{table}_apply", pg_function.strip())]
    pg_down = []
    for name, (definition, on) in pg_triggers.items():
        pg += [
            (f"drop {name}", f"DROP TRIGGER IF EXISTS {name} ON {on}"),
            (name, f"CREATE TRIGGER {name} {definition}"),
        ]
        pg_down.append((name, f"DROP TRIGGER IF EXISTS {name} ON {on}"))
    pg_down.append((f"{table}_apply", f"DROP FUNCTION IF EXISTS {table}_apply()"))
    recount = {
        dialect: [(f"rebuild {n}", sql) for n, sql in enumerate(rebuild(dialect), 1)]
        for dialect in ("sqlite", "postgresql")
    }
    return [
        Statement(dialect, step, name, sql)
        for dialect, step, statements in (
            ("sqlite", UPGRADE, sqlite + recount["sqlite"]),
            ("sqlite", DOWNGRADE, sqlite_down),
            ("postgresql", UPGRADE, pg + recount["postgresql"]),
            ("postgresql", DOWNGRADE, pg_down),
        )
        for name, sql in statements
    ]


_PG_REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}


def pg_statement_triggers(
    table: str, sources, short: Callable[[str], str] = str
) -> dict[str, tuple[str, str]]:
    """A summary table's PostgreSQL statement triggers for ``summary_ddl``: one per source
    table (named by ``short(source)``) and operation, each running ``<table>_apply()`` with
    the transition tables of its operation."""
    return {
        f"{table}_{short(source)}_{op.lower()}": (
            f"AFTER {op} ON {source} {referencing}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {table}_apply()",
            source,
        )
        for source in sources
        for op, referencing in _PG_REFERENCING.items()
    }


def quoted(values) -> str:
    """``values`` as a list of SQL string literals (for ``IN (...)``)."""
    return ", ".join(f"'{v}'" for v in values)


def constants(column: str, values) -> str:
    """A parenthesised SELECT of ``values`` as rows of one ``column``."""
    return "(" + " UNION ALL ".join(f"SELECT '{v}' AS {column}" for v in values) + ")"


# The two scopes a project counts in (``project_tallies``, ``execution_tallies``), joined
# as ``k`` to the project ``p``: its committee's, and (under a society) its society's;
# the scope's unit, and the unit the row is shown under (the society, or the owner).
SCOPES = constants("scope", ("committee", "society"))
SCOPE_UNIT = "CASE k.scope WHEN 'committee' THEN p.committee_id ELSE p.society_id END"
UNIT_KEY = (
    "CASE k.scope WHEN 'committee' THEN COALESCE(p.society_id, p.owner_unit_id)"
    " ELSE p.owner_unit_id END"
)


def summed(key: tuple, figures: tuple, parts: list[str], where: str = "") -> str:
    """The rows of ``parts`` (SELECTs of ``key`` and ``figures``) summed per key, the
    keys whose figures all sum to zero left out, in key order: the same lock order for
    every writer of a summary table."""
    keys = ", ".join(f"t.{c}" for c in key)
    sums = ", ".join(f"SUM(t.{c})" for c in figures)
    nonzero = " OR ".join(f"SUM(t.{c}) <> 0" for c in figures)
    return (
        f"SELECT {keys}, {sums} FROM ({' UNION ALL '.join(parts)}) t{where}"
        f" GROUP BY {keys} HAVING {nonzero} ORDER BY {keys}"
    )


def upsert(table: str, key: tuple, figures: tuple, rows: str) -> str:
    """``rows`` (from ``summed``) added to the summary ``table``: a new key inserted, each
    figure of a key already there added to."""
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in figures)
    return (
        f"INSERT INTO {table} ({', '.join(key + figures)}) {rows}"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


def run(connection, statements: list[Statement], step: str) -> None:
    """Run the statements of ``step`` for the connection's database, in order."""
    for statement in statements:
        if statement.dialect == connection.dialect.name and statement.step == step:
            connection.exec_driver_sql(statement.sql)


def install_and_drop(ddl: Callable[[], list[Statement]]):
    """A summary module's ``install`` and ``drop``: create its triggers (the table exists)
    and fill the table from the live generator ``ddl`` (the benchmark's bulk load; the
    migrations run their frozen copy), or drop the triggers (the table stays: a bulk load
    without them, then ``install``)."""

    def install(connection) -> None:
        run(connection, ddl(), UPGRADE)

    def drop(connection) -> None:
        run(connection, ddl(), DOWNGRADE)

    return install, drop
