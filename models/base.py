"""Declarative base shared by every model, with stable constraint names; the enums'
base classes, the column type they are stored with, and the columns and helpers several
models share."""

import enum
from datetime import UTC, date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, Enum, MetaData, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Naive UTC, stored the same way on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


# The users' clock: Beijing, UTC+8 all year (no daylight saving).
BEIJING_OFFSET_HOURS = 8


def beijing_today(now: datetime | None = None) -> date:
    """Today's date in Beijing (``now``: a naive UTC time, default the clock): the day
    due dates, overdue marks and sign-in days are counted in."""
    return ((now or utcnow()) + timedelta(hours=BEIJING_OFFSET_HOURS)).date()


class TitledEnum(enum.StrEnum):
    """A StrEnum whose members carry their title, the words every screen shows for them:
    ``DRAFT = "draft", _l("Not reported")`` is the member ``"draft"`` (its value, stored
    and compared as the string), titled ``_l("Not reported")``."""

    def __new__(cls, value: str, title):
        member = str.__new__(cls, value)
        member._value_ = value
        member._title = title
        return member

    @property
    def title(self):
        return self._title


class ReviewState(TitledEnum):
    """The states of what goes up the review chain (a project, an execution report): its
    owner unit holds it, and may change it, while it is not reported yet or returned."""

    @property
    def modifiable(self) -> bool:
        """修改状态: the owner unit holds (and may change) it."""
        return self.value in ("draft", "returned")

    @property
    def modifiable_title(self):
        return _l("Modifiable") if self.modifiable else _l("Not modifiable")


def enum_type(cls, name: str, length: int = 16) -> Enum:
    """A column type for a StrEnum: its values stored as strings (not a native enum),
    with a named CHECK constraint listing them, the same on SQLite and PostgreSQL."""
    return Enum(
        cls,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        create_constraint=True,
        name=name,
    )


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


def immutable(*models, what: str) -> None:
    """Refuse every UPDATE and DELETE of ``models``' rows through the ORM (history that is
    written once): ``AttributeError("<what> is immutable")``."""

    def refuse(mapper, connection, target) -> None:
        raise AttributeError(f"{what} is immutable")

    for model in models:
        event.listen(model, "before_update", refuse)
        event.listen(model, "before_delete", refuse)


INTEGER, NUMBER, DATE = "integer", "number", "date"


def field_kinds(model, fields) -> dict[str, object]:
    """How each of ``fields`` of ``model`` is read and shown, from its column's type:
    ``INTEGER``, ``NUMBER`` (a float), ``DATE``, the column's enum class, or nothing
    (text). The import's cell parsing and the diff's formatting read this instead of
    keeping lists of their own."""
    kinds: dict[str, object] = {}
    for name in fields:
        column = model.__table__.columns.get(name)
        if column is None:
            continue
        enum_class = getattr(column.type, "enum_class", None)
        python_type = None if enum_class else _python_type(column.type)
        kind = enum_class or {int: INTEGER, float: NUMBER, date: DATE}.get(python_type)
        if kind is not None:
            kinds[name] = kind
    return kinds


def _python_type(column_type):
    try:
        return column_type.python_type
    except NotImplementedError:
        return None
