"""Migrations install frozen SQL, and the live generators may not drift from it.

Migrations 0011 and 0014 run their own copy of the trigger/function/index SQL
(``migrations/frozen``), so editing ``models/tally.py`` or ``models/search_index.py``
cannot change what an old migration installs on a new database. A change to the
generated SQL therefore needs a new migration with a new frozen file: these tests fail
until it has one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from migrations import frozen
from models import search_index, tally, triggers
from tests.test_tallies import assert_tallies_match
from tools import freeze_sql

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ROOT / "migrations" / "versions"


def _newest_frozen(generator: str) -> Path:
    files = sorted(frozen.HERE.glob(f"*_{generator}.sql"))
    assert files, f"no frozen copy of {generator}"
    return files[-1]


@pytest.mark.parametrize("generator", sorted(freeze_sql.GENERATORS))
def test_the_generator_matches_its_newest_frozen_copy(generator):
    newest = _newest_frozen(generator)
    frozen_statements = frozen.parse(newest.read_text(encoding="utf-8"))
    live = frozen.parse(freeze_sql.render(generator))
    assert live == frozen_statements, (
        f"{freeze_sql.SOURCES[generator]} now generates other SQL than {newest.name}: "
        f"add a migration that installs it (python -m tools.freeze_sql <revision> {generator}; "
        "docs/howto.md)"
    )


@pytest.mark.parametrize("generator", sorted(freeze_sql.GENERATORS))
def test_every_frozen_file_is_run_by_the_migration_of_its_revision(generator):
    for path in frozen.HERE.glob(f"*_{generator}.sql"):
        revision = path.name.split("_", 1)[0]
        (migration,) = VERSIONS.glob(f"{revision}_*.py")
        source = migration.read_text(encoding="utf-8")
        assert "frozen.run(" in source, f"{migration.name} does not run {path.name}"


def test_no_migration_imports_the_live_models():
    for migration in sorted(VERSIONS.glob("*.py")):
        tree = ast.parse(migration.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                assert not re.match(r"(models|workflow|permissions|app)(\.|$)", module), (
                    f"{migration.name} imports {module}: freeze what it needs instead"
                )


def test_the_frozen_parser_keeps_multi_line_statements():
    text = "-- note\n\n-- [postgresql upgrade] f\nCREATE FUNCTION f()\nAS $$\nx;\n$$\n\n"
    text += "-- [sqlite downgrade] t\nDROP TRIGGER t\n"
    assert frozen.parse(text) == [
        ("postgresql", "upgrade", "f", "CREATE FUNCTION f()\nAS $$\nx;\n$$"),
        ("sqlite", "downgrade", "t", "DROP TRIGGER t"),
    ]


def _sqlite_trigger_sql(connection) -> dict[str, str]:
    rows = connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type='trigger'")
    return {name: re.sub(r"\s+", " ", sql) for name, sql in rows}


def test_the_sqlite_repair_replaces_a_changed_trigger(demo_accounts, session, backend):
    """A trigger whose definition differs from the generator's (an old copy, a hand edit)
    is dropped and created again, and the table it keeps is recounted."""
    if backend != "sqlite":
        pytest.skip("the repair is for SQLite's batch migrations")
    connection = session.connection()
    name = "project_tallies_update"
    connection.exec_driver_sql(f"DROP TRIGGER {name}")
    connection.exec_driver_sql(
        f"CREATE TRIGGER {name} AFTER UPDATE OF state ON projects BEGIN SELECT 1; END"
    )
    connection.exec_driver_sql("DELETE FROM project_tallies")
    triggers.repair_sqlite(connection)
    stored = _sqlite_trigger_sql(connection)
    for trigger, body in {**tally.SQLITE_TRIGGERS, **search_index.SQLITE_TRIGGERS}.items():
        assert stored[trigger] == re.sub(r"\s+", " ", f"CREATE TRIGGER {trigger} {body}")
    session.commit()
    assert_tallies_match(session)


def test_ensure_leaves_identical_triggers_alone(demo_accounts, session, backend):
    if backend != "sqlite":
        pytest.skip("the repair is for SQLite's batch migrations")
    connection = session.connection()
    assert triggers.ensure(connection, tally.SQLITE_TRIGGERS) == []
    assert triggers.ensure(connection, search_index.SQLITE_TRIGGERS) == []
