"""An execution report keeps its roster's figures on its own row: ``attended_learners``
(the roster's attended rows) and ``credits_awarded`` (the sum of every roster row's
credits), counted again by ``workflow.execution`` at every roster write, so that 统计 and
the public catalog read one row per report instead of its roster. The reports of today
are counted once here, from their rosters.

And four indexes for 统计 · 执行情况's GROUP BY, which then reads indexes alone: a
tree's (committee's, society's) published projects of a year with their end date and id,
each one's report with its state, due date and figures, and its report events (its
first 上报).

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

BACKFILL = """
UPDATE execution_reports SET
    attended_learners = (
        SELECT count(*) FROM roster_entries
        WHERE roster_entries.report_id = execution_reports.id AND roster_entries.attended
    ),
    credits_awarded = (
        SELECT coalesce(sum(roster_entries.credits), 0) FROM roster_entries
        WHERE roster_entries.report_id = execution_reports.id
    )
WHERE EXISTS (SELECT 1 FROM roster_entries WHERE roster_entries.report_id = execution_reports.id)
"""

INDEXES = (
    (
        "ix_projects_committee_execution",
        "projects",
        ["committee_id", "year", "state", "society_id", "owner_unit_id", "end_date", "id"],
    ),
    (
        "ix_projects_society_execution",
        "projects",
        ["society_id", "year", "state", "owner_unit_id", "end_date", "id"],
    ),
    (
        "ix_execution_reports_project_figures",
        "execution_reports",
        ["project_id", "state", "due_date", "attended_learners", "credits_awarded", "id"],
    ),
    (
        "ix_execution_events_report_action",
        "execution_events",
        ["report_id", "action", "from_state", "created_at"],
    ),
)


def upgrade():
    with op.batch_alter_table("execution_reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attended_learners", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("credits_awarded", sa.Float(), server_default="0", nullable=False)
        )
    op.execute(sa.text(BACKFILL))
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("execution_reports", schema=None) as batch_op:
        batch_op.drop_column("credits_awarded")
        batch_op.drop_column("attended_learners")
