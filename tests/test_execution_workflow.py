"""执行情况: the report's own transition table, run by the project's engine, on both
databases; the roster's rules; what each account may see and do."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from models import (
    ExecutionEvent,
    ExecutionReport,
    ExecutionSnapshot,
    ExecutionState,
    ProjectState,
    RosterEntry,
    rules,
)
from permissions import visible_executions, visible_roster
from tests.factories import make_project, make_tree
from tests.races import race
from workflow import Action, NotAllowed, ReasonRequired, execution
from workflow.errors import ReportChanged, ReportNotFound
from workflow.machines import EXECUTIONS
from workflow.transitions import EXECUTION_TRANSITIONS

E = ExecutionState
# Valid mainland ID numbers (check digit computed) for the tests' learners.
_serial = itertools.count(1)


def id_number(birth: str = "19800101") -> str:
    first17 = f"110105{birth}{next(_serial) % 1000:03d}"
    return first17 + rules.id_check_character(first17)


def learner(**overrides) -> dict:
    return {"name": "张三", "id_number": id_number(), "workplace": "北京协和医院"} | overrides


def published_report(session, owner):
    project = make_project(session, owner, ProjectState.PUBLISHED)
    return execution.open_report(session, owner, project)


def accounts(demo_accounts):
    return {
        key: demo_accounts[name]
        for key, name in {
            "branch": "bma_cardio",
            "other_branch": "bma_peds",
            "society": "bma",
            "other_society": "bjtcm",
            "issuer": "pumch",
            "committee": "bjcme",
        }.items()
    }


def test_a_report_opens_prefilled_from_the_published_project(demo_accounts, session):
    cardio = demo_accounts["bma_cardio"]
    project = make_project(session, cardio, ProjectState.PUBLISHED)
    report = execution.open_report(session, cardio, project)
    session.commit()
    assert (report.start_date, report.end_date, report.venue) == (
        project.start_date,
        project.end_date,
        project.venue,
    )
    assert report.credits == project.credits and report.state == E.DRAFT
    assert [lec.name for lec in report.lecturers] == [lec.name for lec in project.lecturers]
    assert (report.due_date - project.end_date).days == 14
    assert report.society_id == project.society_id and report.committee_id == project.committee_id
    # Opening again gives the same report.
    assert execution.open_report(session, cardio, project).id == report.id
    events = session.scalars(select(ExecutionEvent).where(ExecutionEvent.report_id == report.id))
    assert [(e.action, e.to_state) for e in events] == [("create", "draft")]


@pytest.mark.parametrize("state", [ProjectState.DRAFT, ProjectState.AT_COMMITTEE])
def test_only_a_published_project_of_ones_own_unit_opens_a_report(demo_accounts, session, state):
    cardio, peds = demo_accounts["bma_cardio"], demo_accounts["bma_peds"]
    project = make_project(session, cardio, state)
    with pytest.raises(NotAllowed):
        execution.open_report(session, cardio, project)
    published = make_project(session, cardio, ProjectState.PUBLISHED)
    with pytest.raises(NotAllowed):
        execution.open_report(session, peds, published)
    with pytest.raises(NotAllowed):
        execution.open_report(session, demo_accounts["bjcme"], published)


def test_a_branch_report_goes_through_its_society_to_the_committee(demo_accounts, session):
    a = accounts(demo_accounts)
    report = published_report(session, a["branch"])
    session.commit()
    execution.move(session, report, Action.REPORT, a["branch"])
    assert report.state == E.AT_SOCIETY
    execution.move(session, report, Action.REPORT, a["society"])
    assert report.state == E.AT_COMMITTEE
    execution.move(session, report, Action.ACCEPT, a["committee"])
    session.commit()
    assert report.state == E.ACCEPTED and report.accepted_at is not None
    moves = session.execute(
        select(ExecutionEvent.action, ExecutionEvent.from_state, ExecutionEvent.to_state)
        .where(ExecutionEvent.report_id == report.id)
        .order_by(ExecutionEvent.id)
    ).all()
    assert [tuple(m) for m in moves] == [
        ("create", None, "draft"),
        ("report", "draft", "at_society"),
        ("report", "at_society", "at_committee"),
        ("accept", "at_committee", "accepted"),
    ]
    # A snapshot each time it was reported or accepted.
    count = select(func.count()).where(ExecutionSnapshot.report_id == report.id)
    assert session.scalar(count) == 3


def test_an_issuer_reports_straight_to_the_committee(demo_accounts, session):
    a = accounts(demo_accounts)
    report = published_report(session, a["issuer"])
    execution.move(session, report, Action.REPORT, a["issuer"])
    assert report.state == E.AT_COMMITTEE


def test_a_send_back_needs_a_reason_at_every_level(demo_accounts, session):
    a = accounts(demo_accounts)
    report = published_report(session, a["branch"])
    execution.move(session, report, Action.REPORT, a["branch"])
    with pytest.raises(ReasonRequired):
        execution.move(session, report, Action.UNLOCK, a["society"])
    execution.move(session, report, Action.UNLOCK, a["society"], reason="名单缺考勤")
    assert report.state == E.RETURNED and report.return_reason == "名单缺考勤"
    execution.move(session, report, Action.REPORT, a["branch"])
    assert report.return_reason is None
    execution.move(session, report, Action.REPORT, a["society"])
    execution.move(session, report, Action.ACCEPT, a["committee"])
    with pytest.raises(ReasonRequired):
        execution.move(session, report, Action.UNLOCK, a["committee"])
    execution.move(session, report, Action.UNLOCK, a["committee"], reason="更正学分")
    assert report.state == E.RETURNED and report.accepted_at is None


# Every (kind of account, action, state): the table says yes exactly where the engine
# moves the report.
KINDS = ("branch", "other_branch", "society", "other_society", "issuer", "committee")
ACTIONS = (Action.REPORT, Action.UNLOCK, Action.ACCEPT)


def _drive(session, report, state, a, owner):
    path = {
        E.DRAFT: [],
        E.AT_SOCIETY: [(Action.REPORT, owner)],
        E.AT_COMMITTEE: [(Action.REPORT, owner)]
        + ([(Action.REPORT, a["society"])] if owner is a["branch"] else []),
        E.RETURNED: [(Action.REPORT, owner), (Action.UNLOCK, None)],
    }
    path[E.ACCEPTED] = path[E.AT_COMMITTEE] + [(Action.ACCEPT, a["committee"])]
    for action, actor in path[state]:
        actor = actor or (a["society"] if owner is a["branch"] else a["committee"])
        execution.move(session, report, action, actor, reason="理由")


@pytest.mark.parametrize("owner_kind", ["branch", "issuer"])
def test_every_transition_is_allowed_exactly_where_the_table_says(
    demo_accounts, session, owner_kind
):
    a = accounts(demo_accounts)
    owner = a[owner_kind]
    states = [E.DRAFT, E.RETURNED, E.AT_COMMITTEE, E.ACCEPTED]
    if owner_kind == "branch":
        states.append(E.AT_SOCIETY)
    for state in states:
        for kind in KINDS:
            for action in ACTIONS:
                report = published_report(session, owner)
                _drive(session, report, state, a, owner)
                assert report.state == state
                rel = execution.relation(a[kind], report)
                expected = EXECUTIONS.find(action, rel, state)
                result = execution.move_bulk(session, action, a[kind], [report.id], reason="理由")
                if expected is None:
                    assert result.done == [], (state, kind, action)
                    assert report.state == state
                else:
                    assert result.done == [report.id], (state, kind, action)
                    session.refresh(report)
                    assert report.state == expected.target, (state, kind, action)


def test_the_report_table_is_a_second_table_of_the_same_engine():
    assert {t.action for t in EXECUTION_TRANSITIONS} == {
        Action.EDIT,
        Action.REPORT,
        Action.UNLOCK,
        Action.ACCEPT,
    }
    assert EXECUTIONS.find(Action.PUBLISH, None, E.AT_COMMITTEE) is None


def test_bulk_accept_skips_what_it_may_not_move_with_the_same_messages(demo_accounts, session):
    a = accounts(demo_accounts)
    ready = [published_report(session, a["issuer"]) for _ in range(3)]
    for report in ready:
        execution.move(session, report, Action.REPORT, a["issuer"])
    draft = published_report(session, a["issuer"])  # not reported: the committee cannot see it
    accepted = published_report(session, a["issuer"])
    execution.move(session, accepted, Action.REPORT, a["issuer"])
    execution.move(session, accepted, Action.ACCEPT, a["committee"])
    session.commit()
    ids = [r.id for r in ready] + [draft.id, accepted.id, 999_999]
    result = execution.move_bulk(session, Action.ACCEPT, a["committee"], ids)
    assert sorted(result.done) == sorted(r.id for r in ready)
    kinds = sorted(type(s).__name__ for s in result.skipped)
    assert kinds == ["NotAllowed", "ReportNotFound", "ReportNotFound"]
    refused = next(s for s in result.skipped if isinstance(s, NotAllowed))
    assert refused.project_id == accepted.id


def test_bulk_accept_of_many_reports_costs_the_same_statements(
    demo_accounts, session, count_statements
):
    a = accounts(demo_accounts)
    counts = []
    for size in (2, 12):
        reports = [published_report(session, a["issuer"]) for _ in range(size)]
        for report in reports:
            execution.move(session, report, Action.REPORT, a["issuer"])
        ids = [r.id for r in reports]
        session.commit()
        a["committee"].unit  # noqa: B018 - loaded before counting, as a request has it
        with count_statements() as counter:
            result = execution.move_bulk(session, Action.ACCEPT, a["committee"], ids)
        assert len(result.done) == size
        counts.append(counter.count)
        session.commit()
    assert counts[0] == counts[1], "\n".join(s[:120].replace("\n", " ") for s in counter.statements)


def test_a_stale_accept_loses_to_a_send_back(demo_accounts, session):
    a = accounts(demo_accounts)
    report = published_report(session, a["issuer"])
    execution.move(session, report, Action.REPORT, a["issuer"])
    session.commit()
    seen = report.state
    execution.move(session, report, Action.UNLOCK, a["committee"], reason="缺名单")
    result = execution.move_bulk(
        session, Action.ACCEPT, a["committee"], [report.id]
    )  # the committee's list was read before the send-back
    assert result.done == []
    stale = execution.engine.apply_bulk(
        session,
        Action.ACCEPT,
        a["committee"],
        [report.id],
        expected={report.id: seen},
        machine=EXECUTIONS,
    )
    assert isinstance(stale.skipped[0], ReportChanged)


# -- the roster -----------------------------------------------------------------------------
def test_the_roster_keeps_its_rules(demo_accounts, session):
    cardio = demo_accounts["bma_cardio"]
    report = published_report(session, cardio)
    entry, errors = execution.add_learner(session, cardio, report, learner())
    assert errors == {} and entry.credits == report.credits and entry.attended
    same = learner(id_number=entry.id_number.lower().replace("x", "x"))
    assert execution.add_learner(session, cardio, report, same)[1] == {
        "id_number": execution.DUPLICATE_LEARNER
    }
    wrong_check = entry.id_number[:17] + ("0" if entry.id_number[17] != "0" else "1")
    errors = execution.add_learner(session, cardio, report, learner(id_number=wrong_check))[1]
    assert "id_number" in errors
    too_many = execution.add_learner(session, cardio, report, learner(credits=report.credits + 1))
    assert "credits" in too_many[1]
    half = execution.add_learner(session, cardio, report, learner(credits=0.3))
    assert "credits" in half[1]
    passport = execution.add_learner(
        session, cardio, report, learner(id_type="passport", id_number="E12345678")
    )
    assert passport[1] == {}
    assert execution.roster_count(session, report.id) == 2


def test_a_full_width_id_number_is_the_same_learner(demo_accounts, session):
    cardio = demo_accounts["bma_cardio"]
    report = published_report(session, cardio)
    number = id_number()
    wide = "".join(chr(ord(c) + 0xFEE0) for c in number)
    assert execution.add_learner(session, cardio, report, learner(id_number=number))[1] == {}
    assert "id_number" in execution.add_learner(session, cardio, report, learner(id_number=wide))[1]


def test_an_accepted_roster_is_locked_and_a_correction_shows_who_changed(demo_accounts, session):
    a = accounts(demo_accounts)
    report = published_report(session, a["issuer"])
    first, _ = execution.add_learner(session, a["issuer"], report, learner(name="甲"))
    second, _ = execution.add_learner(session, a["issuer"], report, learner(name="乙"))
    execution.move(session, report, Action.REPORT, a["issuer"])
    execution.move(session, report, Action.ACCEPT, a["committee"])
    with pytest.raises(NotAllowed):
        execution.add_learner(session, a["issuer"], report, learner(name="丙"))
    with pytest.raises(NotAllowed):
        execution.remove_learners(session, a["issuer"], report, [first.id])
    execution.move(session, report, Action.UNLOCK, a["committee"], reason="补录学员")
    execution.add_learner(session, a["issuer"], report, learner(name="丙"))
    execution.remove_learners(session, a["issuer"], report, [first.id])
    values = {
        "name": "乙",
        "id_number": second.id_number,
        "workplace": "北京协和医院",
        "credits": 0,
        "attended": False,
    }
    assert execution.update_learner(session, a["issuer"], report, second, values) == {}
    execution.move(session, report, Action.REPORT, a["issuer"])
    changes = execution.since_last_report(session, report)
    assert [(c.kind, c.name) for c in changes] == [
        ("removed", "甲"),
        ("changed", "乙"),
        ("added", "丙"),
    ]
    assert all("*" in c.id_number for c in changes)


def test_filed_vs_held_flags_dates_credits_hours_and_lecturers(demo_accounts, session):
    cardio = demo_accounts["bma_cardio"]
    report = published_report(session, cardio)
    assert execution.filed_vs_held(report).count == 0
    values = {name: getattr(report, name) for name in execution.REPORT_FIELDS}
    values |= {"credits": report.credits - 0.5, "venue": "线上会场"}
    lecturers = [{"name": "李医生", "topic": "新进展", "hours": 1}]
    assert execution.save_report(session, cardio, report, values, lecturers) == {}
    held = execution.filed_vs_held(report)
    assert {c.name for c in held.changes.fields} == {"credits", "venue"}
    assert held.flagged == {"credits", "lecturers"}


def test_a_report_cannot_award_more_than_the_published_credits(demo_accounts, session):
    cardio = demo_accounts["bma_cardio"]
    report = published_report(session, cardio)
    values = {name: getattr(report, name) for name in execution.REPORT_FIELDS}
    errors = execution.save_report(session, cardio, report, values | {"credits": 99})
    assert "credits" in errors


# -- who sees what --------------------------------------------------------------------------
def test_reports_and_rosters_are_seen_only_along_the_review_chain(demo_accounts, session):
    a = accounts(demo_accounts)
    other = make_tree(session, "exec_")
    report = published_report(session, a["branch"])
    execution.add_learner(session, a["branch"], report, learner())
    session.commit()

    def sees(account) -> tuple[bool, bool]:
        reports = session.scalars(visible_executions(account)).all()
        roster = session.scalars(visible_roster(account)).all()
        return report.id in [r.id for r in reports], bool(
            [e for e in roster if e.report_id == report.id]
        )

    # A draft: its owner only.
    assert sees(a["branch"]) == (True, True)
    for outsider in (a["other_branch"], a["society"], a["committee"], a["issuer"], *other.values()):
        assert sees(outsider) == (False, False)
        with pytest.raises(ReportNotFound):
            execution.visible_report(session, outsider, report.id)
    execution.move(session, report, Action.REPORT, a["branch"])
    session.commit()
    assert sees(a["society"]) == (True, True) and sees(a["committee"]) == (True, True)
    for outsider in (a["other_branch"], a["other_society"], a["issuer"], *other.values()):
        assert sees(outsider) == (False, False)


def test_id_numbers_are_whole_only_to_the_owner_while_it_may_edit(demo_accounts, session):
    a = accounts(demo_accounts)
    report = published_report(session, a["branch"])
    entry, _ = execution.add_learner(session, a["branch"], report, learner())
    number = entry.id_number
    assert execution.shown_id_number(a["branch"], report, number) == number
    execution.move(session, report, Action.REPORT, a["branch"])
    masked = number[:3] + "*" * 11 + number[-4:]
    for account in (a["branch"], a["society"], a["committee"]):
        assert execution.shown_id_number(account, report, number) == masked


def test_roster_rows_are_deleted_only_with_their_report(demo_accounts, session):
    cardio = demo_accounts["bma_cardio"]
    report = published_report(session, cardio)
    execution.add_learner(session, cardio, report, learner())
    session.commit()
    assert session.scalar(select(func.count()).select_from(RosterEntry)) >= 1
    assert session.get(ExecutionReport, report.id) is not None


# -- concurrency ----------------------------------------------------------------------------
@pytest.mark.parametrize("round_", range(3))
def test_accept_and_send_back_at_once_exactly_one_wins(demo_accounts, session, backend, round_):
    """Two committee members, each with their own PostgreSQL connection, act on one
    report at the same moment: one 审核通过, one 设为可修改. One wins, the other is told
    the report changed, and the history has one move."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers with a database lock; the race needs PostgreSQL")
    a = accounts(demo_accounts)
    report = published_report(session, a["issuer"])
    execution.move(session, report, Action.REPORT, a["issuer"])
    session.commit()
    report_id = report.id
    moves = select(func.count()).where(
        ExecutionEvent.report_id == report_id, ExecutionEvent.from_state == "at_committee"
    )
    outcomes = race(
        ExecutionReport,
        report_id,
        a["committee"].id,
        execution.move,
        ReportChanged,
        {"accept": Action.ACCEPT, "unlock": Action.UNLOCK},
    )
    assert sorted(type(v).__name__ for v in outcomes.values()) == ["ReportChanged", "str"]
    winner = next(name for name, value in outcomes.items() if value == "won")
    session.expire_all()
    expected = E.ACCEPTED if winner == "accept" else E.RETURNED
    assert session.get(ExecutionReport, report_id).state == expected
    assert session.scalar(moves) == 1
