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

Migration 0028 adds the same pair of indexes over ``execution_reports.name`` (a report
keeps its own copy of its project's name, which a project withdrawn, renamed and
published again does not change): the reviewers' 执行情况审阅/审核 search that name and
the project's number and principal. Their lists read a search's exact matches from both
indexes first (``list_search``, one statement), and count their 状态 tabs from them.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass

from sqlalchemy import (
    ARRAY,
    Boolean,
    Integer,
    String,
    any_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from models import triggers

log = logging.getLogger(__name__)

TRIGRAM = 3
#: FTS5's trigram tokenizer appeared in SQLite 3.34.0.
SQLITE_HAS_TRIGRAM = sqlite3.sqlite_version_info >= (3, 34, 0)


@dataclass(frozen=True)
class Index:
    """One table's trigram index: ``table`` (FTS5, SQLite) over ``columns`` of
    ``content``, kept in step by triggers; one ``pg_trgm`` GIN index per column
    (PostgreSQL). ``prefix``: how its SQLite statements are named in a frozen file
    (the projects' index was frozen first, unprefixed)."""

    table: str
    content: str
    columns: tuple[str, ...]
    prefix: str = ""

    @property
    def sqlite_table(self) -> str:
        return (
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {self.table} USING fts5("
            f"{', '.join(self.columns)}, content='{self.content}', content_rowid='id',"
            " tokenize='trigram')"
        )

    @property
    def sqlite_rebuild(self) -> str:
        return f"INSERT INTO {self.table}({self.table}) VALUES ('rebuild')"

    @property
    def sqlite_triggers(self) -> dict[str, str]:
        t, cols = self.table, ", ".join(self.columns)
        new = ", ".join(f"new.{c}" for c in self.columns)
        old = ", ".join(f"old.{c}" for c in self.columns)
        insert = f"INSERT INTO {t}(rowid, {cols}) VALUES (new.id, {new});"
        delete = f"INSERT INTO {t}({t}, rowid, {cols}) VALUES ('delete', old.id, {old});"
        on = self.content
        return {
            f"{t}_insert": f"AFTER INSERT ON {on} BEGIN {insert} END",
            f"{t}_delete": f"AFTER DELETE ON {on} BEGIN {delete} END",
            f"{t}_update": f"AFTER UPDATE OF {cols} ON {on} BEGIN {delete} {insert} END",
        }

    @property
    def pg_indexes(self) -> dict[str, str]:
        return {f"ix_{self.content}_{column}_trgm": column for column in self.columns}

    def ddl(self) -> list[triggers.Statement]:
        """This index's objects as statements, in order."""
        sqlite = [(f"{self.prefix}table", self.sqlite_table)]
        sqlite += [
            (name, f"CREATE TRIGGER {name} {body}") for name, body in self.sqlite_triggers.items()
        ]
        sqlite += [(f"{self.prefix}rebuild", self.sqlite_rebuild)]
        sqlite_down = [(name, f"DROP TRIGGER IF EXISTS {name}") for name in self.sqlite_triggers]
        sqlite_down += [(f"{self.prefix}table", f"DROP TABLE IF EXISTS {self.table}")]
        pg = [
            (
                name,
                f"CREATE INDEX IF NOT EXISTS {name} ON {self.content}"
                f" USING gin ({column} gin_trgm_ops)",
            )
            for name, column in self.pg_indexes.items()
        ]
        pg_down = [(name, f"DROP INDEX IF EXISTS {name}") for name in self.pg_indexes]
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

    def install_sqlite(self, connection) -> None:
        """Create the FTS5 table and its triggers if missing, and fill the index when a
        trigger was missing (a fresh install, or a later migration that rebuilt the table
        by copy-and-rename, which drops a table's triggers)."""
        if not SQLITE_HAS_TRIGRAM:
            log.warning(
                "SQLite %s has no FTS5 trigram tokenizer: searches scan", sqlite3.sqlite_version
            )
            return
        connection.exec_driver_sql(self.sqlite_table)
        if triggers.ensure(connection, self.sqlite_triggers):
            connection.exec_driver_sql(self.sqlite_rebuild)


#: The projects' index (migration 0011): every column either project search reads; the
#: panel searches the first three it lists.
PROJECTS = Index("projects_search", "projects", ("name", "project_no", "organizer", "principal"))
#: The execution reports' own copy of their project's name (migration 0028), which the
#: reviewers' lists (执行情况审阅/审核) search with the project's number and principal.
REPORTS = Index("execution_reports_search", "execution_reports", ("name",), prefix="reports ")
INDEXES = (PROJECTS, REPORTS)

TABLE = PROJECTS.table
TABLES = tuple(index.table for index in INDEXES)
COLUMNS = PROJECTS.columns
PG_INDEXES = PROJECTS.pg_indexes
SQLITE_TABLE = PROJECTS.sqlite_table
SQLITE_REBUILD = PROJECTS.sqlite_rebuild
SQLITE_TRIGGERS = PROJECTS.sqlite_triggers


def install_sqlite(connection) -> None:
    """Install (or repair) the projects' index: see ``Index.install_sqlite``."""
    PROJECTS.install_sqlite(connection)


@triggers.register_sqlite_repair
def repair_sqlite(connection) -> None:
    """After any migration: for each index that exists, make sure its triggers do too."""
    if not SQLITE_HAS_TRIGRAM:
        return
    for index in INDEXES:
        if triggers.sqlite_table_exists(connection, index.table):
            index.install_sqlite(connection)


def drop_sqlite(connection) -> None:
    for statement in ddl():
        if statement.dialect == "sqlite" and statement.step == triggers.DOWNGRADE:
            connection.exec_driver_sql(statement.sql)


def ddl() -> list[triggers.Statement]:
    """Both indexes' objects as statements, in order: what migrations 0011 (the projects')
    and 0028 (the reports', run by name from its copy) froze (a migration reads its
    frozen copy, never this function; see ``models.triggers``)."""
    return [statement for index in INDEXES for statement in index.ddl()]


def outside_models(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's ``include_object``: the indexes live outside the models (they depend on
    the database), so autogenerate neither drops them nor reports them."""
    if type_ == "table" and name and name.startswith(TABLES):
        return False
    return not (type_ == "index" and any(name in index.pg_indexes for index in INDEXES))


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


def _phrases(columns, terms, wildcards: bool, *, index: Index = PROJECTS) -> str | None:
    """The FTS5 query for every indexable term of ``terms`` in one of ``columns``."""
    for column in columns:
        if column not in index.columns:
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


# -- a list's search read from the indexes: its matches as a set of ids ----------------------
@dataclass(frozen=True)
class Part:
    """Columns of one index a list searches: ``via`` names the list's column holding the
    indexed row's id (the report's ``project_id``), None the list's own rows."""

    index: Index
    columns: tuple[str, ...]
    via: str | None = None


#: The entry unit's 执行情况 (rows: projects) and the reviewers' 执行情况审阅/审核 (rows:
#: execution reports: the report's own name, its project's number and principal), as
#: (the rows' table, the parts): Flask-Admin's ``column_searchable_list`` of each.
PROJECT_ROWS = ("projects", (Part(PROJECTS, ("name", "project_no", "principal")),))
REPORT_ROWS = (
    "execution_reports",
    (Part(REPORTS, ("name",)), Part(PROJECTS, ("project_no", "principal"), via="project_id")),
)
REPORT_SEARCH = ("name", "project.project_no", "project.principal")
#: Above this many candidates, a list's search does without them: a term that common
#: has dense matches, which the ``LIKE`` finds along the list's own index in fewer rows
#: than the candidates would cost to read.
MOST_CANDIDATES = 10_000


def caseless(term: str) -> bool:
    """No character of ``term`` has a case: FTS5 folding and ``lower()`` leave it and
    every character that could match it alone, so the trigram match is the ``LIKE``'s."""
    return all(c.lower() == c == c.upper() and c.casefold() == c for c in term)


def _part_sql(dialect: str, rows: str, part: Part, n: int, term: str, values: dict):
    """(the ids of ``rows`` holding ``term`` in one of the part's columns, exactly as the
    ``LIKE`` of Flask-Admin's search finds them; how many candidates the index holds
    for it, read no further than ``:most``). ``term`` is bound into ``values``."""
    index, key = part.index, f"{n}_{part.index.table}"
    if dialect == "sqlite":
        values[f"q{key}"] = _phrases(part.columns, [term], False, index=index)
        match = f"FROM {index.table} WHERE {index.table} MATCH :q{key}"
        found = f"SELECT rowid AS id {match}"
        if not caseless(term):  # the index folds more widely than lower(): test the rows
            values[f"p{key}"] = f"%{term}%"
            like = " OR ".join(
                f"lower(CAST(t.{c} AS VARCHAR)) LIKE lower(:p{key})" for c in part.columns
            )
            found = f"SELECT t.id FROM {index.content} AS t WHERE t.id IN ({found}) AND ({like})"
    else:
        values[f"p{key}"] = f"%{term}%"
        like = " OR ".join(f"t.{c} ILIKE :p{key}" for c in part.columns)
        match = f"FROM {index.content} AS t WHERE {like}"
        found = f"SELECT t.id {match}"
    bound = f"(SELECT count(*) FROM (SELECT 1 AS one {match} LIMIT :most) AS b{key})"
    if part.via is None:
        return found, bound
    return f"SELECT r.id FROM {rows} AS r WHERE r.{part.via} IN ({found})", bound


def _matches_sql(dialect: str, searched, terms: list[str]):
    """(the search's rows, a bound on their number (exact up to ``:most``), the values)."""
    rows, parts = searched
    values: dict = {}
    selects, bounds = [], []
    for n, term in enumerate(terms):
        found = [_part_sql(dialect, rows, part, n, term, values) for part in parts]
        # UNION ALL: an id found twice is one id to ``IN``; the named ids are a set.
        selects.append(" UNION ALL ".join(sql for sql, _ in found))
        bounds.append(" + ".join(bound for _, bound in found))
    if len(selects) == 1:
        return selects[0], bounds[0], values
    joined = " INTERSECT ".join(f"SELECT id FROM ({s}) AS t{n}" for n, s in enumerate(selects))
    least = "min" if dialect == "sqlite" else "LEAST"
    return joined, f"{least}({', '.join(bounds)})", values


@dataclass(frozen=True)
class ListSearch:
    """A list's search terms read from the indexes (``list_search``).

    ``page``, ``count``: AND-ed to the list's queries beside Flask-Admin's ``LIKE`` (as
    ``list_conditions``'); None: the ``LIKE`` alone. ``matches``: when ``exact``, the
    search's rows by itself (no ``LIKE`` needed, no join); else a superset of them;
    None: unknown."""

    page: ColumnElement[bool] | None
    count: ColumnElement[bool] | None
    matches: ColumnElement[bool] | None
    exact: bool


def list_search(
    session,
    searched,
    search: str,
    *,
    few: int | None = None,
    most: int | None = None,
) -> ListSearch | None:
    """The search box's ``search`` (Flask-Admin's terms, ``LIKE`` patterns used as is)
    over ``searched`` (``PROJECT_ROWS``, ``REPORT_ROWS``) from the trigram indexes; None
    when no term can be looked up (the ``LIKE`` alone decides).

    The indexes give each term's rows exactly (SQLite: FTS5's candidates, tested with
    the ``LIKE`` itself when the term has a case; PostgreSQL: the ``ILIKE`` per table,
    which its trigram indexes serve), read first in one statement: at most ``few``
    candidates (``FEW_CANDIDATES``), their matches are named
    (looked up by id in the page and the counts); up to ``most`` (``MOST_CANDIDATES``),
    the page tests the
    matches while it walks its ordered index and they drive the counts. Above ``most``
    (a common term: its matches are dense), the ``LIKE`` alone: the page stops after a
    page of them, and the list counts as without the indexes."""
    few = FEW_CANDIDATES if few is None else few
    most = MOST_CANDIDATES if most is None else most
    words, looked_up = _search_terms(search)
    if not looked_up:
        return None
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite" and not SQLITE_HAS_TRIGRAM:
        return None
    exact = _exact(words, looked_up)
    column = literal_column(f"{searched[0]}.id")
    if dialect != "sqlite":
        return _read_matches(session, column, searched, looked_up, few, most, exact)
    return _read_candidates(session, column, searched, looked_up, few, most, exact)


def box_words(search: str) -> list[str]:
    """The search box's words, as Flask-Admin splits them (at spaces)."""
    return [word for word in search.split(" ") if word]


def unprefixed(word: str) -> str:
    """A search word without the ``^`` / ``=`` that anchors Flask-Admin's ``LIKE``: the
    substring an index can look up."""
    return word[1:] if word[:1] in "^=" else word


def _search_terms(search: str) -> tuple[list[str], list[str]]:
    """(the search box's words; the terms the indexes can look up: each word
    ``unprefixed``, kept when ``indexable``)."""
    words = box_words(search)
    terms = (unprefixed(word) for word in words)
    return words, [t for t in terms if indexable(t, wildcards=True)]


def _exact(words: list[str], looked_up: list[str]) -> bool:
    """Whether the indexes' matches are the search's rows by themselves: every word is a
    plain substring term the index looked up (no prefix, none left to the ``LIKE``)."""
    return len(looked_up) == len(words) and all(w[:1] not in "^=" for w in words)


def _read_candidates(session, column, searched, terms, few, most, exact) -> ListSearch:
    """SQLite: one statement reads the candidates' number (each index read no further
    than ``most``) and, only when it is at most ``few`` (CASE runs its subquery only
    then), the matches, which are then named; up to ``most``, the matches' SQL tests the
    page and drives the counts; above, the ``LIKE`` alone."""
    sql, bound, values = _matches_sql("sqlite", searched, terms)
    candidates, named = session.execute(
        text(
            f"SELECT n, CASE WHEN n <= :few THEN (SELECT group_concat(m.id) FROM ({sql}) AS m)"
            f" END FROM (SELECT {bound} AS n LIMIT 1) AS b"  # LIMIT: not flattened
        ),
        {**values, "most": most + 1, "few": few},
    ).one()
    if candidates <= few:
        named = column.in_(sorted({int(id_) for id_ in (named or "").split(",") if id_}))
        return ListSearch(named, named, named, exact)
    if candidates <= most:
        matches = text(sql).bindparams(**values)
        driven = _In(column, matches, lookup=True)
        return ListSearch(_In(column, matches), driven, driven, exact)
    # A common term (dense matches): the candidates would cost more than they save.
    return ListSearch(None, None, None, False)


def _read_matches(session, column, searched, terms, few, most, exact) -> ListSearch:
    """PostgreSQL: the matches read once, each table's part no further than ``most`` rows
    (a bitmap heap scan costs PostgreSQL a few ms per thousand rows, where FTS5 is read
    again for little), and handed to the page and the counts as one array: named up to
    ``few``, else ``= ANY(:ids)``. Each part is a CTE read once (referenced twice)."""
    rows, parts = searched
    values: dict = {"limit": most + 1, "most": most}
    ctes, per_term, bounds = [], [], []
    for n, term in enumerate(terms):
        values[f"p{n}"] = f"%{term}%"
        selects, counts = [], []
        for k, part in enumerate(parts):
            name, like = f"part_{n}_{k}", " OR ".join(f"t.{c} ILIKE :p{n}" for c in part.columns)
            ctes.append(
                f"{name} AS (SELECT t.id FROM {part.index.content} AS t WHERE {like} LIMIT :limit)"
            )
            counts.append(f"(SELECT count(*) FROM {name})")
            if part.via is None:
                selects.append(f"SELECT id FROM {name}")
            else:
                selects.append(
                    f"SELECT r.id FROM {rows} AS r WHERE r.{part.via} IN (SELECT id FROM {name})"
                )
        per_term.append(" UNION ALL ".join(selects))
        bounds.append(" + ".join(counts))
    if len(per_term) == 1:
        matches, bound = per_term[0], bounds[0]
    else:
        each = (f"SELECT id FROM ({s}) AS t{n}" for n, s in enumerate(per_term))
        matches = " INTERSECT ".join(each)
        bound = f"LEAST({', '.join(bounds)})"
    found, listed = session.execute(
        text(
            f"WITH {', '.join(ctes)} SELECT n, CASE WHEN n <= :most THEN"
            f" (SELECT string_agg(CAST(m.id AS VARCHAR), ',') FROM ({matches}) AS m) END"
            f" FROM (SELECT {bound} AS n LIMIT 1) AS b"
        ),
        values,
    ).one()
    if found > most:  # a common term (dense matches): the LIKE alone
        return ListSearch(None, None, None, False)
    # The ids as PostgreSQL wrote them, one text parameter it reads back as an array:
    # no id converted one by one in Python, whatever their number.
    array = cast(bindparam("search_ids", "{%s}" % (listed or ""), type_=String), ARRAY(Integer))
    driven = column == any_(array)
    if found <= few:
        return ListSearch(driven, driven, driven, exact)
    # The page: a hashed subplan filtering its ordered index walk (``_In`` test), not
    # an index condition (PostgreSQL would then read and sort every match).
    return ListSearch(_In(column, select(func.unnest(array))), driven, driven, exact)


class _In(ColumnElement[bool]):
    """``column IN (candidates)``, written as is (``lookup``: SQLite's planner may drive
    from it) or as a test (``(… IN …) = 1`` on SQLite, see ``_Candidates``)."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("candidates", InternalTraversal.dp_clauseelement),
        ("lookup", InternalTraversal.dp_boolean),
    ]

    def __init__(self, column, candidates, *, lookup: bool = False) -> None:
        self.column = column
        self.candidates = candidates
        self.lookup = lookup

    def self_group(self, against=None):
        if self.lookup:
            return self
        return super().self_group(against)


@compiles(_In)
def _compile_in(element, compiler, **kw):
    column = compiler.process(element.column, **kw)
    return f"{column} IN ({compiler.process(element.candidates, **kw)})"


@compiles(_In, "postgresql")
def _compile_in_postgresql(element, compiler, **kw):
    """A test is written ``(… IN …) IS TRUE``: PostgreSQL keeps it a hashed subplan
    filtering the page's index walk instead of joining from the matches (its estimate
    of an ``IN`` subquery is 200 rows) and sorting every one of them."""
    sql = _compile_in(element, compiler, **kw)
    return sql if element.lookup else f"({sql}) IS TRUE"
