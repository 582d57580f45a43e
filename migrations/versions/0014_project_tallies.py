"""The 统计 page's summary table ``project_tallies``, kept by triggers (see
``models.tally``), and filled from the existing projects and events. The triggers, the
function and the backfill are this revision's frozen copy
(``migrations/frozen/0014_tally.sql``), never the live ``models.tally``.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from migrations import frozen

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
    # The triggers, then the backfill (one INSERT … SELECT … GROUP BY).
    frozen.run(op.get_bind(), revision, "tally", "upgrade")


def downgrade():
    frozen.run(op.get_bind(), revision, "tally", "downgrade")
    op.drop_table("project_tallies")
