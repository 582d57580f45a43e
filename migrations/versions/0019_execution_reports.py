"""After the event (执行情况): execution reports of published projects, the lecturers
who actually taught, attendance rosters (学员名单), the reports' immutable history and
snapshots, and the committee's due-date setting per year.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "execution_deadlines",
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "days >= 1 AND days <= 365", name=op.f("ck_execution_deadlines_days_range")
        ),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["units.id"], name=op.f("fk_execution_deadlines_committee_id_units")
        ),
        sa.PrimaryKeyConstraint("committee_id", "year", name=op.f("pk_execution_deadlines")),
    )
    op.create_table(
        "execution_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("project_name", sa.String(length=200), nullable=False),
        sa.Column("owner_unit_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("actor_unit_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_execution_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["actor_unit_id"], ["units.id"], name=op.f("fk_execution_events_actor_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["owner_unit_id"], ["units.id"], name=op.f("fk_execution_events_owner_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution_events")),
    )
    with op.batch_alter_table("execution_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_execution_events_owner_unit_id"), ["owner_unit_id"], unique=False
        )
        batch_op.create_index("ix_execution_events_report_id_id", ["report_id", "id"], unique=False)

    op.create_table(
        "execution_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("owner_unit_id", sa.Integer(), nullable=False),
        sa.Column("society_id", sa.Integer(), nullable=True),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "returned",
                "at_society",
                "at_committee",
                "accepted",
                name="execution_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("venue", sa.String(length=200), nullable=False),
        sa.Column(
            "mode",
            sa.Enum(
                "face_to_face",
                "remote",
                "blended",
                name="mode",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("theory_hours", sa.Float(), nullable=False),
        sa.Column("practice_hours", sa.Float(), nullable=False),
        sa.Column("credits", sa.Float(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("pass_rate", sa.Float(), nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.Column("reported_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("signin_open", sa.Boolean(), nullable=False),
        sa.Column("signin_nonce", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "credits >= 0 AND credits <= 30", name=op.f("ck_execution_reports_credits_range")
        ),
        sa.CheckConstraint(
            "end_date >= start_date", name=op.f("ck_execution_reports_dates_ordered")
        ),
        sa.CheckConstraint("learners >= 0", name=op.f("ck_execution_reports_learners_range")),
        sa.CheckConstraint(
            "pass_rate IS NULL OR (pass_rate >= 0 AND pass_rate <= 100)",
            name=op.f("ck_execution_reports_pass_rate_range"),
        ),
        sa.CheckConstraint(
            "theory_hours >= 0 AND practice_hours >= 0",
            name=op.f("ck_execution_reports_hours_range"),
        ),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["units.id"], name=op.f("fk_execution_reports_committee_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["owner_unit_id"], ["units.id"], name=op.f("fk_execution_reports_owner_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_execution_reports_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["society_id"], ["units.id"], name=op.f("fk_execution_reports_society_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution_reports")),
        sa.UniqueConstraint("project_id", name=op.f("uq_execution_reports_project_id")),
    )
    with op.batch_alter_table("execution_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_execution_reports_committee_state_year",
            ["committee_id", "state", "year"],
            unique=False,
        )
        batch_op.create_index(
            "ix_execution_reports_committee_updated",
            ["committee_id", "updated_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_execution_reports_owner_state_year",
            ["owner_unit_id", "state", "year"],
            unique=False,
        )
        batch_op.create_index(
            "ix_execution_reports_owner_updated",
            ["owner_unit_id", "updated_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_execution_reports_society_state_year", ["society_id", "state", "year"], unique=False
        )
        batch_op.create_index(
            "ix_execution_reports_society_updated", ["society_id", "updated_at", "id"], unique=False
        )
        batch_op.create_index("ix_execution_reports_state_due", ["state", "due_date"], unique=False)

    op.create_table(
        "execution_lecturers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=50), nullable=True),
        sa.Column("unit", sa.String(length=200), nullable=True),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["execution_reports.id"],
            name=op.f("fk_execution_lecturers_report_id_execution_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution_lecturers")),
    )
    with op.batch_alter_table("execution_lecturers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_execution_lecturers_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "execution_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["execution_reports.id"],
            name=op.f("fk_execution_snapshots_report_id_execution_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution_snapshots")),
    )
    with op.batch_alter_table("execution_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_execution_snapshots_report_id_id", ["report_id", "id"], unique=False
        )

    op.create_table(
        "roster_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column(
            "id_type",
            sa.Enum(
                "resident",
                "permit",
                "passport",
                name="id_type",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("id_number", sa.String(length=32), nullable=False),
        sa.Column("workplace", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=50), nullable=True),
        sa.Column("license_no", sa.String(length=40), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("credits", sa.Float(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "panel",
                "import",
                "signin",
                name="roster_source",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "credits >= 0 AND credits <= 30", name=op.f("ck_roster_entries_credits_range")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["execution_reports.id"],
            name=op.f("fk_roster_entries_report_id_execution_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_entries")),
        sa.UniqueConstraint("report_id", "id_number", name="uq_roster_entries_report_id_id_number"),
    )
    with op.batch_alter_table("roster_entries", schema=None) as batch_op:
        batch_op.create_index("ix_roster_entries_id_number", ["id_number"], unique=False)
        batch_op.create_index("ix_roster_entries_report_id_id", ["report_id", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("roster_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_roster_entries_report_id_id")
        batch_op.drop_index("ix_roster_entries_id_number")

    op.drop_table("roster_entries")
    with op.batch_alter_table("execution_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_execution_snapshots_report_id_id")

    op.drop_table("execution_snapshots")
    with op.batch_alter_table("execution_lecturers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_execution_lecturers_report_id"))

    op.drop_table("execution_lecturers")
    with op.batch_alter_table("execution_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_execution_reports_state_due")
        batch_op.drop_index("ix_execution_reports_society_updated")
        batch_op.drop_index("ix_execution_reports_society_state_year")
        batch_op.drop_index("ix_execution_reports_owner_updated")
        batch_op.drop_index("ix_execution_reports_owner_state_year")
        batch_op.drop_index("ix_execution_reports_committee_updated")
        batch_op.drop_index("ix_execution_reports_committee_state_year")

    op.drop_table("execution_reports")
    with op.batch_alter_table("execution_events", schema=None) as batch_op:
        batch_op.drop_index("ix_execution_events_report_id_id")
        batch_op.drop_index(batch_op.f("ix_execution_events_owner_unit_id"))

    op.drop_table("execution_events")
    op.drop_table("execution_deadlines")
