"""Filing rules (备案规则) per committee and year, the warnings a project moved
with, and indexes for the duplicate and quota checks.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

KINDS = ("deadline", "credits", "duplicate", "quota", "lecturers")


def _kind():
    return sa.Enum(*KINDS, name="rule_kind", native_enum=False, create_constraint=True, length=16)


def upgrade():
    op.create_table(
        "filing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", _kind(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "block",
                "warn",
                name="severity",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["units.id"], name=op.f("fk_filing_rules_committee_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_rules")),
        sa.UniqueConstraint(
            "committee_id", "year", "kind", name=op.f("uq_filing_rules_committee_id_year_kind")
        ),
    )
    op.create_table(
        "project_warnings",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_warnings_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_warnings")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(
            "ix_projects_committee_year_name", ["committee_id", "year", "name"], unique=False
        )
        batch_op.create_index(
            "ix_projects_committee_year_principal",
            ["committee_id", "year", "principal"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index("ix_projects_committee_year_principal")
        batch_op.drop_index("ix_projects_committee_year_name")
    op.drop_table("project_warnings")
    op.drop_table("filing_rules")
