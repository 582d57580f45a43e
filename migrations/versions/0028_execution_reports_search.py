"""Trigram index of the execution reports' names, for the reviewers' search (执行情况审阅,
执行情况审核: a report's own name, its project's number and principal; see
``models.search_index``). A report keeps its own copy of its project's name (a project
withdrawn, renamed and published again keeps its report), so the projects' index of 0011
cannot stand for it.

PostgreSQL: a ``pg_trgm`` GIN index on ``execution_reports.name``, when the extension is
there or can be created (otherwise logged and skipped: the search scans, with the same
results). SQLite: an FTS5 ``trigram`` table over the name, filled now and kept in step by
triggers. The SQL is this revision's frozen copy (``migrations/frozen/0028_search_index.sql``,
which also holds 0011's statements, unchanged: only the reports' are run here), never the
live ``models.search_index``.

Revision ID: 0028
Revises: 0027
"""

import logging
import sqlite3

from alembic import op

from migrations import frozen

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
FROZEN = "search_index"
# This revision's statements in the frozen file (the rest are 0011's).
SQLITE = (
    "reports table",
    "execution_reports_search_insert",
    "execution_reports_search_delete",
    "execution_reports_search_update",
    "reports rebuild",
)
POSTGRESQL = ("ix_execution_reports_name_trgm",)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        if sqlite3.sqlite_version_info < (3, 34, 0):
            log.warning(
                "SQLite %s has no FTS5 trigram tokenizer: searches scan", sqlite3.sqlite_version
            )
            return
        frozen.run(bind, revision, FROZEN, "upgrade", names=SQLITE)
        return
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as error:  # any refusal means: no index, scan instead
        log.warning("pg_trgm not available (%s): keyword searches will scan", error)
        return
    frozen.run(bind, revision, FROZEN, "upgrade", names=POSTGRESQL)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        frozen.run(bind, revision, FROZEN, "downgrade", names=SQLITE)
    elif bind.dialect.name == "postgresql":
        frozen.run(bind, revision, FROZEN, "downgrade", names=POSTGRESQL)
