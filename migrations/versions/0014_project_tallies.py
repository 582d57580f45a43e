"""The 统计 page's summary table ``project_tallies``, kept by triggers (see
``models.tally``), and filled from the existing projects and events.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from models import tally

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "project_tallies",
        sa.Column("scope_unit_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dimension", sa.String(length=24), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("projects", sa.Integer(), nullable=False),
        sa.Column("credits", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scope_unit_id"],
            ["units.id"],
            name=op.f("fk_project_tallies_scope_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "scope_unit_id", "dimension", "year", "value", name=op.f("pk_project_tallies")
        ),
    )
    # The triggers, then the backfill (tally.rebuild: one INSERT … SELECT … GROUP BY).
    tally.install(op.get_bind())


def downgrade():
    tally.drop(op.get_bind())
    op.drop_table("project_tallies")
