"""The committee's list filtered by 状态 and 年度 (its most common filter: "2025年 已公布")
read in its order (newest change first) from an index, instead of a sort of the whole
year's projects in that state: 16 ms → 0.02 ms for 10,000 published projects of a year on
SQLite, no measurable cost to a 500-row bulk action (bench/results/FINDINGS.md).

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

NAME = "ix_projects_committee_state_year_updated"


def upgrade():
    op.create_index(
        NAME, "projects", ["committee_id", "state", "year", "updated_at", "id"], unique=False
    )


def downgrade():
    op.drop_index(NAME, table_name="projects")
