"""Covering indexes for the 统计 page: the totals per tree and year, and the moves of
each project, read from the indexes alone.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COMMITTEE = ["committee_id", "year", "state", "discipline_id", "level", "mode"]
COMMITTEE += ["society_id", "owner_unit_id", "credits", "published_at"]
SOCIETY = ["society_id", "year", "state", "discipline_id", "level", "mode"]
SOCIETY += ["owner_unit_id", "credits", "published_at"]
MOVES = ["project_id", "id", "action", "from_state", "to_state", "created_at"]


def upgrade():
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index("ix_projects_committee_stats", COMMITTEE, unique=False)
        batch_op.create_index("ix_projects_society_stats", SOCIETY, unique=False)
    with op.batch_alter_table("project_events", schema=None) as batch_op:
        batch_op.create_index("ix_project_events_moves", MOVES, unique=False)


def downgrade():
    with op.batch_alter_table("project_events", schema=None) as batch_op:
        batch_op.drop_index("ix_project_events_moves")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index("ix_projects_society_stats")
        batch_op.drop_index("ix_projects_committee_stats")
