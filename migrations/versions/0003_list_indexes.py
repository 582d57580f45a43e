"""Indexes for the admin lists' default order and year options, per scope column.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_projects_owner_updated": ["owner_unit_id", "updated_at", "id"],
    "ix_projects_society_updated": ["society_id", "updated_at", "id"],
    "ix_projects_committee_updated": ["committee_id", "updated_at", "id"],
    "ix_projects_owner_year": ["owner_unit_id", "year"],
    "ix_projects_society_year": ["society_id", "year"],
    "ix_projects_committee_year": ["committee_id", "year"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "projects", columns, unique=False)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="projects")
