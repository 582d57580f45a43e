"""Units (单位): the committee → society → branch / issuer tree (docs/domain.md#units)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Timestamps, TitledEnum


class UnitKind(TitledEnum):
    COMMITTEE = "committee", _l("CME committee")
    SOCIETY = "society", _l("Society headquarters")
    BRANCH = "branch", _l("Society branch")
    ISSUER = "issuer", _l("Certificate-issuing unit")

    @property
    def is_entry(self) -> bool:
        """Entry units (立项单位) own projects; the others administer."""
        return self in (UnitKind.BRANCH, UnitKind.ISSUER)

    @property
    def parent_kind(self) -> UnitKind | None:
        return PARENT_KIND[self]


PARENT_KIND = {
    UnitKind.COMMITTEE: None,
    UnitKind.SOCIETY: UnitKind.COMMITTEE,
    UnitKind.ISSUER: UnitKind.COMMITTEE,
    UnitKind.BRANCH: UnitKind.SOCIETY,
}

unit_kind_type = Enum(
    UnitKind,
    native_enum=False,
    length=16,
    values_callable=lambda kinds: [k.value for k in kinds],
    validate_strings=True,
    create_constraint=True,
    name="kind",
)


class Unit(Timestamps, Base):
    """A node of the tree. ``root_id`` is the committee at the top (NULL for a
    committee itself), so "everything in my tree" is one indexed equality, the
    same on SQLite and PostgreSQL; depth is bounded at 3."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[UnitKind] = mapped_column(unit_kind_type)
    parent_id: Mapped[int | None] = mapped_column()
    # Copied from the parent so that the database itself can check the
    # kind/parent combinations through the composite foreign key below.
    parent_kind: Mapped[UnitKind | None] = mapped_column(
        Enum(
            UnitKind,
            native_enum=False,
            length=16,
            values_callable=lambda kinds: [k.value for k in kinds],
            create_constraint=False,
        )
    )
    root_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    address: Mapped[str] = mapped_column(String(200))
    manager: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(40))
    postal_code: Mapped[str] = mapped_column(String(6))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Unit | None] = relationship(
        remote_side=[id],
        foreign_keys=[parent_id],
        back_populates="children",
    )
    children: Mapped[list[Unit]] = relationship(
        foreign_keys=[parent_id],
        back_populates="parent",
        overlaps="parent",
        order_by="Unit.name",
    )

    __table_args__ = (
        UniqueConstraint("id", "kind", name="uq_units_id_kind"),
        ForeignKeyConstraint(
            ["parent_id", "parent_kind"],
            ["units.id", "units.kind"],
            name="fk_units_parent_units",
        ),
        UniqueConstraint("parent_id", "name", name="uq_units_parent_id_name"),
        Index(
            "uq_units_root_name",
            "name",
            unique=True,
            sqlite_where=text("parent_id IS NULL"),
            postgresql_where=text("parent_id IS NULL"),
        ),
        Index("ix_units_parent_id_kind", "parent_id", "kind"),
        CheckConstraint(
            "(kind = 'committee' AND parent_id IS NULL AND root_id IS NULL)"
            " OR (kind IN ('society', 'issuer') AND parent_kind = 'committee'"
            " AND parent_id IS NOT NULL AND root_id IS NOT NULL AND root_id = parent_id)"
            " OR (kind = 'branch' AND parent_kind = 'society' AND parent_id IS NOT NULL"
            " AND root_id IS NOT NULL)",
            name="kind_parent",
        ),
        CheckConstraint("length(postal_code) = 6", name="postal_code_length"),
    )

    def __str__(self) -> str:
        return self.name

    @property
    def society_id(self) -> int | None:
        """The society a branch belongs to (the unit that reviews its projects)."""
        return self.parent_id if self.kind is UnitKind.BRANCH else None

    @property
    def committee_id(self) -> int:
        return self.id if self.kind is UnitKind.COMMITTEE else self.root_id


@event.listens_for(Unit, "before_insert")
def _derive_tree_columns(mapper, connection, unit: Unit) -> None:
    parent = unit.parent
    if unit.kind.parent_kind is not (parent.kind if parent is not None else None):
        raise ValueError(f"a {unit.kind} unit cannot be placed under {parent or 'nothing'}")
    if parent is None:
        unit.parent_kind = None
        unit.root_id = None
        return
    unit.parent_kind = parent.kind
    unit.root_id = parent.root_id or parent.id


@event.listens_for(Unit, "before_update")
def _freeze_tree_position(mapper, connection, unit: Unit) -> None:
    from sqlalchemy import inspect

    state = inspect(unit)
    for name in ("kind", "parent_id", "parent"):
        if state.attrs[name].history.has_changes():
            raise ValueError("a unit's kind and parent cannot change after creation")
