"""A filing-rule kind for units with overdue execution reports (执行情况逾期): the
CHECK constraint of ``filing_rules.kind`` takes the new value.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

OLD = ("deadline", "credits", "duplicate", "quota", "lecturers")
NEW = (*OLD, "overdue_reports")


def _kind(kinds):
    return sa.Enum(*kinds, name="rule_kind", native_enum=False, create_constraint=True, length=16)


def upgrade():
    with op.batch_alter_table("filing_rules", schema=None) as batch_op:
        batch_op.alter_column(
            "kind", existing_type=_kind(OLD), type_=_kind(NEW), existing_nullable=False
        )


def downgrade():
    op.execute(sa.text("DELETE FROM filing_rules WHERE kind = 'overdue_reports'"))
    with op.batch_alter_table("filing_rules", schema=None) as batch_op:
        batch_op.alter_column(
            "kind", existing_type=_kind(NEW), type_=_kind(OLD), existing_nullable=False
        )
