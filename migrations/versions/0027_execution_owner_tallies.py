"""执行情况's summary table ``execution_owner_tallies`` (the entry unit's published projects
per owner, year, report state and due bucket: its 状态 tabs' counts), kept by the same
triggers as ``execution_tallies`` (``models.execution_tally``). 0026's triggers are dropped
and this revision's frozen copy installed (``migrations/frozen/0027_execution_tallies.sql``:
the triggers, the function, the recount of both tables), never the live model. And the
index that reads 执行情况's page (an entry unit's published projects, newest first) in order.

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

from migrations import frozen

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

GENERATOR = "execution_tallies"


def upgrade():
    op.create_table(
        "execution_owner_tallies",
        sa.Column("owner_unit_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.String(length=16), nullable=False),
        sa.Column("projects", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_unit_id"],
            ["units.id"],
            name=op.f("fk_execution_owner_tallies_owner_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "owner_unit_id",
            "grain",
            "bucket",
            "year",
            "value",
            name=op.f("pk_execution_owner_tallies"),
        ),
        info={"kept_by_triggers": True},
    )
    # 执行情况's page of an entry unit's published projects, newest first, read in order.
    op.create_index(
        "ix_projects_owner_state_start",
        "projects",
        ["owner_unit_id", "state", "start_date", "id"],
        unique=False,
    )
    bind = op.get_bind()
    # 0026's triggers off (SQLite's would collide by name), then 0027's and the recount.
    frozen.run(bind, "0026", GENERATOR, "downgrade")
    frozen.run(bind, revision, GENERATOR, "upgrade")


def downgrade():
    bind = op.get_bind()
    frozen.run(bind, revision, GENERATOR, "downgrade")
    op.drop_table("execution_owner_tallies")
    op.drop_index("ix_projects_owner_state_start", table_name="projects")
    frozen.run(bind, "0026", GENERATOR, "upgrade")
