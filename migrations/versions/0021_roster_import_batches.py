"""A roster import (学员名单导入) keeps its upload as an ``import_batches`` row naming
its execution report: ``report_id`` (None for a file of projects), removed with the
report.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_import_batches_report_id"), ["report_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_import_batches_report_id_execution_reports"),
            "execution_reports",
            ["report_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade():
    op.execute(sa.text("DELETE FROM import_batches WHERE report_id IS NOT NULL"))
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_import_batches_report_id_execution_reports"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_import_batches_report_id"))
        batch_op.drop_column("report_id")
