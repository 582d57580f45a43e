"""Disciplines per committee: each tree keeps its own list.

Existing rows go to the first committee; every further committee gets a copy
of the list, and its projects are pointed at its own copies. Without any
committee there can be no project, and the unused rows are dropped.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

units = sa.table("units", sa.column("id", sa.Integer), sa.column("kind", sa.String))
disciplines = sa.table(
    "disciplines",
    sa.column("id", sa.Integer),
    sa.column("committee_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("sort_order", sa.Integer),
    sa.column("active", sa.Boolean),
)
projects = sa.table(
    "projects",
    sa.column("id", sa.Integer),
    sa.column("committee_id", sa.Integer),
    sa.column("discipline_id", sa.Integer),
)


def upgrade():
    with op.batch_alter_table("disciplines") as batch_op:
        batch_op.add_column(sa.Column("committee_id", sa.Integer(), nullable=True))
        # Names repeat across committees from now on.
        batch_op.drop_constraint("uq_disciplines_name", type_="unique")

    bind = op.get_bind()
    committees = list(
        bind.scalars(sa.select(units.c.id).where(units.c.kind == "committee").order_by(units.c.id))
    )
    rows = list(
        bind.execute(
            sa.select(
                disciplines.c.id, disciplines.c.name, disciplines.c.sort_order, disciplines.c.active
            ).order_by(disciplines.c.id)
        )
    )
    if not committees:
        bind.execute(sa.delete(disciplines))
    else:
        first, *others = committees
        bind.execute(sa.update(disciplines).values(committee_id=first))
        for committee in others:
            for row in rows:
                copy_id = bind.execute(
                    sa.insert(disciplines)
                    .values(
                        committee_id=committee,
                        name=row.name,
                        sort_order=row.sort_order,
                        active=row.active,
                    )
                    .returning(disciplines.c.id)
                ).scalar_one()
                bind.execute(
                    sa.update(projects)
                    .where(projects.c.committee_id == committee, projects.c.discipline_id == row.id)
                    .values(discipline_id=copy_id)
                )

    with op.batch_alter_table("disciplines") as batch_op:
        batch_op.alter_column("committee_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_disciplines_committee_id_units"), "units", ["committee_id"], ["id"]
        )
        batch_op.create_unique_constraint(
            "uq_disciplines_committee_id_name", ["committee_id", "name"]
        )
        batch_op.create_index(
            batch_op.f("ix_disciplines_committee_id"), ["committee_id"], unique=False
        )


def downgrade():
    # One global list again: each name keeps its oldest row, projects follow it.
    bind = op.get_bind()
    oldest = sa.select(disciplines.c.name, sa.func.min(disciplines.c.id))
    keep = dict(bind.execute(oldest.group_by(disciplines.c.name)).all())
    for row in bind.execute(sa.select(disciplines.c.id, disciplines.c.name)).all():
        if keep[row.name] != row.id:
            bind.execute(
                sa.update(projects)
                .where(projects.c.discipline_id == row.id)
                .values(discipline_id=keep[row.name])
            )
            bind.execute(sa.delete(disciplines).where(disciplines.c.id == row.id))
    with op.batch_alter_table("disciplines") as batch_op:
        batch_op.drop_index(batch_op.f("ix_disciplines_committee_id"))
        batch_op.drop_constraint("uq_disciplines_committee_id_name", type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_disciplines_committee_id_units"), type_="foreignkey"
        )
        batch_op.drop_column("committee_id")
        batch_op.create_unique_constraint(batch_op.f("uq_disciplines_name"), ["name"])
