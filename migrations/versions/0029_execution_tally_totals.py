"""统计 · 执行情况 by page: ``execution_tallies`` also counts every project under its scope's
total (``unit_id`` 0), so that the 合计 row is read from a few rows of its own and a page
of the table from its own units' rows; the two indexes that read them (one year: scope,
year, unit; every year: scope, unit, the years inside the due-date ranges) replace
``ix_execution_tallies_year``. The triggers are this revision's frozen copy
(``migrations/frozen/0029_execution_tallies.sql``), never the live model.

The backfill does not recount the projects: the table already equals a recount (its
triggers keep it so), and the total rows are its unit rows summed per scope, grain, bucket
and year (one INSERT … SELECT … GROUP BY over the table itself), then the table analysed.

Revision ID: 0029
Revises: 0028
"""

from alembic import op

from migrations import frozen

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

GENERATOR = "execution_tallies"
TABLE = "execution_tallies"
TOTAL_UNIT = 0
KEY = "scope_unit_id, grain, bucket, year"
FIGURES = ("reports", "on_time", "accepted", "learners", "credits")


def _triggers(bind, revision_: str, step: str) -> None:
    """The revision's triggers and function (``step``), without its full recount."""
    names = [
        name
        for name, _sql in frozen.statements(revision_, GENERATOR, bind.dialect.name, step)
        if not name.startswith("rebuild")
    ]
    frozen.run(bind, revision_, GENERATOR, step, names=names)


def upgrade():
    bind = op.get_bind()
    # 0027's triggers off (SQLite's would collide by name), then 0029's.
    _triggers(bind, "0027", "downgrade")
    _triggers(bind, revision, "upgrade")
    sums = ", ".join(f"SUM({f})" for f in FIGURES)
    # A total row left by an earlier run (SQLite's repair recounts with the live model).
    bind.exec_driver_sql(f"DELETE FROM {TABLE} WHERE unit_id = {TOTAL_UNIT}")
    bind.exec_driver_sql(
        f"INSERT INTO {TABLE} ({KEY}, unit_id, {', '.join(FIGURES)})"
        f" SELECT {KEY}, {TOTAL_UNIT}, {sums} FROM {TABLE}"
        f" GROUP BY {KEY} ORDER BY {KEY}"
    )
    op.create_index(
        "ix_execution_tallies_year_unit",
        TABLE,
        ["scope_unit_id", "year", "unit_id", "grain", "bucket"],
        unique=False,
    )
    op.create_index(
        "ix_execution_tallies_unit",
        TABLE,
        ["scope_unit_id", "unit_id", "grain", "bucket", "year"],
        unique=False,
    )
    op.drop_index("ix_execution_tallies_year", table_name=TABLE)
    # The planners' statistics of the table as it is now (its rows grew by the totals, its
    # indexes are new): PostgreSQL's, stale, chose a parallel plan over a few rows of each
    # of 50 units (20 ms instead of 1 at 200,000 projects).
    bind.exec_driver_sql(f"ANALYZE {TABLE}")


def downgrade():
    bind = op.get_bind()
    _triggers(bind, revision, "downgrade")
    op.create_index(
        "ix_execution_tallies_year",
        TABLE,
        ["scope_unit_id", "year", "grain", "bucket"],
        unique=False,
    )
    op.drop_index("ix_execution_tallies_unit", table_name=TABLE)
    op.drop_index("ix_execution_tallies_year_unit", table_name=TABLE)
    bind.exec_driver_sql(f"DELETE FROM {TABLE} WHERE unit_id = {TOTAL_UNIT}")
    _triggers(bind, "0027", "upgrade")
