"""The index behind the keyword searches (the panel's 搜索 and the public catalog's 关键词).

Both searches are substring matches (``ILIKE '%词%'``), which no B-tree can serve. Each
database gets its own trigram index, built by migration 0011:

- PostgreSQL: a ``pg_trgm`` GIN index per searched column. The planner uses it for the
  very same ``ILIKE`` the searches already send, so nothing here changes their SQL. When
  the extension cannot be created (a managed server without it), the migration logs and
  skips: the plain scan is the fallback, with the same results.
- SQLite: an FTS5 table with the ``trigram`` tokenizer (SQLite ≥ 3.34) over the same
  columns, an external-content table kept in step by triggers. ``matches`` adds
  "``projects.id`` among the index's candidates" to a search; the ``LIKE`` stays, so the
  rows are exactly those of the scan (FTS5 folds case at least as widely as ``LIKE``, so
  its candidates always include every ``LIKE`` match).

A trigram index cannot look up fewer than three characters: a term of one or two
characters (``心``, ``内科``) or one holding a ``LIKE`` wildcard gets no candidate
condition and is matched by the scan, within whatever the other conditions (the
account's scope, the published state, a longer term) already narrowed.
"""

from __future__ import annotations

import logging
import sqlite3

from sqlalchemy import Boolean, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

log = logging.getLogger(__name__)

TABLE = "projects_search"
#: Every column either search reads; the panel searches the first three it lists.
COLUMNS = ("name", "project_no", "organizer", "principal")
TRIGRAM = 3
#: FTS5's trigram tokenizer appeared in SQLite 3.34.0.
SQLITE_HAS_TRIGRAM = sqlite3.sqlite_version_info >= (3, 34, 0)
PG_INDEXES = {f"ix_projects_{column}_trgm": column for column in COLUMNS}

_cols = ", ".join(COLUMNS)
_new = ", ".join(f"new.{c}" for c in COLUMNS)
_old = ", ".join(f"old.{c}" for c in COLUMNS)
_insert = f"INSERT INTO {TABLE}(rowid, {_cols}) VALUES (new.id, {_new});"
_delete = f"INSERT INTO {TABLE}({TABLE}, rowid, {_cols}) VALUES ('delete', old.id, {_old});"

SQLITE_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    f"{_cols}, content='projects', content_rowid='id', tokenize='trigram')"
)
SQLITE_TRIGGERS = {
    f"{TABLE}_insert": f"AFTER INSERT ON projects BEGIN {_insert} END",
    f"{TABLE}_delete": f"AFTER DELETE ON projects BEGIN {_delete} END",
    f"{TABLE}_update": f"AFTER UPDATE OF {_cols} ON projects BEGIN {_delete} {_insert} END",
}


def install_sqlite(connection) -> None:
    """Create the FTS5 table and its triggers if missing, and fill the index when a
    trigger was missing (a fresh install, or a later migration that rebuilt ``projects``
    by copy-and-rename, which drops a table's triggers)."""
    if not SQLITE_HAS_TRIGRAM:
        log.warning(
            "SQLite %s has no FTS5 trigram tokenizer: searches scan", sqlite3.sqlite_version
        )
        return
    connection.exec_driver_sql(SQLITE_TABLE)
    present = {
        row[0]
        for row in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'projects'"
        )
    }
    missing = [name for name in SQLITE_TRIGGERS if name not in present]
    for name in missing:
        connection.exec_driver_sql(f"CREATE TRIGGER {name} {SQLITE_TRIGGERS[name]}")
    if missing:
        connection.exec_driver_sql(f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')")


def repair_sqlite(connection) -> None:
    """After any migration: if the index exists, make sure its triggers do too."""
    if not SQLITE_HAS_TRIGRAM:
        return
    exists = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
    ).first()
    if exists:
        install_sqlite(connection)


def drop_sqlite(connection) -> None:
    for name in SQLITE_TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")


def outside_models(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's ``include_object``: the index lives outside the models (it depends on the
    database), so autogenerate neither drops it nor reports it."""
    if type_ == "table" and name and name.startswith(TABLE):
        return False
    return not (type_ == "index" and name in PG_INDEXES)


class _Candidates(ColumnElement[bool]):
    """``projects.id`` is among the FTS5 index's rows matching ``query`` (SQLite); on any
    other database a true condition (PostgreSQL's index serves the ``ILIKE`` itself)."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [("query", InternalTraversal.dp_clauseelement)]

    def __init__(self, query: str) -> None:
        self.query = literal(query)


@compiles(_Candidates)
def _compile_true(element, compiler, **kw):
    return "1 = 1"


@compiles(_Candidates, "sqlite")
def _compile_sqlite(element, compiler, **kw):
    if not SQLITE_HAS_TRIGRAM:
        return "1 = 1"
    query = compiler.process(element.query, **kw)
    return f"projects.id IN (SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH {query})"


def indexable(term: str, *, wildcards: bool = False) -> bool:
    """Whether ``term`` can be looked up in a trigram index: three characters or more,
    and (for a pattern used unescaped) no ``LIKE`` wildcard, which the index would take
    literally."""
    if wildcards and ("%" in term or "_" in term):
        return False
    return len(term) >= TRIGRAM


def matches(columns, terms, *, wildcards: bool = False) -> ColumnElement[bool] | None:
    """The candidate condition for rows holding every indexable term of ``terms`` in one
    of ``columns``, or None when no term is indexable (the scan alone decides).

    ``wildcards``: the terms go into ``LIKE`` unescaped (Flask-Admin's search), so one
    holding ``%`` or ``_`` is left to the scan."""
    for column in columns:
        if column not in COLUMNS:
            raise ValueError(f"{column} is not indexed")
    scope = "{" + " ".join(columns) + "}"
    phrases = [
        f'{scope} : "{term.replace(chr(34), chr(34) * 2)}"'
        for term in terms
        if indexable(term, wildcards=wildcards)
    ]
    if not phrases:
        return None
    return _Candidates(" AND ".join(phrases))
