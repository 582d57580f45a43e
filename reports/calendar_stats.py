"""统计's filing-calendar figures (issue 25): per unit, the 上报 steps taken after
the unit's own close (逾期上报, under an exception) and the reminders it was sent
(催办次数).

For the committee the rows are its societies and certificate-issuing units, a
society's row counting its branches' too (as the page's other unit tables do); for a
society, its own branches. Two statements whatever the number of projects or units:

- 逾期上报: a REPORT event (``models.ProjectEvent``) whose Beijing day is after the
  window's close for its unit, step and year (``workflow.calendar``'s ``Window``: the
  committee's ``closes_on``, or the society's earlier cut-off for its branches). A
  step can only be taken after its close under an exception, so the events read are
  those of the units holding an exception (``window_exceptions``, a handful a year):
  the page does not read the events of the whole tree.
- 催办次数: the ``models.Reminder`` rows sent to the units (by
  ``notifications.reminders``) on a day of the filtered year. 级别 and 学科 do not
  apply to reminders (a reminder names many projects).
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from models import (
    FilingWindow,
    Project,
    ProjectEvent,
    ProjectState,
    Reminder,
    Unit,
    UnitKind,
    WindowException,
    WindowStep,
)
from reports.sql import day_of
from reports.statistics import Filters, Table, scope, unit_column, unit_header
from workflow import Action

LATE_STEPS = _l("Late reporting")
REMINDERS = _l("Times reminded")


def _committee_of(account) -> int | None:
    unit = account.unit
    return unit.id if unit.kind is UnitKind.COMMITTEE else unit.committee_id


def _named(session, grouped) -> dict[int, tuple[str, int]]:
    """The (key, n) rows of ``grouped`` with the name of the unit ``key``."""
    named = aliased(Unit, name="named")
    rows = session.execute(
        select(grouped.c.key, named.name, grouped.c.n).join(named, named.id == grouped.c.key)
    )
    return {key: (name, n) for key, name, n in rows}


def _window_of(window, unit_id, excepted):
    """``window`` (an alias of ``FilingWindow``) is ``unit_id``'s for the year and step
    of the ``excepted`` row."""
    return and_(
        window.unit_id == unit_id, window.year == excepted.c.year, window.step == excepted.c.step
    )


def late_steps(session, account, filters: Filters) -> dict[int, tuple[str, int]]:
    """``{unit: (name, steps taken after the unit's own close}``: one statement."""
    committee_id = _committee_of(account)
    excepted = select(WindowException.unit_id, WindowException.year, WindowException.step).where(
        WindowException.committee_id == committee_id
    )
    if filters.year is not None:
        excepted = excepted.where(WindowException.year == filters.year)
    excepted = excepted.distinct().subquery("excepted")
    committee_window = aliased(FilingWindow, name="committee_window")
    cut_off = aliased(FilingWindow, name="cut_off")
    closes = case(
        (
            and_(cut_off.closes_on.is_not(None), cut_off.closes_on < committee_window.closes_on),
            cut_off.closes_on,
        ),
        else_=committee_window.closes_on,
    )
    key = unit_column(account)
    stmt = (
        select(key.label("key"), func.count(ProjectEvent.id).label("n"))
        .select_from(excepted)
        .join(
            Project,
            and_(
                Project.year == excepted.c.year,
                or_(
                    Project.owner_unit_id == excepted.c.unit_id,
                    Project.society_id == excepted.c.unit_id,
                ),
            ),
        )
        .join(
            ProjectEvent,
            and_(
                ProjectEvent.project_id == Project.id,
                ProjectEvent.action == Action.REPORT.value,
                ProjectEvent.actor_unit_id == excepted.c.unit_id,
            ),
        )
        .join(committee_window, _window_of(committee_window, committee_id, excepted))
        .outerjoin(
            cut_off,
            and_(
                _window_of(cut_off, Project.society_id, excepted),
                excepted.c.step == literal(WindowStep.ENTRY_REPORT.value),
            ),
        )
        .where(scope(account, filters), day_of(ProjectEvent.created_at) > closes)
        .group_by(key)
    )
    if account.unit.kind is UnitKind.SOCIETY:
        # Its branches' own reports only (its own step is the committee's to judge).
        stmt = stmt.where(
            ProjectEvent.actor_unit_id == Project.owner_unit_id,
            ProjectEvent.from_state != ProjectState.AT_SOCIETY.value,
        )
    return _named(session, stmt.subquery("grouped"))


def reminders_sent(session, account, filters: Filters) -> dict[int, tuple[str, int]]:
    """``{unit: (name, reminders sent)}`` on the days of the filtered year: one statement."""
    unit = account.unit
    if unit.kind is UnitKind.COMMITTEE:
        # A branch's reminders count under its society, as its projects do.
        key = case((Unit.kind == UnitKind.BRANCH.value, Unit.parent_id), else_=Unit.id)
        mine = and_(Reminder.committee_id == unit.id, Unit.id != unit.id)
    else:
        key = Unit.id
        mine = Unit.parent_id == unit.id
    stmt = (
        select(key.label("key"), func.count(Reminder.id).label("n"))
        .join(Unit, Unit.id == Reminder.unit_id)
        .where(mine)
        .group_by(key)
    )
    if filters.year is not None:
        stmt = stmt.where(
            Reminder.day >= date(filters.year, 1, 1), Reminder.day <= date(filters.year, 12, 31)
        )
    return _named(session, stmt.subquery("grouped"))


def calendar_table(session, account, filters: Filters) -> Table:
    """逾期上报 and 催办次数 per unit, most first: two statements, each naming its
    units."""
    late = late_steps(session, account, filters)
    sent = reminders_sent(session, account, filters)
    names = {key: name for key, (name, _) in (late | sent).items()}
    rows = sorted(
        ((names[key], late.get(key, ("", 0))[1], sent.get(key, ("", 0))[1]) for key in names),
        key=lambda row: (-row[1], -row[2], row[0]),
    )
    return Table(
        "calendar",
        _l("Late reporting and reminders"),
        (unit_header(account), LATE_STEPS, REMINDERS),
        rows,
        "hbar",
        (1, 2),
        _l(
            "Late reporting: reports made after the unit's own closing date, under an"
            " exception. Reminders: the reminders sent to the unit (and, for a society,"
            " to its branches) in the year; the level and discipline filters do not"
            " apply to them."
        ),
    )
