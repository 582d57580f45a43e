"""The filing calendar (申报时间) and its reminders (催办): each committee's windows per
year and step, a society's earlier cut-off, the exceptions granted to late units, the
committee's reminder settings, every reminder sent; and the messages' new kind
"reminder".

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

MESSAGE_KINDS = ("reported", "returned", "published", "withdrawn")


def _message_kinds(kinds) -> None:
    """The messages' kind constraint allowing ``kinds`` (SQLite rebuilds the table)."""
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_messages_message_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_messages_message_kind"), f"kind IN ({listed})")


def upgrade():
    op.create_table(
        "filing_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "step",
            sa.Enum(
                "entry_report",
                "society_report",
                "audit",
                name="window_step",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("opens_on", sa.Date(), nullable=True),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["units.id"],
            name=op.f("fk_filing_windows_committee_id_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_filing_windows_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_windows")),
        sa.UniqueConstraint(
            "unit_id", "year", "step", name=op.f("uq_filing_windows_unit_id_year_step")
        ),
    )
    with op.batch_alter_table("filing_windows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_filing_windows_committee_id_year", ["committee_id", "year"], unique=False
        )

    op.create_table(
        "reminder_settings",
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("clocks", sa.JSON(), nullable=False),
        sa.Column("escalate_after_days", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["units.id"],
            name=op.f("fk_reminder_settings_committee_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("committee_id", name=op.f("pk_reminder_settings")),
    )
    op.create_table(
        "window_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("granted_by_unit_id", sa.Integer(), nullable=False),
        sa.Column("granted_by_user_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "step",
            sa.Enum(
                "entry_report",
                "society_report",
                "audit",
                name="window_step",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["units.id"],
            name=op.f("fk_window_exceptions_committee_id_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_unit_id"],
            ["units.id"],
            name=op.f("fk_window_exceptions_granted_by_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_user_id"],
            ["users.id"],
            name=op.f("fk_window_exceptions_granted_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_window_exceptions_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_window_exceptions")),
    )
    with op.batch_alter_table("window_exceptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_window_exceptions_committee_id_year", ["committee_id", "year"], unique=False
        )
        batch_op.create_index(
            "ix_window_exceptions_unit_id_year_step", ["unit_id", "year", "step"], unique=False
        )

    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column(
            "clock",
            sa.Enum(
                "window_closing",
                "waiting_society",
                "waiting_committee",
                "execution_due",
                "execution_overdue",
                name="reminder_clock",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("escalation", sa.Boolean(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"],
            ["units.id"],
            name=op.f("fk_reminders_committee_id_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_reminders_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_reminders_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint(
            "unit_id",
            "clock",
            "escalation",
            "day",
            name=op.f("uq_reminders_unit_id_clock_escalation_day"),
        ),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reminders_committee_id_day", ["committee_id", "day"], unique=False
        )

    _message_kinds((*MESSAGE_KINDS, "reminder"))


def downgrade():
    op.execute("DELETE FROM messages WHERE kind = 'reminder'")
    _message_kinds(MESSAGE_KINDS)
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_committee_id_day")

    op.drop_table("reminders")
    with op.batch_alter_table("window_exceptions", schema=None) as batch_op:
        batch_op.drop_index("ix_window_exceptions_unit_id_year_step")
        batch_op.drop_index("ix_window_exceptions_committee_id_year")

    op.drop_table("window_exceptions")
    op.drop_table("reminder_settings")
    with op.batch_alter_table("filing_windows", schema=None) as batch_op:
        batch_op.drop_index("ix_filing_windows_committee_id_year")

    op.drop_table("filing_windows")
