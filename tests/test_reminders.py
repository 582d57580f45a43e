"""催办 (``notifications.reminders``): a simulated month with the clock moved day by day
produces exactly the expected reminders and escalations; a second run sends nothing; a
day without a run sends what is due once; settings off send nothing; the number of
statements of a run does not grow with the number of projects."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from models import (
    FilingWindow,
    Message,
    MessageKind,
    ProjectState,
    Reminder,
    ReminderClock,
    WindowStep,
)
from notifications import reminders
from notifications.wording import sentence
from tests.factories import make_project, make_tree
from workflow import Action  # noqa: F401  (the engine drives the projects)

S = ProjectState
C = ReminderClock
# 10:00 in Beijing.
MORNING = 2


def at(day: date, hour: int = MORNING) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def sent(session) -> list[tuple]:
    """(day, unit id, clock, escalation, item count) of every reminder, in order."""
    rows = session.execute(
        select(
            Reminder.day, Reminder.unit_id, Reminder.clock, Reminder.escalation, Reminder.item_count
        ).order_by(Reminder.day, Reminder.unit_id, Reminder.clock, Reminder.escalation)
    )
    return [(d, u, ReminderClock(c), bool(e), n) for d, u, c, e, n in rows]


def in_order(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda r: (r[0], r[1], r[2].value, r[3]))


def run_each_day(session, clock, days) -> None:
    """Move ``clock`` to 10:00 of each of ``days`` in turn and run the reminders."""
    for day in days:
        clock.move_to(at(day))
        reminders.run(session)


# 1 to 24 March 2027, a run each morning.
MARCH_1_TO_24 = [date(2027, 3, n) for n in range(1, 25)]


def only(session, tree, *clocks):
    """Turn every clock off but ``clocks`` for the tree's committee."""
    settings = reminders.Settings.of(None, None)
    for clock in C:
        settings.clocks[clock]["on"] = clock in clocks
    reminders.save_settings(session, tree["committee"].unit_id, settings)
    session.commit()


@pytest.fixture
def tree(session):
    found = make_tree(session)
    session.commit()
    return found


def test_a_month_of_waiting_projects_reminds_the_society_then_tells_the_committee(
    app, session, tree
):
    """N = 14 (waiting), M = 7. Two projects reach the society on 1 March, a third on 10
    March; an issuer's project reaches the committee on 5 March."""
    only(session, tree, C.WAITING_SOCIETY, C.WAITING_COMMITTEE)
    society, committee = tree["society"].unit_id, tree["committee"].unit_id
    start = date(2027, 3, 1)
    with time_machine.travel(at(start), tick=False) as clock:
        first = [make_project(session, tree["branch"], S.AT_SOCIETY, year=2027) for _ in range(2)]
        session.commit()
        runner = app.test_cli_runner()
        for offset in range(31):
            day = start + timedelta(days=offset)
            clock.move_to(at(day))
            if day == date(2027, 3, 5):
                make_project(session, tree["issuer"], S.AT_COMMITTEE, year=2027)
                session.commit()
            if day == date(2027, 3, 10):
                make_project(session, tree["branch"], S.AT_SOCIETY, year=2027)
                session.commit()
            if offset % 2:
                result = runner.invoke(args=["send-reminders"])
                assert result.exit_code == 0, result.output
            else:
                reminders.run(session)
            # A second run the same day (an hour later) sends nothing more.
            clock.move_to(at(day, MORNING + 1))
            assert reminders.run(session).reminders == 0
    d = lambda n: date(2027, 3, n)  # noqa: E731
    assert sent(session) == in_order(
        [
            # Waiting since 1 March: more than 14 days on the 16th.
            (d(16), society, C.WAITING_SOCIETY, False, 2),
            # The issuer's project since 5 March: more than 14 days on the 20th.
            (d(20), committee, C.WAITING_COMMITTEE, False, 1),
            # Every 7 days while they wait; still there 7 days after the 16th: the committee too.
            (d(23), society, C.WAITING_SOCIETY, False, 2),
            (d(23), committee, C.WAITING_SOCIETY, True, 2),
            # The third (since 10 March) crosses on the 25th: a reminder at once.
            (d(25), society, C.WAITING_SOCIETY, False, 3),
            (d(27), committee, C.WAITING_COMMITTEE, False, 1),
            (d(30), committee, C.WAITING_SOCIETY, True, 2),
        ]
    )
    # One bell message each, in the reader's words.
    messages = list(session.scalars(select(Message).order_by(Message.id)))
    reminder_messages = [m for m in messages if m.kind is MessageKind.REMINDER]
    assert len(reminder_messages) == 7
    texts = [sentence(m.kind, m.actor_name, m.count) for m in reminder_messages]
    assert texts[0] == "催办：2 个项目在贵单位等待已超过 14 天"
    escalation = next(m for m in reminder_messages if m.actor_name.endswith("|1|1"))
    assert texts[reminder_messages.index(escalation)] == (
        "催办：下级单位有逾期事项：1 个单位的 2 个项目"
    )
    assert escalation.unit_id == committee and escalation.list_endpoint == "audit"
    assert escalation.list_filters == {"unit": society, "state": "at_society"}
    assert sorted(escalation.project_ids) == sorted(p.id for p in first)
    # Every reminder points at its message.
    linked = session.scalars(select(Reminder.message_id)).all()
    assert sorted(linked) == sorted(m.id for m in reminder_messages)


def test_a_day_without_a_run_sends_what_is_due_once(session, tree):
    only(session, tree, C.WAITING_SOCIETY)
    with time_machine.travel(at(date(2027, 3, 1)), tick=False) as clock:
        make_project(session, tree["branch"], S.AT_SOCIETY, year=2027)
        session.commit()
        # Due on the 16th (reminder) and the 23rd (escalation); the command ran on neither.
        clock.move_to(at(date(2027, 3, 24)))
        first = reminders.run(session)
        clock.move_to(at(date(2027, 3, 25)))
        second = reminders.run(session)
    assert (first.reminders, first.escalations) == (1, 1)
    assert (second.reminders, second.escalations) == (0, 0)
    assert sorted((r[0], r[3]) for r in sent(session)) == [
        (date(2027, 3, 24), False),
        (date(2027, 3, 24), True),
    ]


def test_the_window_closing_reminds_the_branch_and_then_its_society(session, tree):
    """The committee's window for the entry step closes on 20 March (N = 7, M = 3): the
    branch with a draft is reminded on the 13th and the 16th; its society is told on the
    16th (the draft still unreported three days later) and on the 19th."""
    only(session, tree, C.WINDOW_CLOSING)
    settings = reminders.settings_for(session, tree["committee"].unit_id)
    settings.escalate_after_days = 3
    reminders.save_settings(session, tree["committee"].unit_id, settings)
    committee = tree["committee"].unit
    session.add(
        FilingWindow(
            unit_id=committee.id,
            committee_id=committee.id,
            year=2027,
            step=WindowStep.ENTRY_REPORT,
            opens_on=date(2027, 1, 1),
            closes_on=date(2027, 3, 20),
        )
    )
    session.commit()
    branch, society = tree["branch"].unit_id, tree["society"].unit_id
    with time_machine.travel(at(date(2027, 3, 1)), tick=False) as clock:
        draft = make_project(session, tree["branch"], S.DRAFT, year=2027)
        session.commit()
        run_each_day(session, clock, MARCH_1_TO_24)
    assert sent(session) == in_order(
        [
            (date(2027, 3, 13), branch, C.WINDOW_CLOSING, False, 1),
            (date(2027, 3, 16), branch, C.WINDOW_CLOSING, False, 1),
            (date(2027, 3, 16), society, C.WINDOW_CLOSING, True, 1),
            (date(2027, 3, 19), branch, C.WINDOW_CLOSING, False, 1),
            (date(2027, 3, 19), society, C.WINDOW_CLOSING, True, 1),
        ]
    )
    message = session.scalar(
        select(Message).where(Message.unit_id == branch).order_by(Message.id).limit(1)
    )
    assert sentence(message.kind, message.actor_name, message.count) == (
        "催办：1 个项目尚未上报，距上报截止还有 7 天"
    )
    assert message.project_ids == [draft.id]


def test_execution_reports_due_and_overdue_remind_their_owner(session, tree):
    """A published project that ended on 1 March: its report is due on the 15th (14 days);
    EXECUTION_DUE (N = 7) on the 8th, EXECUTION_OVERDUE (N = 0) on the 16th."""
    only(session, tree, C.EXECUTION_DUE, C.EXECUTION_OVERDUE)
    issuer, committee = tree["issuer"].unit_id, tree["committee"].unit_id
    with time_machine.travel(at(date(2027, 2, 20)), tick=False) as clock:
        make_project(
            session,
            tree["issuer"],
            S.PUBLISHED,
            year=2027,
            start_date=date(2027, 2, 28),
            end_date=date(2027, 3, 1),
        )
        session.commit()
        run_each_day(session, clock, MARCH_1_TO_24)
    assert sent(session) == in_order(
        [
            (date(2027, 3, 8), issuer, C.EXECUTION_DUE, False, 1),
            (date(2027, 3, 15), issuer, C.EXECUTION_DUE, False, 1),
            (date(2027, 3, 15), committee, C.EXECUTION_DUE, True, 1),
            (date(2027, 3, 16), issuer, C.EXECUTION_OVERDUE, False, 1),
            (date(2027, 3, 23), issuer, C.EXECUTION_OVERDUE, False, 1),
            (date(2027, 3, 23), committee, C.EXECUTION_OVERDUE, True, 1),
        ]
    )


def test_settings_off_send_nothing(session, tree):
    only(session, tree)
    with time_machine.travel(at(date(2027, 3, 1)), tick=False) as clock:
        make_project(session, tree["branch"], S.AT_SOCIETY, year=2027)
        make_project(session, tree["issuer"], S.AT_COMMITTEE, year=2027)
        session.commit()
        clock.move_to(at(date(2027, 4, 30)))
        summary = reminders.run(session)
    assert (summary.reminders, summary.escalations) == (0, 0)
    assert sent(session) == []
    assert session.scalar(select(Message.id).where(Message.kind == MessageKind.REMINDER)) is None


def test_a_committee_without_settings_uses_the_defaults(session, tree):
    with time_machine.travel(at(date(2027, 3, 1)), tick=False) as clock:
        make_project(session, tree["branch"], S.AT_SOCIETY, year=2027)
        session.commit()
        clock.move_to(at(date(2027, 3, 15)))  # 14 days: not more than 14
        assert reminders.run(session).reminders == 0
        clock.move_to(at(date(2027, 3, 16)))
        assert reminders.run(session).reminders == 1


def test_a_run_costs_the_same_statements_for_20_and_200_projects(session, tree, count_statements):
    only(session, tree, *C)

    def statements(n: int, day: date) -> int:
        with time_machine.travel(at(day), tick=False) as clock:
            for _ in range(n):
                make_project(session, tree["branch"], S.AT_SOCIETY, year=2027)
            session.commit()
            clock.move_to(at(day + timedelta(days=40)))
            with count_statements() as counter:
                summary = reminders.run(session)
            assert summary.reminders == 1 and summary.escalations == 1
            return counter.count

    small = statements(20, date(2027, 3, 1))
    large = statements(180, date(2027, 6, 1))
    assert small == large


def test_counts_by_unit(session, tree):
    only(session, tree, C.WAITING_SOCIETY)
    with time_machine.travel(at(date(2027, 3, 1)), tick=False) as clock:
        make_project(session, tree["branch"], S.AT_SOCIETY, year=2027)
        session.commit()
        run_each_day(session, clock, [date(2027, 3, 16), date(2027, 3, 23)])
    committee = tree["committee"].unit_id
    assert reminders.counts_by_unit(session, committee, 2027) == {
        tree["society"].unit_id: 2,
        committee: 1,
    }
    assert reminders.counts_by_unit(session, committee, 2026) == {}


def test_rq_cron_config_puts_the_job_on_the_workers_queue():
    """deploy/rq_cron.py, as ``rq cron`` loads it: one job, the worker's queue."""
    import runpy
    from pathlib import Path

    from rq import cron

    import jobs

    cron._job_data_registry.clear()
    runpy.run_path(str(Path(__file__).parents[1] / "deploy" / "rq_cron.py"))
    (job,) = cron._job_data_registry
    assert job["func"] is reminders.send_reminders_job
    assert job["queue_name"] == jobs.QUEUE and job["interval"] == 600
    cron._job_data_registry.clear()


def test_flask_periodic_runs_the_reminders(app, session, tree):
    only(session, tree, C.WAITING_SOCIETY)
    with time_machine.travel(at(date(2027, 3, 1)), tick=False) as clock:
        make_project(session, tree["branch"], S.AT_SOCIETY, year=2027)
        session.commit()
        clock.move_to(at(date(2027, 3, 16)))
        result = app.test_cli_runner().invoke(args=["periodic"])
        again = app.test_cli_runner().invoke(args=["periodic"])
    assert result.exit_code == 0, result.output
    assert "Reminders: 2027-03-16: 1 reminder(s), 0 escalation(s)" in result.output
    assert "Reminders: 2027-03-16: 0 reminder(s)" in again.output
    assert len(sent(session)) == 1
