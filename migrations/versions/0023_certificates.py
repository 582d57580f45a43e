"""Certificates (证书): the certificates issued when a report's roster is accepted,
their history (issued, revoked), the per committee and year counter their
serials come from, the committee's certificate settings and the units' seals.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificate_counters",
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["units.id"], name=op.f("fk_certificate_counters_committee_id_units")
        ),
        sa.PrimaryKeyConstraint("committee_id", "year", name=op.f("pk_certificate_counters")),
    )
    op.create_table(
        "certificate_settings",
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("number_format", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["units.id"], name=op.f("fk_certificate_settings_committee_id_units")
        ),
        sa.PrimaryKeyConstraint("committee_id", name=op.f("pk_certificate_settings")),
    )
    op.create_table(
        "seals",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_seals_unit_id_units")),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_seals")),
    )
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "credit",
                "teaching",
                name="certificate_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "valid",
                "revoked",
                name="certificate_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("owner_unit_id", sa.Integer(), nullable=False),
        sa.Column("society_id", sa.Integer(), nullable=True),
        sa.Column("roster_entry_id", sa.Integer(), nullable=True),
        sa.Column("lecturer_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("id_number", sa.String(length=32), nullable=True),
        sa.Column("workplace", sa.String(length=200), nullable=True),
        sa.Column("project_name", sa.String(length=200), nullable=False),
        sa.Column("project_no", sa.String(length=40), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "class_i",
                "class_ii",
                name="credit_category",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("credits", sa.Float(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=True),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("organiser", sa.String(length=200), nullable=False),
        sa.Column("committee_name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column(
            "revoke_cause",
            sa.Enum(
                "withdrawn",
                "returned",
                "removed",
                "by_hand",
                name="revoke_cause",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(status = 'revoked') = (revoked_at IS NOT NULL)",
            name=op.f("ck_certificates_revoked_has_date"),
        ),
        sa.CheckConstraint(
            "credits >= 0 AND credits <= 30", name=op.f("ck_certificates_credits_range")
        ),
        sa.ForeignKeyConstraint(
            ["committee_id"], ["units.id"], name=op.f("fk_certificates_committee_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["owner_unit_id"], ["units.id"], name=op.f("fk_certificates_owner_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_certificates_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["execution_reports.id"],
            name=op.f("fk_certificates_report_id_execution_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["society_id"], ["units.id"], name=op.f("fk_certificates_society_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("code", name=op.f("uq_certificates_code")),
        sa.UniqueConstraint("committee_id", "number", name="uq_certificates_number"),
        sa.UniqueConstraint("committee_id", "year", "serial", name="uq_certificates_serial"),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_certificates_committee_issued", ["committee_id", "issued_at", "id"], unique=False
        )
        batch_op.create_index("ix_certificates_id_number", ["id_number"], unique=False)
        batch_op.create_index("ix_certificates_number", ["number"], unique=False)
        batch_op.create_index(
            "ix_certificates_owner_issued", ["owner_unit_id", "issued_at", "id"], unique=False
        )
        batch_op.create_index("ix_certificates_project_id", ["project_id"], unique=False)
        batch_op.create_index("ix_certificates_report_id_id", ["report_id", "id"], unique=False)
        batch_op.create_index(
            "ix_certificates_society_issued", ["society_id", "issued_at", "id"], unique=False
        )

    op.create_table(
        "certificate_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_unit_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_certificate_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["actor_unit_id"], ["units.id"], name=op.f("fk_certificate_events_actor_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_events_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_events")),
    )
    with op.batch_alter_table("certificate_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_certificate_events_certificate_id_id", ["certificate_id", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("certificate_events", schema=None) as batch_op:
        batch_op.drop_index("ix_certificate_events_certificate_id_id")

    op.drop_table("certificate_events")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index("ix_certificates_society_issued")
        batch_op.drop_index("ix_certificates_report_id_id")
        batch_op.drop_index("ix_certificates_project_id")
        batch_op.drop_index("ix_certificates_owner_issued")
        batch_op.drop_index("ix_certificates_number")
        batch_op.drop_index("ix_certificates_id_number")
        batch_op.drop_index("ix_certificates_committee_issued")

    op.drop_table("certificates")
    op.drop_table("seals")
    op.drop_table("certificate_settings")
    op.drop_table("certificate_counters")
