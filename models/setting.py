"""Values an installation keeps in its own database, one row per name."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Setting(Base):
    """A named value: for example the fingerprint of the password salt the accounts were
    created with (``password_salt``), so that a command run with another salt is refused."""

    __tablename__ = "settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
