"""Index for the public catalog: published projects by start date.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_projects_state_start_date", "projects", ["state", "start_date", "id"], unique=False
    )


def downgrade():
    op.drop_index("ix_projects_state_start_date", table_name="projects")
