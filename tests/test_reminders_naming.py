"""催办 names the first ``reminders.NAMED`` items of a unit, oldest first, and counts them
all: the order of the items is the clock's (a closing window: the year, then the project;
a waiting queue: the arrival), not the ids', whichever way the database reads the names
(after the ``LIMIT``, by id, or with the rows)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from models import FilingWindow, Message, MessageKind, ProjectState, ReminderClock, WindowStep
from notifications import reminders
from tests.factories import account_of, drive, make_project, make_tree

S = ProjectState
C = ReminderClock


def at(day: date, hour: int = 2) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def tree(session):
    found = make_tree(session)
    session.commit()
    return found


def only(session, tree, clock):
    settings = reminders.Settings.of(None, None)
    for each in C:
        settings.clocks[each]["on"] = each is clock
    reminders.save_settings(session, tree["committee"].unit_id, settings)
    session.commit()


def the_one_reminder(session, clock, day: date, unit_id: int) -> Message:
    """Run the reminders at 10:00 on ``day``: they send one reminder, ``unit_id``'s."""
    clock.move_to(at(day))
    assert reminders.run(session).reminders == 1
    return session.scalar(
        select(Message).where(Message.unit_id == unit_id, Message.kind == MessageKind.REMINDER)
    )


def test_a_closing_window_names_the_oldest_year_first_then_by_project(session, tree):
    """Seven drafts of 2028 made first, seven of 2027 after them: the reminder counts 14
    and names the seven of 2027, then the first three of 2028."""
    only(session, tree, C.WINDOW_CLOSING)
    committee = tree["committee"].unit
    for year in (2027, 2028):
        session.add(
            FilingWindow(
                unit_id=committee.id,
                committee_id=committee.id,
                year=year,
                step=WindowStep.ENTRY_REPORT,
                opens_on=date(2027, 1, 1),
                closes_on=date(2027, 3, 20),
            )
        )
    session.commit()
    with time_machine.travel(at(date(2027, 3, 1)), tick=False) as clock:
        later = [make_project(session, tree["branch"], S.DRAFT, year=2028) for _ in range(7)]
        earlier = [make_project(session, tree["branch"], S.DRAFT, year=2027) for _ in range(7)]
        session.commit()
        message = the_one_reminder(session, clock, date(2027, 3, 13), tree["branch"].unit_id)
    assert message.count == 14
    assert message.project_ids == [p.id for p in earlier] + [p.id for p in later[:3]]
    assert reminders.NAMED == 10


def test_the_committees_queue_is_named_in_the_order_of_arrival(session, tree):
    """Twelve drafts of an issuer reach the committee in the reverse order of their ids,
    a day apart: the reminder names the first ten arrived, in that order."""
    only(session, tree, C.WAITING_COMMITTEE)
    issuer = tree["issuer"]
    committee = account_of(session, tree["committee"].unit)
    start = date(2027, 3, 1)
    with time_machine.travel(at(start), tick=False) as clock:
        drafts = [make_project(session, issuer, S.DRAFT, year=2027) for _ in range(12)]
        session.commit()
        arrived = list(reversed(drafts))
        for offset, project in enumerate(arrived):
            clock.move_to(at(start + timedelta(days=offset)))
            drive(session, project, S.AT_COMMITTEE, owner=issuer, society=None, committee=committee)
            session.commit()
        message = the_one_reminder(session, clock, date(2027, 4, 20), tree["committee"].unit_id)
    assert message.count == 12
    assert message.project_ids == [p.id for p in arrived[:10]]
