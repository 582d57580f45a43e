"""The filing calendar (申报时间): which window a unit's step of a year falls in.

A committee sets, per year, a window for each ``WindowStep``; a society may close
the entry units' step earlier for its own branches (its cut-off never later than
the committee's close); a named exception (``WindowException``) gives one unit a
later last day until it expires. A step with no window set for its year is open.

``windows_for`` resolves many (unit, step, year) questions at once in one
statement (the windows of the committees' years with the units' exceptions), so
that a bulk action of 500 rows and a reminder run over 2,000 units cost the same
number of statements as one row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, literal, null, select, union_all
from sqlalchemy.orm import Session

from models import (
    AuditEntry,
    AuditEvent,
    FilingWindow,
    Unit,
    UnitKind,
    User,
    WindowException,
    WindowStep,
    rules,
)
from models.base import beijing_today
from permissions.relations import OWNERS, Relation, relation
from workflow.engine import EVENT_NOTES
from workflow.errors import NotAllowed, WorkflowError
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
    out: the step is open). One statement whatever the number of asks: the windows
    of the committees' years and the units' exceptions valid on ``day``, read together.

    A society's exception never reaches past the committee's close; an exception
    that expired before ``day`` is ignored (its unit is back to its own close)."""
    asks = set(asks)
    if not asks:
        return {}
    set_windows, grants = _read_windows(session, asks, day)
    found = {}
    for a in asks:
        committee = set_windows.get((a.committee_id, a.year, a.step))
        if committee is None:
            continue
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


@dataclass(frozen=True)
class _SetWindow:
    opens_on: date | None
    closes_on: date


def _read_windows(session: Session, asks: set[Ask], day: date) -> tuple[dict, dict]:
    """({(unit, year, step): _SetWindow}, {(unit, step, year): Grant}): the windows set
    for the asked committees' years, and the latest exception of each (unit, step,
    year) asked still valid on ``day``, in one ``UNION ALL``."""
    years = sorted({a.year for a in asks})
    windows = select(
        literal("w").label("source"),
        FilingWindow.unit_id,
        FilingWindow.year,
        FilingWindow.step,
        FilingWindow.opens_on,
        FilingWindow.closes_on,
        null().label("reason"),
        null().label("granted_by"),
        FilingWindow.id,
    ).where(
        FilingWindow.committee_id.in_(sorted({a.committee_id for a in asks})),
        FilingWindow.year.in_(years),
    )
    exceptions = select(
        literal("e"),
        WindowException.unit_id,
        WindowException.year,
        WindowException.step,
        null(),
        WindowException.until,
        WindowException.reason,
        WindowException.granted_by_unit_id,
        WindowException.id,
    ).where(
        WindowException.unit_id.in_(sorted({a.unit_id for a in asks})),
        WindowException.year.in_(years),
        WindowException.until >= day,
    )
    set_windows, grants = {}, {}
    rows = sorted(session.execute(union_all(windows, exceptions)), key=lambda r: (r[5], r[8]))
    for row in rows:
        source, unit_id, year, step, opens_on, closes_on, reason, granted_by, key = row
        step = WindowStep(step)
        if source == "w":
            set_windows[(unit_id, year, step)] = _SetWindow(opens_on, closes_on)
        else:
            # Sorted by day: the latest exception of a key wins.
            grants[(unit_id, step, year)] = Grant(key, closes_on, reason, granted_by)
    return set_windows, grants


# -- the check in the engine's moves ------------------------------------------------


def hold_outside_window(action, *, session, account, rows):
    """``hooks.checking``: hold back every row whose step (``step_of``) is outside
    the acting unit's window on Beijing's today, with the window's refusal
    ("2027 年度分会上报已于11月10日截止。"). Sending back and unlocking take no step,
    so reviewers can always return a project. One statement whatever the rows
    (none for an action without a step)."""
    session.info.pop(EVENT_NOTES, None)
    if account is None or not rows:
        return {}
    asks = _asks(action, account, rows)
    if not asks:
        return {}
    day = beijing_today()
    verdicts = _verdicts(windows_for(session, asks.values(), day), day)
    held, late = {}, {}
    names = {row.id: row.name for row in rows}
    for project_id, ask in asks.items():
        message, note = verdicts.get(ask, (None, None))
        if message is not None:
            held[project_id] = NotAllowed(message, project_id, names.get(project_id))
        elif note is not None:
            late[project_id] = note
    # The engine writes each late row's history event with its note (``EVENT_NOTES``).
    session.info[EVENT_NOTES] = late
    return held


def _asks(action, account, rows) -> dict:
    """Each row's ask (project id → the window it needs) for the rows whose step is
    one the action takes."""
    asks = {}
    for row in rows:
        rel = relation(account, row)
        step = step_of(action, rel)
        if step is not None:
            asks[row.id] = ask_for_row(row, rel, step)
    return asks


def _verdicts(found: dict, day: date) -> dict:
    """Each distinct ask's verdict on ``day``, worded once (a bulk action's rows share a
    few): (the window's refusal, None) when closed, (None, the note) when late under
    an exception; an ask open as usual has none."""
    verdicts = {}
    for ask, window in found.items():
        if (message := window.refusal(day)) is not None:
            verdicts[ask] = (message, None)
        elif window.late(day):
            verdicts[ask] = (None, late_note(window))
    return verdicts


def late_note(window: Window) -> str:
    """The history's note on a step taken under an exception."""
    return gettext(
        "Reported under a filing-window exception (until %(day)s: %(reason)s)",
        day=month_day(window.grant.until),
        reason=window.grant.reason,
    )


# -- setting windows and granting exceptions ------------------------------------------
# How far from its year a window's dates may lie: the year before (the national system
# opens a year's filings the July before) to the year after.
ERRORS = {
    "not_yours": _l("Only the committee, or a society for its branches, sets filing windows."),
    "society_step": _l("A society sets only the cut-off of its own branches' reporting."),
    "no_committee_window": _l("The committee has not set the window of %(year)s %(step)s yet."),
    "order": _l("The closing date must not be before the opening date."),
    "range": _l("Enter a date from %(low)s to %(high)s."),
    "after_committee": _l("The cut-off must not be after the committee's closing date (%(day)s)."),
    "before_open": _l("The cut-off must not be before the window opens (%(day)s)."),
    "year": _l("Enter a year from %(low)s to %(high)s."),
    "grant_unit": _l("You may grant an exception only to a unit you review."),
    "grant_step": _l("This unit does not take this step."),
    "reason": _l("Enter the reason for the exception."),
    "until_after_close": _l(
        "The exception's date must be after the unit's own closing date (%(day)s)."
    ),
    "until_committee": _l(
        "A society's exception must not go past the committee's closing date (%(day)s)."
    ),
}


def _error(code: str, **params) -> WorkflowError:
    return WorkflowError(str(ERRORS[code]) % params if params else ERRORS[code])


def _check_year(year: int) -> None:
    if not rules.MIN_YEAR <= year <= rules.MAX_YEAR:
        raise _error("year", low=rules.MIN_YEAR, high=rules.MAX_YEAR)


def date_bounds(year: int) -> tuple[date, date]:
    """The days a window of ``year`` may use: 1 January of the year before to 31
    December of the year after."""
    return date(year - 1, 1, 1), date(year + 1, 12, 31)


def _check_dates(year: int, *days: date | None) -> None:
    low, high = date_bounds(year)
    for day in days:
        if day is not None and not low <= day <= high:
            raise _error("range", low=low.isoformat(), high=high.isoformat())


def committee_window(session: Session, committee_id: int, year: int, step: WindowStep):
    """The committee's own window of ``step`` in ``year`` (a ``FilingWindow``), or None."""
    return session.scalar(
        select(FilingWindow).where(
            FilingWindow.unit_id == committee_id,
            FilingWindow.year == year,
            FilingWindow.step == step,
        )
    )


def set_window(
    session: Session,
    account,
    year: int,
    step: WindowStep,
    opens_on: date | None,
    closes_on: date,
) -> FilingWindow:
    """Store the account's unit's window of ``step`` in ``year`` (flushes, never
    commits). The committee sets any step; a society the entry step only, its
    branches' earlier cut-off: no later than the committee's close and not before
    the committee's window opens (a society's window has no start of its own)."""
    unit = account.unit if account is not None and account.is_active else None
    step = WindowStep(step)
    _check_year(year)
    if unit is None or unit.kind not in (UnitKind.COMMITTEE, UnitKind.SOCIETY):
        raise _error("not_yours")
    _check_dates(year, opens_on, closes_on)
    if unit.kind is UnitKind.SOCIETY:
        _check_society_cut_off(session, unit, year, step, closes_on)
        opens_on = None
    elif opens_on is not None and closes_on < opens_on:
        raise _error("order")
    window = session.scalar(
        select(FilingWindow).where(
            FilingWindow.unit_id == unit.id, FilingWindow.year == year, FilingWindow.step == step
        )
    )
    if window is None:
        window = FilingWindow(unit_id=unit.id, committee_id=unit.committee_id, year=year, step=step)
        session.add(window)
    window.opens_on, window.closes_on = opens_on, closes_on
    session.flush()
    return window


def _check_society_cut_off(session: Session, unit, year: int, step, closes_on: date) -> None:
    """A society's cut-off of its branches' reporting: the entry step only, within the
    committee's window of that step (which must be set)."""
    if step is not WindowStep.ENTRY_REPORT:
        raise _error("society_step")
    committee = committee_window(session, unit.committee_id, year, step)
    if committee is None:
        raise _error("no_committee_window", year=year, step=step_label(step, UnitKind.BRANCH))
    if closes_on > committee.closes_on:
        raise _error("after_committee", day=committee.closes_on.isoformat())
    if committee.opens_on is not None and closes_on < committee.opens_on:
        raise _error("before_open", day=committee.opens_on.isoformat())


def clear_window(session: Session, account, year: int, step: WindowStep) -> bool:
    """Remove the account's unit's own window of ``step`` in ``year`` (the step is
    then open, or back to the committee's close for a society's branches). True
    when there was one. Flushes, never commits."""
    unit = account.unit if account is not None and account.is_active else None
    if unit is None or unit.kind not in (UnitKind.COMMITTEE, UnitKind.SOCIETY):
        raise _error("not_yours")
    result = session.execute(
        delete(FilingWindow).where(
            FilingWindow.unit_id == unit.id,
            FilingWindow.year == year,
            FilingWindow.step == WindowStep(step),
        )
    )
    return bool(result.rowcount)


# The step each unit kind takes, and whom an exception may be granted to.
OWN_STEP = {
    UnitKind.BRANCH: WindowStep.ENTRY_REPORT,
    UnitKind.ISSUER: WindowStep.ENTRY_REPORT,
    UnitKind.SOCIETY: WindowStep.SOCIETY_REPORT,
    UnitKind.COMMITTEE: WindowStep.AUDIT,
}


def may_grant_to(granter, unit) -> bool:
    """May ``granter`` (a unit) grant ``unit`` an exception: the committee to any
    unit of its tree below it, a society to its own branches."""
    if granter is None or unit is None or unit.id == granter.id:
        return False
    if granter.kind is UnitKind.COMMITTEE:
        return unit.committee_id == granter.id
    if granter.kind is UnitKind.SOCIETY:
        return unit.kind is UnitKind.BRANCH and unit.parent_id == granter.id
    return False


def _check_grant(granter, unit, year: int, step: WindowStep, until: date, reason) -> str:
    """What an exception needs before any window is read: a unit the granter may grant
    to, the step that unit takes, a reason (returned trimmed), a date in the year's
    range."""
    _check_year(year)
    if not may_grant_to(granter, unit):
        raise _error("grant_unit")
    if OWN_STEP.get(unit.kind) is not step or step is WindowStep.AUDIT:
        raise _error("grant_step")
    reason = (reason or "").strip()
    if not reason:
        raise _error("reason")
    if message := rules.reason_error(reason):
        raise WorkflowError(message)
    _check_dates(year, until)
    return reason


def grant_exception(
    session: Session,
    account,
    unit,
    year: int,
    step: WindowStep,
    until: date,
    reason: str,
) -> WindowException:
    """Give ``unit`` until ``until`` to take ``step`` of ``year`` (flushes, never
    commits), recorded in the unit's history (the security log's
    ``WINDOW_EXCEPTION``). The date must be after the unit's own close; a society's
    never past the committee's close."""
    granter = account.unit if account is not None and account.is_active else None
    step = WindowStep(step)
    reason = _check_grant(granter, unit, year, step, until, reason)
    committee = committee_window(session, unit.committee_id, year, step)
    if committee is None:
        raise _error("no_committee_window", year=year, step=step_label(step, unit.kind))
    own = windows_for(session, [ask_for(unit, step, year)], until)
    closes_on = own[ask_for(unit, step, year)].closes_on if own else committee.closes_on
    if until <= closes_on:
        raise _error("until_after_close", day=closes_on.isoformat())
    if granter.kind is UnitKind.SOCIETY and until > committee.closes_on:
        raise _error("until_committee", day=committee.closes_on.isoformat())
    grant = WindowException(
        unit_id=unit.id,
        committee_id=unit.committee_id,
        granted_by_unit_id=granter.id,
        granted_by_user_id=account.id,
        year=year,
        step=step,
        until=until,
        reason=reason,
    )
    session.add(grant)
    detail = gettext(
        "%(year)s %(step)s until %(until)s: %(reason)s",
        year=year,
        step=step_label(step, unit.kind),
        until=until.isoformat(),
        reason=reason,
    )
    session.add(
        AuditEntry(
            event=AuditEvent.WINDOW_EXCEPTION,
            username=account.username[:64],
            account_id=None,
            unit_id=unit.id,
            actor_id=account.id,
            detail=detail[:255],
        )
    )
    session.flush()
    return grant


def exceptions_of(session: Session, granter, year: int) -> list:
    """The exceptions of ``year`` a unit may see on its page: a committee's whole
    tree's, a society's own branches' (granted by itself or the committee). One
    statement, newest first."""
    granted_to = Unit.__table__.alias("granted_to")
    by_unit = Unit.__table__.alias("by_unit")
    stmt = (
        select(
            WindowException.id,
            WindowException.step,
            WindowException.until,
            WindowException.reason,
            WindowException.created_at,
            granted_to.c.name.label("unit_name"),
            granted_to.c.kind.label("unit_kind"),
            by_unit.c.name.label("granted_by"),
            User.username.label("granted_by_user"),
        )
        .join(granted_to, granted_to.c.id == WindowException.unit_id)
        .join(by_unit, by_unit.c.id == WindowException.granted_by_unit_id)
        .outerjoin(User, User.id == WindowException.granted_by_user_id)
        .where(WindowException.year == year)
        .order_by(WindowException.created_at.desc(), WindowException.id.desc())
    )
    if granter.kind is UnitKind.COMMITTEE:
        stmt = stmt.where(WindowException.committee_id == granter.id)
    else:
        stmt = stmt.where(granted_to.c.parent_id == granter.id)
    return list(session.execute(stmt))


# -- the countdown -------------------------------------------------------------------
# A window is counted down from this many days before it opens, and said closed for
# this many days after its last day.
SHOW_BEFORE_DAYS = 30
SHOW_AFTER_DAYS = 30


@dataclass(frozen=True)
class Countdown:
    """One line above a list or on the dashboard: the text and how urgent it is
    (``"info"``, ``"warning"`` within a week and on the last day, ``"danger"`` closed)."""

    year: int
    text: str
    level: str


def countdown_text(window: Window, day: date) -> tuple[str, str]:
    """(text, level) of ``window`` on ``day``."""
    params = {"year": window.year, "step": window.label}
    if window.opens_on is not None and day < window.opens_on:
        return window.refusal(day), "info"
    if window.late(day):
        left = window.days_left(day)
        text = gettext(
            "%(year)s %(step)s closed on %(closed)s; under an exception until %(until)s"
            " (%(days)s days left).",
            closed=month_day(window.closes_on),
            until=month_day(window.last_day),
            days=left,
            **params,
        )
        return text, "warning"
    left = window.days_left(day)
    if left < 0:
        return window.refusal(day), "danger"
    if left == 0:
        return gettext("%(year)s %(step)s closes today.", **params), "warning"
    day_text = month_day(window.last_day)
    if window.last_day > window.closes_on:  # an exception's later day, granted in advance
        day_text = gettext("%(day)s, under an exception", day=day_text)
    text = gettext(
        "%(year)s: %(days)s days left until %(step)s closes (%(day)s).",
        days=left,
        day=day_text,
        **params,
    )
    return text, "warning" if left <= 7 else "info"


def _shown_on(window: Window, day: date) -> bool:
    """A window counted down on ``day``: open, opening within ``SHOW_BEFORE_DAYS`` or
    closed within ``SHOW_AFTER_DAYS``."""
    if window.opens_on is not None and window.opens_on > day + timedelta(SHOW_BEFORE_DAYS):
        return False
    return window.last_day >= day - timedelta(SHOW_AFTER_DAYS)


def countdowns(session: Session, account, day: date | None = None) -> list[Countdown]:
    """The account's unit's own step, in the filing years around ``day`` (default
    Beijing's today) with a window open, opening within ``SHOW_BEFORE_DAYS`` or
    closed within ``SHOW_AFTER_DAYS``. One statement."""
    unit = account.unit if account is not None and account.is_active else None
    if unit is None or unit.kind not in OWN_STEP:
        return []
    day = day or beijing_today()
    step = OWN_STEP[unit.kind]
    asks = [
        ask_for(unit, step, year) for year in (day.year - 1, day.year, day.year + 1, day.year + 2)
    ]
    found = windows_for(session, asks, day)
    shown = []
    for ask in asks:
        window = found.get(ask)
        if window is None or not _shown_on(window, day):
            continue
        text, level = countdown_text(window, day)
        shown.append(Countdown(ask.year, text, level))
    return shown


__all__ = [
    "Ask",
    "Countdown",
    "Grant",
    "Window",
    "ask_for",
    "ask_for_row",
    "clear_window",
    "countdowns",
    "exceptions_of",
    "grant_exception",
    "hold_outside_window",
    "set_window",
    "step_label",
    "step_of",
    "windows_for",
]
