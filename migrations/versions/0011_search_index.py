"""Trigram index for the keyword searches (see ``models.search_index``).

PostgreSQL: ``pg_trgm`` and a GIN index per searched column, when the extension can be
created (tried in a savepoint; otherwise logged and skipped: the searches scan, with the
same results). SQLite: an FTS5 ``trigram`` table over the same columns, filled now and
kept in step by triggers.

Revision ID: 0011
Revises: 0010
"""

import logging

from alembic import op

from models import search_index

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        search_index.install_sqlite(bind)
        return
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as error:  # any refusal means: no index, scan instead
        log.warning("pg_trgm not available (%s): keyword searches will scan", error)
        return
    for name, column in search_index.PG_INDEXES.items():
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON projects USING gin ({column} gin_trgm_ops)"
        )


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        search_index.drop_sqlite(bind)
    elif bind.dialect.name == "postgresql":
        for name in search_index.PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
