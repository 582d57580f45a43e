"""Disciplines (学科): each committee keeps its own list; no tree reads or
changes another's."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base

# A sensible default list, after the second-level disciplines used on the
# national CME project lists.
DEFAULT_DISCIPLINES = (
    "基础医学",
    "临床内科学",
    "临床外科学",
    "妇产科学",
    "儿科学",
    "眼、耳鼻喉科学",
    "口腔医学",
    "急诊学",
    "全科医学",
    "影像医学",
    "医学检验",
    "麻醉学",
    "康复医学",
    "护理学",
    "公共卫生与预防医学",
    "药学",
    "中医学",
    "中西医结合",
    "针灸学",
    "医学教育与卫生管理",
)


class Discipline(Base):
    __tablename__ = "disciplines"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The committee (top of a tree) whose list this is.
    committee_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        UniqueConstraint("committee_id", "name", name="uq_disciplines_committee_id_name"),
    )

    def __str__(self) -> str:
        return self.name


def seed_default_disciplines(session: Session, committee_id: int) -> dict[str, Discipline]:
    """Give a committee the default list (the names it lacks), and return its
    list by name: a new committee starts with a usable project form."""
    existing = {
        d.name: d
        for d in session.scalars(select(Discipline).where(Discipline.committee_id == committee_id))
    }
    for order, name in enumerate(DEFAULT_DISCIPLINES):
        if name not in existing:
            existing[name] = Discipline(committee_id=committee_id, name=name, sort_order=order)
            session.add(existing[name])
    session.flush()
    return existing
