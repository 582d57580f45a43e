"""Credit certificates (学分证书) and teaching certificates (授课证明), issued when
a report's roster is accepted, verifiable by anyone by their code, revoked by
themselves when what they certify is undone. docs/domain.md#证书.

A certificate copies what it certifies when it is issued (learner, project,
credits, organiser, committee): it reads the same after the roster, the report
or the project changed, and it is never deleted — only revoked, with the date
and the reason. ``certificates.issuing`` writes and revokes them;
``certificates.numbering`` hands out the numbers.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TitledEnum, beijing_today, utcnow
from models.project import ProjectLevel, _enum_type


class CertificateKind(TitledEnum):
    CREDIT = "credit", _l("Credit certificate")  # 学分证书, one per learner with credits
    TEACHING = "teaching", _l("Teaching certificate")  # 授课证明, one per lecturer


class CertificateStatus(TitledEnum):
    VALID = "valid", _l("Valid")
    REVOKED = "revoked", _l("Revoked")


class CreditCategory(TitledEnum):
    """学分类别: every project filed here (国家级, 北京市级, 学（协）会Ⅰ类) awards Ⅰ类."""

    CLASS_I = "class_i", _l("Class I credits")
    CLASS_II = "class_ii", _l("Class II credits")


class RevokeCause(TitledEnum):
    """Why a certificate was revoked (besides the reason the actor typed)."""

    WITHDRAWN = "withdrawn", _l("The project's publication was withdrawn")  # 撤销公布
    # Its report set back to modifiable after acceptance.
    RETURNED = "returned", _l("The execution report was set back to modifiable")
    # Its learner removed from a corrected roster.
    REMOVED = "removed", _l("The learner was removed from the roster")
    BY_HAND = "by_hand", _l("Revoked by the committee")


class Certificate(Base):
    """One certificate: what it certifies, copied when issued, and its status."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer)
    # The committee's counter for the year (gap-free, never reused) and the
    # number printed from it in the committee's format.
    serial: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40))
    # What the QR code carries: random (``secrets``), 128 bits, URL-safe.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[CertificateKind] = mapped_column(_enum_type(CertificateKind, "certificate_kind"))
    status: Mapped[CertificateStatus] = mapped_column(
        _enum_type(CertificateStatus, "certificate_status"), default=CertificateStatus.VALID
    )

    # Who may see it in the panel: the report's review chain (copied, as a report copies).
    report_id: Mapped[int] = mapped_column(ForeignKey("execution_reports.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    society_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    # The roster row or lecturer it was issued for (no foreign key: a corrected
    # roster may lose the row; the certificate stays, revoked).
    roster_entry_id: Mapped[int | None] = mapped_column(Integer)
    lecturer_id: Mapped[int | None] = mapped_column(Integer)

    # The holder. A learner's ID number is stored whole (a learner finds their
    # record by it) and shown masked everywhere (``models.rules.mask_id_number``).
    name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str | None] = mapped_column(String(32))
    workplace: Mapped[str | None] = mapped_column(String(200))

    # What it certifies.
    project_name: Mapped[str] = mapped_column(String(200))
    project_no: Mapped[str | None] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(16))
    category: Mapped[CreditCategory] = mapped_column(
        _enum_type(CreditCategory, "credit_category"), default=CreditCategory.CLASS_I
    )
    credits: Mapped[float] = mapped_column(Float, default=0)
    topic: Mapped[str | None] = mapped_column(String(200))
    hours: Mapped[float | None] = mapped_column(Float)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    organiser: Mapped[str] = mapped_column(String(200))
    committee_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(100))

    issued_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoke_cause: Mapped[RevokeCause | None] = mapped_column(
        _enum_type(RevokeCause, "revoke_cause")
    )
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("committee_id", "year", "serial", name="uq_certificates_serial"),
        UniqueConstraint("committee_id", "number", name="uq_certificates_number"),
        Index("ix_certificates_report_id_id", "report_id", "id"),
        Index("ix_certificates_project_id", "project_id"),
        # A learner's record (学分记录): by ID number, then the name must match.
        Index("ix_certificates_id_number", "id_number"),
        # The paper copy's check (number + name) across committees.
        Index("ix_certificates_number", "number"),
        Index("ix_certificates_owner_issued", "owner_unit_id", "issued_at", "id"),
        Index("ix_certificates_society_issued", "society_id", "issued_at", "id"),
        Index("ix_certificates_committee_issued", "committee_id", "issued_at", "id"),
        CheckConstraint("credits >= 0 AND credits <= 30", name="credits_range"),
        CheckConstraint("(status = 'revoked') = (revoked_at IS NOT NULL)", name="revoked_has_date"),
    )

    def __str__(self) -> str:
        return self.number

    @property
    def is_valid(self) -> bool:
        return CertificateStatus(self.status) is CertificateStatus.VALID

    @property
    def level_title(self):
        """The project level's title (项目级别), as every screen and the PDF print it."""
        try:
            return ProjectLevel(self.level).title
        except ValueError:
            return self.level or ""

    @property
    def revoked_on(self) -> date | None:
        """The day of the revocation in Beijing (``revoked_at`` is naive UTC), as the
        verification page, the API and the PDF say it."""
        return beijing_today(self.revoked_at) if self.revoked_at else None


class CertificateEvent(Base):
    """A certificate's history: issued, revoked (with the reason). Immutable."""

    __tablename__ = "certificate_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"))
    action: Mapped[str] = mapped_column(String(16))  # "issue" | "revoke"
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_certificate_events_certificate_id_id", "certificate_id", "id"),)


@event.listens_for(CertificateEvent, "before_update")
@event.listens_for(CertificateEvent, "before_delete")
@event.listens_for(Certificate, "before_delete")
def _never_deleted(mapper, connection, target) -> None:
    raise AttributeError("certificates are revoked, never deleted; their history is immutable")


class CertificateCounter(Base):
    """The last serial handed out per committee and year: never reused."""

    __tablename__ = "certificate_counters"

    committee_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


DEFAULT_NUMBER_FORMAT = "BJCME-{year}-{serial:06d}"
# Above the kind line (学分证书 or 授课证明), so it reads right for both.
DEFAULT_CERTIFICATE_TITLE = "北京市继续医学教育证书"


class CertificateSettings(Base):
    """A committee's certificate settings (证书设置): the number format, the
    title line, and its seal's image."""

    __tablename__ = "certificate_settings"

    committee_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    number_format: Mapped[str] = mapped_column(String(60), default=DEFAULT_NUMBER_FORMAT)
    title: Mapped[str] = mapped_column(String(100), default=DEFAULT_CERTIFICATE_TITLE)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Seal(Base):
    """A unit's seal (印章) as printed on its certificates: a PNG, validated and
    size-limited when uploaded (``certificates.seals``). The committee uploads
    its own and its organisers'."""

    __tablename__ = "seals"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    png: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
