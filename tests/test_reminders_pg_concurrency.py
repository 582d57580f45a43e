"""催办 run twice at once on PostgreSQL (two sessions, two threads): each reminder is
sent once. The second run's INSERT waits on the first's uncommitted unique key, then
skips it (ON CONFLICT DO NOTHING): it writes no message and no mail."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from extensions import db
from models import Message, MessageKind, ProjectState, Reminder
from notifications import reminders
from tests.factories import make_project, make_tree

S = ProjectState


@pytest.fixture
def waiting(backend, session):
    """A branch's two projects waiting at its society since 1 March 2027 (escalated by
    the 24th: a reminder to the society and one to the committee are due)."""
    if backend != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL")
    tree = make_tree(session)
    with time_machine.travel(datetime(2027, 3, 1, 2, tzinfo=UTC), tick=False):
        for _ in range(2):
            make_project(session, tree["branch"], S.AT_SOCIETY, year=2027)
        session.commit()
    return tree


def counts(session) -> tuple[int, int]:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(Reminder)),
        session.scalar(
            select(func.count()).select_from(Message).where(Message.kind == MessageKind.REMINDER)
        ),
    )


def test_a_run_waiting_on_another_sends_nothing_twice(session, waiting):
    """Deterministic overlap: the first run has inserted and not committed when the
    second starts; the second waits, then finds every key taken."""
    results = {}
    with (
        time_machine.travel(datetime(2027, 3, 24, 2, tzinfo=UTC), tick=False),
        Session(db.engine) as first,
        Session(db.engine) as second,
    ):
        results["first"] = reminders.run(first, commit=False)
        thread = threading.Thread(
            target=lambda: results.__setitem__("second", reminders.run(second))
        )
        thread.start()
        thread.join(timeout=1)
        assert thread.is_alive(), "the second run should wait on the first's keys"
        first.commit()
        thread.join(timeout=30)
        assert not thread.is_alive()
    assert (results["first"].reminders, results["first"].escalations) == (1, 1)
    second = results["second"]
    assert (second.reminders, second.escalations, second.skipped) == (0, 0, 2)
    assert counts(session) == (2, 2)


def test_runs_started_together_send_each_reminder_once(session, waiting):
    barrier = threading.Barrier(4)
    summaries = []

    def one_run(own):
        with own:
            barrier.wait()
            summaries.append(reminders.run(own))

    with time_machine.travel(datetime(2027, 3, 24, 2, tzinfo=UTC), tick=False):
        # The sessions are made here, in the app's context; each runs in its thread.
        threads = [threading.Thread(target=one_run, args=(Session(db.engine),)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert len(summaries) == 4
    assert sum(s.reminders for s in summaries) == 1
    assert sum(s.escalations for s in summaries) == 1
    assert counts(session) == (2, 2)
    assert session.scalar(select(Reminder.day).limit(1)) == date(2027, 3, 24)
