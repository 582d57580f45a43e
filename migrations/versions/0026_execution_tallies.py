"""统计 · 执行情况's summary table ``execution_tallies``, kept by triggers (see
``models.execution_tally``), and filled from the existing projects, reports, events and
due days. The triggers, the function and the backfill are this revision's frozen copy
(``migrations/frozen/0026_execution_tallies.sql``), never the live model.

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

from migrations import frozen

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "execution_tallies",
        sa.Column("scope_unit_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.Column("credits", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scope_unit_id"],
            ["units.id"],
            name=op.f("fk_execution_tallies_scope_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "scope_unit_id", "grain", "bucket", "year", "unit_id", name=op.f("pk_execution_tallies")
        ),
        info={"kept_by_triggers": True},
    )
    op.create_index(
        "ix_execution_tallies_year",
        "execution_tallies",
        ["scope_unit_id", "year", "grain", "bucket"],
        unique=False,
    )
    # The triggers, then the backfill (one INSERT … SELECT … GROUP BY).
    frozen.run(op.get_bind(), revision, "execution_tallies", "upgrade")


def downgrade():
    frozen.run(op.get_bind(), revision, "execution_tallies", "downgrade")
    op.drop_index("ix_execution_tallies_year", table_name="execution_tallies")
    op.drop_table("execution_tallies")
