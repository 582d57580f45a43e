"""Disciplines (学科): a list the committee maintains."""

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

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
    name: Mapped[str] = mapped_column(String(100), unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return self.name
