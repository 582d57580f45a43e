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
