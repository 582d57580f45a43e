"""统计's filing-calendar table (issue 25 §2/§3): 逾期上报 (reports made after the
unit's own close, under an exception) and 催办次数 (reminders sent) per unit, for the
committee (its societies, a branch counted under its society) and for a society (its
branches); two statements whatever the data. Both databases; the clock moved with
time-machine. ``expected_calendar`` is the test's own count, which
tests/admin/test_statistics.py compares with the page."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

import reports
import workflow
from models import (
    Project,
    ProjectEvent,
    ProjectState,
    Reminder,
    ReminderClock,
    Unit,
    UnitKind,
    WindowException,
    WindowStep,
)
from models.base import beijing_today
from tests.factories import make_project, make_tree
from workflow import Action
from workflow import calendar as cal

YEAR = 2027
E, SOC = WindowStep.ENTRY_REPORT, WindowStep.SOCIETY_REPORT


def at(day: date):
    """The clock at 10:00 in Beijing on ``day``."""
    return time_machine.travel(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC), tick=False)


def _beijing_day(moment: datetime) -> date:
    return (moment + timedelta(hours=8)).date()


def expected_calendar(session, user, projects, year) -> list[list[str]]:
    """The table as the test counts it: each REPORT event of the visible projects
    whose unit holds an exception for its step and year and whose Beijing day is after
    the unit's own close (``workflow.calendar.windows_for``); the reminders of the
    year by unit, a branch's under its society for the committee."""
    unit = user.unit
    units = {u.id: u for u in session.scalars(select(Unit))}
    excepted = {
        (x.unit_id, x.year, WindowStep(x.step)) for x in session.scalars(select(WindowException))
    }
    key_of = {
        p.id: (p.society_id or p.owner_unit_id)
        if unit.kind is UnitKind.COMMITTEE
        else p.owner_unit_id
        for p in projects
    }
    by_id = {p.id: p for p in projects}
    late = Counter()
    events = session.scalars(select(ProjectEvent).where(ProjectEvent.action == Action.REPORT.value))
    for event in events:
        project = by_id.get(event.project_id)
        if project is None:
            continue
        society_step = event.from_state == ProjectState.AT_SOCIETY.value
        if unit.kind is UnitKind.SOCIETY and society_step:
            continue
        actor = units[event.actor_unit_id]
        step = SOC if society_step else E
        if (actor.id, project.year, step) not in excepted:
            continue
        ask = cal.Ask(
            actor.id,
            project.committee_id,
            step,
            project.year,
            None if society_step else project.society_id,
            actor.kind,
        )
        window = cal.windows_for(session, [ask], _beijing_day(event.created_at)).get(ask)
        if window is not None and _beijing_day(event.created_at) > window.closes_on:
            late[key_of[project.id]] += 1
    sent = Counter()
    committee_id = unit.id if unit.kind is UnitKind.COMMITTEE else unit.committee_id
    for reminder in session.scalars(select(Reminder)):
        if year is not None and reminder.day.year != year:
            continue
        to = units[reminder.unit_id]
        if unit.kind is UnitKind.COMMITTEE:
            if reminder.committee_id != committee_id or to.id == unit.id:
                continue
            sent[to.parent_id if to.kind is UnitKind.BRANCH else to.id] += 1
        elif to.parent_id == unit.id:
            sent[to.id] += 1
    keys = set(late) | set(sent)
    rows = sorted(
        ((units[k].name, late[k], sent[k]) for k in keys),
        key=lambda row: (-row[1], -row[2], row[0]),
    )
    return [[name, str(a), str(b)] for name, a, b in rows]


# -- a tree of its own: windows, a society's cut-off, exceptions and late reports -------
@pytest.fixture
def tree(demo_accounts, session):
    return make_tree(session, "cs_")


def report(session, account, project):
    result = workflow.apply_bulk(session, Action.REPORT, account, [project.id])
    session.commit()
    return result


def remind(
    session, unit_id, committee_id, day, clock=ReminderClock.WAITING_SOCIETY, escalation=False
):
    session.add(
        Reminder(
            unit_id=unit_id,
            committee_id=committee_id,
            clock=clock,
            day=day,
            escalation=escalation,
            item_count=1,
            items=[],
        )
    )


def late_season(session, tree):
    """2027's windows: entry 上报 until 10 January (the society's branches until 31
    December), societies' until 20 January. The branch reports one project on time and
    one late under the society's exception; the society forwards one late under the
    committee's; the issuer reports on time."""
    committee, society = tree["committee"], tree["society"]
    branch, issuer = tree["branch"], tree["issuer"]
    with at(date(2026, 12, 1)):
        cal.set_window(session, committee, YEAR, E, date(2026, 7, 15), date(2027, 1, 10))
        cal.set_window(session, committee, YEAR, SOC, date(2026, 7, 15), date(2027, 1, 20))
        cal.set_window(session, society, YEAR, E, None, date(2026, 12, 31))
        session.commit()
        projects = {
            name: make_project(session, owner, year=YEAR, name=name)
            for name, owner in (("准时", branch), ("逾期", branch), ("发证准时", issuer))
        }
        session.commit()
    with at(date(2026, 12, 20)):
        assert report(session, branch, projects["准时"]).done
        assert report(session, issuer, projects["发证准时"]).done
    with at(date(2027, 1, 2)):
        assert not report(session, branch, projects["逾期"]).done  # past the cut-off
        cal.grant_exception(
            session, society, branch.unit, YEAR, E, date(2027, 1, 8), "系统故障补报"
        )
        session.commit()
    with at(date(2027, 1, 5)):
        assert report(session, branch, projects["逾期"]).done
    with at(date(2027, 1, 22)):
        assert not report(session, society, projects["逾期"]).done  # past the close
        cal.grant_exception(
            session, committee, society.unit, YEAR, SOC, date(2027, 1, 28), "学会换届"
        )
        session.commit()
    with at(date(2027, 1, 25)):
        assert report(session, society, projects["逾期"]).done
        assert report(session, society, projects["准时"]).done  # late too
    return projects


def table_of(session, account, year=YEAR):
    return reports.build_report(session, account, reports.Filters(year=year)).tables["calendar"]


def test_late_steps_and_reminders_per_unit(session, tree):
    late_season(session, tree)
    committee, society = tree["committee"], tree["society"]
    branch, issuer = tree["branch"].unit, tree["issuer"].unit
    cid = committee.unit_id
    for unit_id, day in (
        (branch.id, date(2027, 1, 3)),
        (branch.id, date(2027, 1, 4)),
        (society.unit_id, date(2027, 1, 21)),
        (issuer.id, date(2027, 1, 6)),
        (cid, date(2027, 1, 30)),  # the committee's own: not a unit of its table
        (branch.id, date(2026, 12, 28)),  # another year
    ):
        remind(session, unit_id, cid, day)
    session.commit()

    names = {tree[k].unit.name: k for k in ("society", "branch", "issuer")}
    rows = table_of(session, committee).rows
    assert [(names[n], late, sent) for n, late, sent in rows] == [
        # The branch's late report and the society's two late forwards.
        ("society", 3, 3),
        ("issuer", 0, 1),
    ]
    rows = table_of(session, society).rows
    assert [(names[n], late, sent) for n, late, sent in rows] == [("branch", 1, 2)]
    # Every year: the December reminder counts too.
    rows = table_of(session, committee, year=None).rows
    assert [(names[n], late, sent) for n, late, sent in rows] == [
        ("society", 3, 4),
        ("issuer", 0, 1),
    ]
    # Another year: nothing.
    assert table_of(session, committee, year=2026).rows == [(tree["branch"].unit.parent.name, 0, 1)]
    # The test's own count agrees.
    projects = session.scalars(select(Project).where(Project.committee_id == cid)).all()
    visible = [p for p in projects if p.state is not ProjectState.DRAFT and p.year == YEAR]
    assert expected_calendar(session, committee, visible, YEAR) == [
        [str(c) for c in row] for row in table_of(session, committee).rows
    ]


def test_an_expired_exception_still_counts_the_report_it_allowed(session, tree):
    late_season(session, tree)
    with at(date(2027, 3, 1)):
        rows = table_of(session, tree["committee"]).rows
    assert rows[0][1] == 3


def test_the_table_costs_two_statements_whatever_the_data(session, tree, count_statements):
    committee = tree["committee"]
    with count_statements() as empty:
        table_of(session, committee)
    late_season(session, tree)
    for day in range(1, 20):
        remind(session, tree["branch"].unit_id, committee.unit_id, date(2027, 1, day))
    session.commit()
    with count_statements() as full:
        assert table_of(session, committee).rows

    def ours(counter):
        return [s for s in counter.statements if "reminders" in s or "window_exceptions" in s]

    assert len(ours(empty)) == len(ours(full)) == 2, ours(full)
    # Directly: the table alone, its account's rows already loaded.
    assert committee.unit.kind is UnitKind.COMMITTEE
    with count_statements() as alone:
        reports.calendar_stats.calendar_table(session, committee, reports.Filters(year=YEAR))
    assert alone.count == 2, alone.statements


def test_the_page_shows_the_table(login_as, session, demo_accounts):
    """The demo's committee: the table with its headers, in Chinese, for any filters."""
    cid = demo_accounts["bjcme"].unit_id
    bma = demo_accounts["bma"].unit_id
    remind(session, bma, cid, beijing_today())
    session.commit()
    browser = login_as("bjcme")
    page = browser.get("/admin/statistics/").get_data(as_text=True)
    section = page.split('id="stat-calendar"', 1)[1].split("</section>", 1)[0]
    assert "逾期上报与催办" in section and "逾期上报" in section and "催办次数" in section
    assert demo_accounts["bma"].unit.name in section
    page = browser.get("/admin/statistics/", query_string={"level": "national"})
    assert 'id="stat-calendar"' in page.get_data(as_text=True)
