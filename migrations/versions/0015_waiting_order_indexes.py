"""The per-scope (state, year) indexes end in (reported_at, id), so that the 统计 page's
oldest waiting projects of each queue and year are the first rows of an index range
instead of a sort of every waiting project of the tree.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SCOPES = ("society", "committee")


def upgrade():
    with op.batch_alter_table("projects", schema=None) as batch_op:
        for scope in SCOPES:
            batch_op.create_index(
                f"ix_projects_{scope}_state_year_reported",
                [f"{scope}_id", "state", "year", "reported_at", "id"],
                unique=False,
            )
            batch_op.drop_index(f"ix_projects_{scope}_state_year")


def downgrade():
    with op.batch_alter_table("projects", schema=None) as batch_op:
        for scope in SCOPES:
            batch_op.create_index(
                f"ix_projects_{scope}_state_year", [f"{scope}_id", "state", "year"], unique=False
            )
            batch_op.drop_index(f"ix_projects_{scope}_state_year_reported")
