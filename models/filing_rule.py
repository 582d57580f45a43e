"""Filing rules (备案规则): what a committee checks before a project of its tree
moves up, per year, and the warnings a project moved with.

The settings live here; the checks themselves are ``workflow.filing_rules``. A
committee that has set no rule for a year checks nothing that year.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamps, TitledEnum, enum_type, utcnow
from models.project import Project


class RuleKind(TitledEnum):
    DEADLINE = "deadline", _l("Filing deadline")
    CREDITS = "credits", _l("Credits and hours")
    DUPLICATE = "duplicate", _l("Duplicate project")
    QUOTA = "quota", _l("Principal's yearly quota")
    LECTURERS = "lecturers", _l("Lecturers")
    OVERDUE_REPORTS = "overdue_reports", _l("Overdue execution reports")

    @property
    def help(self):
        return RULE_HELP[self]


RULE_HELP = {
    RuleKind.DEADLINE: _l(
        "A project is reported at least the given number of days before its start date."
    ),
    RuleKind.CREDITS: _l(
        "Credits are at most the total hours divided by the hours per credit, and at most"
        " the level's maximum."
    ),
    RuleKind.DUPLICATE: _l(
        "No project of the same name, nor of the same principal with overlapping dates,"
        " already filed in the committee's tree that year."
    ),
    RuleKind.QUOTA: _l("A principal leads at most the given number of filed projects a year."),
    RuleKind.LECTURERS: _l("At least one lecturer, each with a title."),
    RuleKind.OVERDUE_REPORTS: _l(
        "When an entry unit reports a new project, it has no execution report overdue by"
        " more than the given number of days (a published project whose report is not"
        " reported upward by its due date)."
    ),
}


class Severity(TitledEnum):
    BLOCK = "block", _l("Block (cannot be reported or published)")
    WARN = "warn", _l("Warn (moves, reviewers see a warning)")


# Each kind's parameters and their defaults; a rule row stores only these keys.
DEFAULT_PARAMS: dict[RuleKind, dict[str, Any]] = {
    RuleKind.DEADLINE: {"days": 14},
    RuleKind.CREDITS: {
        "hours_per_credit": 3,
        "max_national": 10,
        "max_beijing": 10,
        "max_society_i": 10,
    },
    RuleKind.DUPLICATE: {},
    RuleKind.QUOTA: {"max_projects": 3},
    RuleKind.LECTURERS: {},
    RuleKind.OVERDUE_REPORTS: {"overdue_days": 30},
}


_enum = enum_type


class FilingRule(Timestamps, Base):
    """One rule of one committee for one year: on or off, blocking or warning,
    with its parameters (``DEFAULT_PARAMS`` gives the keys)."""

    __tablename__ = "filing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[RuleKind] = mapped_column(_enum(RuleKind, "rule_kind"))
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "severity"), default=Severity.WARN)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)

    __table_args__ = (UniqueConstraint("committee_id", "year", "kind"),)

    def param(self, name: str):
        """The parameter's value, or its default when the row predates it."""
        return (self.params or {}).get(name, DEFAULT_PARAMS[self.kind][name])


class ProjectWarning(Base):
    """The warning-severity rules a project broke when it last moved up (reported
    or published), one row per project: shown to every reviewer above it until it
    moves up again.

    ``warnings`` lists ``{"kind", "code", "params"}`` (``workflow.filing_rules.Violation``);
    a duplicate names the other project by id, so that each reader sees its name
    only if they may see that project."""

    __tablename__ = "project_warnings"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# The duplicate and quota checks look other projects up by committee, year and
# name or principal: index probes, not a scan of the committee's year.
Index("ix_projects_committee_year_name", Project.committee_id, Project.year, Project.name)
Index(
    "ix_projects_committee_year_principal",
    Project.committee_id,
    Project.year,
    Project.principal,
)
