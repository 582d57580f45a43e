"""Trigram index for the keyword searches (see ``models.search_index``).

PostgreSQL: ``pg_trgm`` and a GIN index per searched column, when the extension can be
created (tried in a savepoint; otherwise logged and skipped: the searches scan, with the
same results). SQLite: an FTS5 ``trigram`` table over the same columns, filled now and
kept in step by triggers. The SQL is this revision's frozen copy
(``migrations/frozen/0011_search_index.sql``), never the live ``models.search_index``.

Revision ID: 0011
Revises: 0010
"""

import logging
import sqlite3

from alembic import op

from migrations import frozen

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
FROZEN = "search_index"


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # FTS5's trigram tokenizer appeared in SQLite 3.34.0.
        if sqlite3.sqlite_version_info < (3, 34, 0):
            log.warning(
                "SQLite %s has no FTS5 trigram tokenizer: searches scan", sqlite3.sqlite_version
            )
            return
        frozen.run(bind, revision, FROZEN, "upgrade")
        return
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as error:  # any refusal means: no index, scan instead
        log.warning("pg_trgm not available (%s): keyword searches will scan", error)
        return
    frozen.run(bind, revision, FROZEN, "upgrade")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name in ("sqlite", "postgresql"):
        frozen.run(bind, revision, FROZEN, "downgrade")
