"""A society's 项目审阅 opens on its 待审阅 tab (state = at_society, newest change first):
read in that order from an index instead of fetching all the society's waiting projects
and sorting them. PostgreSQL, 200,000 projects (778 waiting in the society): the page's
rows 11.2 → 2.1 ms, the page 52 → 45 ms (bench/results/FINDINGS.md).

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

NAME = "ix_projects_society_state_updated"


def upgrade():
    op.create_index(NAME, "projects", ["society_id", "state", "updated_at", "id"], unique=False)


def downgrade():
    op.drop_index(NAME, table_name="projects")
