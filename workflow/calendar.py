"""The filing calendar (申报时间): which window a unit's step of a year falls in.

A committee sets, per year, a window for each ``WindowStep``; a society may close
the entry units' step earlier for its own branches (its cut-off never later than
the committee's close); a named exception (``WindowException``) gives one unit a
later last day until it expires. A step with no window set for its year is open.

``windows_for`` resolves many (unit, step, year) questions at once in two
statements (the windows of the committees' years, the units' exceptions), so
that a bulk action of 500 rows and a reminder run over 2,000 units cost the same
number of statements as one row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import FilingWindow, UnitKind, WindowException, WindowStep
from permissions.relations import OWNERS, Relation
from workflow.transitions import Action

# The step an action takes, by the actor's relation to the project.
STEP_OF = {
    (Action.REPORT, Relation.OWNER_BRANCH): WindowStep.ENTRY_REPORT,
    (Action.REPORT, Relation.OWNER_ISSUER): WindowStep.ENTRY_REPORT,
    (Action.REPORT, Relation.SOCIETY): WindowStep.SOCIETY_REPORT,
    (Action.PUBLISH, Relation.COMMITTEE): WindowStep.AUDIT,
}


def step_of(action: Action, relation: Relation | None) -> WindowStep | None:
    """The window step ``action`` takes for an actor of ``relation``, or None (a
    step without a window: sending back, editing, deleting…)."""
    return STEP_OF.get((action, relation))


@dataclass(frozen=True)
class Ask:
    """One question: may ``unit_id`` take ``step`` for projects of ``year``?
    ``society_id`` is the branch's society (its cut-off applies to the entry
    step); ``kind`` names the step in the refusal (分会上报, 发放证书单位上报…)."""

    unit_id: int
    committee_id: int
    step: WindowStep
    year: int
    society_id: int | None = None
    kind: UnitKind | None = None


def ask_for(unit, step: WindowStep, year: int) -> Ask:
    """The question for a unit object (an account's unit)."""
    return Ask(
        unit_id=unit.id,
        committee_id=unit.committee_id,
        step=step,
        year=year,
        society_id=unit.society_id,
        kind=unit.kind,
    )


def ask_for_row(row, relation: Relation, step: WindowStep) -> Ask:
    """The question for an engine row (``engine.ROW_COLUMNS``) and the actor's
    relation to it: the entry step is the owner's, the society's step its society's,
    the audit the committee's."""
    if relation in OWNERS:
        kind = UnitKind.BRANCH if relation is Relation.OWNER_BRANCH else UnitKind.ISSUER
        return Ask(row.owner_unit_id, row.committee_id, step, row.year, row.society_id, kind)
    if relation is Relation.SOCIETY:
        return Ask(row.society_id, row.committee_id, step, row.year, None, UnitKind.SOCIETY)
    return Ask(row.committee_id, row.committee_id, step, row.year, None, UnitKind.COMMITTEE)


@dataclass(frozen=True)
class Grant:
    """The exception that extends a unit's window: its id, last day and reason."""

    id: int
    until: date
    reason: str
    granted_by_unit_id: int


@dataclass(frozen=True)
class Window:
    """A unit's window for one step of one year, as it stands.

    ``closes_on`` is the unit's own close: the committee's, or its society's
    earlier cut-off (``cut_off`` True); ``grant`` a valid exception's later day."""

    step: WindowStep
    year: int
    opens_on: date | None
    closes_on: date
    committee_closes_on: date
    cut_off: bool = False
    grant: Grant | None = None
    kind: UnitKind | None = None

    @property
    def last_day(self) -> date:
        """The last day the step may be taken (an exception's, when later)."""
        if self.grant is not None and self.grant.until > self.closes_on:
            return self.grant.until
        return self.closes_on

    def is_open(self, day: date) -> bool:
        return (self.opens_on is None or self.opens_on <= day) and day <= self.last_day

    def days_left(self, day: date) -> int:
        """Days from ``day`` to the last day (0 on the last day, negative after it)."""
        return (self.last_day - day).days

    def late(self, day: date) -> bool:
        """Taken after the unit's own close, under an exception."""
        return day > self.closes_on and self.is_open(day)

    @property
    def label(self) -> str:
        """The step in the manual's words, for the unit kind that takes it."""
        return step_label(self.step, self.kind)

    def refusal(self, day: date) -> str | None:
        """Why the step is refused on ``day`` (a Chinese sentence), or None."""
        if self.opens_on is not None and day < self.opens_on:
            return gettext(
                "%(year)s %(step)s opens on %(day)s.",
                year=self.year,
                step=self.label,
                day=month_day(self.opens_on),
            )
        if day > self.last_day:
            return gettext(
                "%(year)s %(step)s closed on %(day)s.",
                year=self.year,
                step=self.label,
                day=month_day(self.last_day),
            )
        return None


def month_day(day: date) -> str:
    """11月10日 (the year is said before it)."""
    return gettext("%(month)s/%(day)s", month=day.month, day=day.day)


def step_label(step: WindowStep, kind: UnitKind | None) -> str:
    """The step's name by who takes it: the entry step is the branches' or the issuers'."""
    if step is WindowStep.ENTRY_REPORT and kind is UnitKind.BRANCH:
        return gettext("branch reporting")
    if step is WindowStep.ENTRY_REPORT and kind is UnitKind.ISSUER:
        return gettext("issuer reporting")
    return str(step.title)


def windows_for(session: Session, asks: Iterable[Ask], day: date) -> dict[Ask, Window]:
    """Each ask's window on ``day`` (an ask without a window for its year is left
    out: the step is open). Two statements whatever the number of asks.

    A society's exception never reaches past the committee's close; an exception
    that expired before ``day`` is ignored (its unit is back to its own close)."""
    asks = set(asks)
    if not asks:
        return {}
    committees = sorted({a.committee_id for a in asks})
    years = sorted({a.year for a in asks})
    set_windows = {
        (w.unit_id, w.year, WindowStep(w.step)): w
        for w in session.execute(
            select(
                FilingWindow.unit_id,
                FilingWindow.year,
                FilingWindow.step,
                FilingWindow.opens_on,
                FilingWindow.closes_on,
            ).where(FilingWindow.committee_id.in_(committees), FilingWindow.year.in_(years))
        )
    }
    wanted = {a for a in asks if (a.committee_id, a.year, a.step) in set_windows}
    if not wanted:
        return {}
    grants = _grants(session, wanted, day)
    found = {}
    for a in wanted:
        committee = set_windows[(a.committee_id, a.year, a.step)]
        closes_on, cut_off = committee.closes_on, False
        society = set_windows.get((a.society_id, a.year, a.step)) if a.society_id else None
        if society is not None and society.closes_on < closes_on:
            closes_on, cut_off = society.closes_on, True
        grant = grants.get((a.unit_id, a.step, a.year))
        if grant is not None and grant.granted_by_unit_id != a.committee_id:
            # A society grants inside the committee's window only.
            until = min(grant.until, committee.closes_on)
            grant = Grant(grant.id, until, grant.reason, grant.granted_by_unit_id)
        found[a] = Window(
            step=a.step,
            year=a.year,
            opens_on=committee.opens_on,
            closes_on=closes_on,
            committee_closes_on=committee.closes_on,
            cut_off=cut_off,
            grant=grant,
            kind=a.kind,
        )
    return found


def _grants(session: Session, asks: set[Ask], day: date) -> dict:
    """The latest valid exception of each (unit, step, year) asked: one statement."""
    stmt = (
        select(
            WindowException.id,
            WindowException.unit_id,
            WindowException.step,
            WindowException.year,
            WindowException.until,
            WindowException.reason,
            WindowException.granted_by_unit_id,
        )
        .where(
            WindowException.unit_id.in_(sorted({a.unit_id for a in asks})),
            WindowException.year.in_(sorted({a.year for a in asks})),
            WindowException.until >= day,
        )
        .order_by(WindowException.until, WindowException.id)
    )
    grants = {}
    for row in session.execute(stmt):
        # Ordered by day: the latest exception of a key wins.
        key = (row.unit_id, WindowStep(row.step), row.year)
        grants[key] = Grant(row.id, row.until, row.reason, row.granted_by_unit_id)
    return grants


__all__ = [
    "Ask",
    "Grant",
    "Window",
    "ask_for",
    "ask_for_row",
    "step_label",
    "step_of",
    "windows_for",
]
