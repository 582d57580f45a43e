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
  its candidates always include every ``LIKE`` match). A paged list asks
  ``list_conditions`` instead: few candidates are named and looked up by rowid, many are
  tested along the list's index (its page) and drive its count.

A trigram index cannot look up fewer than three characters: a term of one or two
characters (``心``, ``内科``) or one holding a ``LIKE`` wildcard gets no candidate
condition and is matched by the scan, within whatever the other conditions (the
account's scope, the published state, a longer term) already narrowed.
"""

from __future__ import annotations

import logging
import sqlite3

from sqlalchemy import Boolean, literal, literal_column, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from models import triggers

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
SQLITE_REBUILD = f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')"
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
    if triggers.ensure(connection, SQLITE_TRIGGERS):
        connection.exec_driver_sql(SQLITE_REBUILD)


@triggers.register_sqlite_repair
def repair_sqlite(connection) -> None:
    """After any migration: if the index exists, make sure its triggers do too."""
    if not SQLITE_HAS_TRIGRAM:
        return
    if triggers.sqlite_table_exists(connection, TABLE):
        install_sqlite(connection)


def drop_sqlite(connection) -> None:
    for statement in ddl():
        if statement.dialect == "sqlite" and statement.step == triggers.DOWNGRADE:
            connection.exec_driver_sql(statement.sql)


def ddl() -> list[triggers.Statement]:
    """The index's objects as statements, in order: what migration 0011 froze (the
    migration reads its frozen copy, never this function; see ``models.triggers``)."""
    sqlite = [("table", SQLITE_TABLE)]
    sqlite += [(name, f"CREATE TRIGGER {name} {body}") for name, body in SQLITE_TRIGGERS.items()]
    sqlite += [("rebuild", SQLITE_REBUILD)]
    sqlite_down = [(name, f"DROP TRIGGER IF EXISTS {name}") for name in SQLITE_TRIGGERS]
    sqlite_down += [("table", f"DROP TABLE IF EXISTS {TABLE}")]
    pg = [
        (name, f"CREATE INDEX IF NOT EXISTS {name} ON projects USING gin ({column} gin_trgm_ops)")
        for name, column in PG_INDEXES.items()
    ]
    pg_down = [(name, f"DROP INDEX IF EXISTS {name}") for name in PG_INDEXES]
    return [
        triggers.Statement(dialect, step, name, sql)
        for dialect, step, statements in (
            ("sqlite", triggers.UPGRADE, sqlite),
            ("sqlite", triggers.DOWNGRADE, sqlite_down),
            ("postgresql", triggers.UPGRADE, pg),
            ("postgresql", triggers.DOWNGRADE, pg_down),
        )
        for name, sql in statements
    ]


def outside_models(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's ``include_object``: the index lives outside the models (it depends on the
    database), so autogenerate neither drops it nor reports it."""
    if type_ == "table" and name and name.startswith(TABLE):
        return False
    return not (type_ == "index" and name in PG_INDEXES)


class _Candidates(ColumnElement[bool]):
    """``projects.id`` is among the FTS5 index's rows matching ``query`` (SQLite); on any
    other database a true condition (PostgreSQL's index serves the ``ILIKE`` itself).

    ``lookup``: written as a plain ``projects.id IN (…)``, which SQLite's planner may
    drive from (each candidate looked up by rowid). Otherwise SQLAlchemy writes it as
    ``(projects.id IN (…)) = 1`` (SQLite has no native boolean), a test the planner only
    applies to the rows it reads by another index: right for an ordered page, whose
    index walk stops after a page of matches, wrong for a count over many rows."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("query", InternalTraversal.dp_clauseelement),
        ("lookup", InternalTraversal.dp_boolean),
    ]

    def __init__(self, query: str, *, lookup: bool = False) -> None:
        self.query = literal(query)
        self.lookup = lookup

    def self_group(self, against=None):
        if self.lookup:
            return self  # as is inside WHERE/AND: the planner sees the IN
        return super().self_group(against)


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


def _phrases(columns, terms, wildcards: bool) -> str | None:
    """The FTS5 query for every indexable term of ``terms`` in one of ``columns``."""
    for column in columns:
        if column not in COLUMNS:
            raise ValueError(f"{column} is not indexed")
    scope = "{" + " ".join(columns) + "}"
    phrases = [
        f'{scope} : "{term.replace(chr(34), chr(34) * 2)}"'
        for term in terms
        if indexable(term, wildcards=wildcards)
    ]
    return " AND ".join(phrases) if phrases else None


def matches(columns, terms, *, wildcards: bool = False) -> ColumnElement[bool] | None:
    """The candidate condition for rows holding every indexable term of ``terms`` in one
    of ``columns``, or None when no term is indexable (the scan alone decides).

    ``wildcards``: the terms go into ``LIKE`` unescaped (Flask-Admin's search), so one
    holding ``%`` or ``_`` is left to the scan."""
    query = _phrases(columns, terms, wildcards)
    return None if query is None else _Candidates(query)


#: Up to this many candidates, a list's search names them (``projects.id IN (1, 2, …)``)
#: and SQLite looks each up by rowid; above it, walking the list's own index is cheaper
#: for its page (which stops after one page of matches).
FEW_CANDIDATES = 2_000


def list_conditions(
    session,
    columns,
    terms,
    *,
    wildcards: bool = False,
    few: int = FEW_CANDIDATES,
    wide_scope: bool = True,
) -> tuple[ColumnElement[bool] | None, ColumnElement[bool] | None]:
    """The candidate conditions of a paged list's search: (for its page, for its count),
    both None when no term is indexable.

    SQLite's planner cannot tell how many rows an FTS5 ``MATCH`` returns, so it is asked:
    at most ``few`` candidates are named outright (looked up by rowid, in the page and
    in the count); more, the page tests them while walking its ordered index, and the
    count of a ``wide_scope`` (a whole tree, as wide as the candidates, which come from
    every tree) is driven from them; a narrower scope's count walks its own index
    instead, testing each row (measured at 200,000 projects: a society's 11,000 rows
    cost half of 10,000 tree-wide candidates looked up one by one).
    On PostgreSQL, the ``ILIKE`` alone uses the trigram indexes."""
    query = _phrases(columns, terms, wildcards)
    if query is None:
        return None, None
    if session.get_bind().dialect.name != "sqlite" or not SQLITE_HAS_TRIGRAM:
        return _Candidates(query), _Candidates(query)
    ids = session.execute(
        text(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH :query LIMIT :limit"),
        {"query": query, "limit": few + 1},
    ).scalars()
    ids = list(ids)
    if len(ids) <= few:
        named = literal_column("projects.id").in_(ids)
        return named, named
    return _Candidates(query), _Candidates(query, lookup=wide_scope)
