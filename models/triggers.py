"""SQLite triggers that a batch migration loses, and their repair.

Alembic's batch mode rebuilds a SQLite table by copy and rename, which drops the
table's triggers. A module whose triggers keep a table of its own in step (the search
index, the statistics tallies) registers a repair function here; ``migrations/env.py``
runs every registered repair after each migration. A repair checks that its table is
installed, creates the triggers that are missing (``create_missing``) and, when any was
missing, refills what they maintain.
"""

from __future__ import annotations

from collections.abc import Callable

SqliteRepair = Callable[[object], None]
_REPAIRS: list[SqliteRepair] = []


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


def create_missing(connection, triggers: dict[str, str]) -> list[str]:
    """Create each trigger of ``{name: definition after the name}`` that does not exist;
    returns the names created."""
    present = {
        row[0]
        for row in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        )
    }
    missing = [name for name in triggers if name not in present]
    for name in missing:
        connection.exec_driver_sql(f"CREATE TRIGGER {name} {triggers[name]}")
    return missing
