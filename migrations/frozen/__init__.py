"""The SQL of objects kept outside the models, frozen per migration.

Each ``<revision>_<generator>.sql`` file here is what ``python -m tools.freeze_sql`` wrote
from a generator (``models.search_index.ddl``, ``models.tally.ddl``) when that revision was
written; the revision's migration runs its own file, so it installs the same triggers,
functions and indexes on a new database today as on the databases it upgraded then. Never
edit a file here: a change to the SQL is a new revision with a new frozen file
(docs/howto.md).

A file is a list of statements, each under a header line ``-- [<dialect> <step>] <name>``.
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = re.compile(r"^-- \[(\w+) (\w+)\] (.+)$", re.MULTILINE)


def parse(text: str) -> list[tuple[str, str, str, str]]:
    """(dialect, step, name, sql) of every statement of a frozen file, in order."""
    headers = list(HEADER.finditer(text))
    statements = []
    for header, following in zip(headers, [*headers[1:], None], strict=True):
        end = following.start() if following else len(text)
        sql = text[header.end() : end].strip()
        statements.append((header[1], header[2], header[3], sql))
    return statements


def path(revision: str, generator: str) -> Path:
    return HERE / f"{revision}_{generator}.sql"


def statements(revision: str, generator: str, dialect: str, step: str) -> list[tuple[str, str]]:
    """(name, sql) of one dialect and step of a frozen file."""
    return [
        (name, sql)
        for d, s, name, sql in parse(path(revision, generator).read_text(encoding="utf-8"))
        if d == dialect and s == step
    ]


def run(bind, revision: str, generator: str, step: str, *, names=None) -> None:
    """Run the frozen statements of ``bind``'s dialect and ``step`` (only ``names``, when
    given), in the order they were frozen."""
    for name, sql in statements(revision, generator, bind.dialect.name, step):
        if names is None or name in names:
            bind.exec_driver_sql(sql)
