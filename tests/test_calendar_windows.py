"""申报时间 through the workflow engine: each step inside and outside its window (a
branch's and an issuer's 上报, a society's 上报, the committee's 审核), a society's
earlier cut-off, named exceptions before and after their expiry (a society's capped
at the committee's close), sending back outside a window, the history's note on a
late step, the unit's history entry, and statements constant in the rows. The clock
is moved with time-machine (Beijing noon of the day named)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

import workflow
from models import AuditEntry, AuditEvent, ProjectEvent, ProjectState, WindowException
from models import WindowStep as Step
from tests.factories import make_project, make_tree
from workflow import Action, calendar
from workflow.errors import WorkflowError

S = ProjectState
YEAR = 2027
ENTRY_OPENS, ENTRY_CLOSES = date(2026, 7, 15), date(2027, 1, 10)
CUT_OFF = date(2026, 12, 31)
SOCIETY_CLOSES, AUDIT_CLOSES = date(2027, 1, 20), date(2027, 1, 31)


def on(day: date):
    """The clock at noon of ``day`` in Beijing (04:00 UTC), frozen."""
    return time_machine.travel(datetime(day.year, day.month, day.day, 4, tzinfo=UTC), tick=False)


@pytest.fixture
def tree(session):
    """A tree of its own (no demo windows), with 2027's windows set by its committee."""
    accounts = make_tree(session, "win")
    session.commit()
    return accounts


def set_windows(session, tree, cut_off=True):
    committee = tree["committee"]
    calendar.set_window(session, committee, YEAR, Step.ENTRY_REPORT, ENTRY_OPENS, ENTRY_CLOSES)
    calendar.set_window(session, committee, YEAR, Step.SOCIETY_REPORT, ENTRY_OPENS, SOCIETY_CLOSES)
    calendar.set_window(session, committee, YEAR, Step.AUDIT, ENTRY_OPENS, AUDIT_CLOSES)
    if cut_off:
        calendar.set_window(session, tree["society"], YEAR, Step.ENTRY_REPORT, None, CUT_OFF)
    session.commit()


def projects(session, owner, count=1, state=S.DRAFT):
    made = [make_project(session, owner, state, year=YEAR) for _ in range(count)]
    session.commit()
    return made


def act(session, account, action, rows, reason=None):
    result = workflow.apply_bulk(session, action, account, [p.id for p in rows], reason)
    session.commit()
    return result


def refused(result) -> list[str]:
    return [str(error) for error in result.skipped]


def states(session, rows) -> set:
    session.expire_all()
    return {session.get(type(r), r.id).state for r in rows}


# -- each step inside and outside its window -------------------------------------------
def test_a_branch_reports_until_its_societys_cut_off(session, tree):
    early, inside, late = (projects(session, tree["branch"]) for _ in range(3))
    set_windows(session, tree)
    with on(date(2026, 7, 14)):
        result = act(session, tree["branch"], Action.REPORT, early)
    assert refused(result) == ["2027 年度分会上报将于7月15日开始。"]
    with on(CUT_OFF):
        assert act(session, tree["branch"], Action.REPORT, inside).done == [inside[0].id]
    with on(date(2027, 1, 1)):
        result = act(session, tree["branch"], Action.REPORT, late)
    assert refused(result) == ["2027 年度分会上报已于12月31日截止。"]
    assert states(session, early + late) == {S.DRAFT}
    assert states(session, inside) == {S.AT_SOCIETY}


# A step open until its last day and refused the day after: (whose rows, in which state, who
# acts, the action, whether the society sets its cut-off, the last day, the day after, the
# refusal, the rows' state once done).
# fmt: off
UNTIL_THE_CLOSE = [
    pytest.param("branch", S.DRAFT, "branch", Action.REPORT, False,
                 ENTRY_CLOSES, date(2027, 1, 11), "2027 年度分会上报已于1月10日截止。",
                 S.AT_SOCIETY, id="without_a_cut_off_a_branch_has_the_committees_close"),
    # The society's cut-off is for its own branches: an issuer has the committee's date.
    pytest.param("issuer", S.DRAFT, "issuer", Action.REPORT, True,
                 date(2027, 1, 5), date(2027, 1, 11), "2027 年度发放证书单位上报已于1月10日截止。",
                 S.AT_COMMITTEE, id="an_issuer_reports_until_the_committees_close"),
    pytest.param("branch", S.AT_SOCIETY, "society", Action.REPORT, True,
                 SOCIETY_CLOSES, date(2027, 1, 21), "2027 年度总会上报已于1月20日截止。",
                 S.AT_COMMITTEE, id="a_society_reports_until_its_close"),
    pytest.param("issuer", S.AT_COMMITTEE, "committee", Action.PUBLISH, True,
                 AUDIT_CLOSES, date(2027, 2, 1), "2027 年度市继委审核已于1月31日截止。",
                 S.PUBLISHED, id="the_committee_publishes_until_its_audit_deadline"),
]
# fmt: on


@pytest.mark.parametrize(
    ("owner", "state", "actor", "action", "cut_off", "last_day", "day_after", "refusal", "done"),
    UNTIL_THE_CLOSE,
)
def test_a_step_is_open_until_its_close(
    session, tree, owner, state, actor, action, cut_off, last_day, day_after, refusal, done
):
    inside = projects(session, tree[owner], state=state)
    late = projects(session, tree[owner], state=state)
    set_windows(session, tree, cut_off=cut_off)
    with on(last_day):
        assert act(session, tree[actor], action, inside).done == [inside[0].id]
    with on(day_after):
        assert refused(act(session, tree[actor], action, late)) == [refusal]
    assert states(session, inside) == {done}
    assert states(session, late) == {state}


def test_reviewers_send_back_outside_every_window(session, tree):
    at_society = projects(session, tree["branch"], state=S.AT_SOCIETY)
    at_committee = projects(session, tree["issuer"], state=S.AT_COMMITTEE)
    set_windows(session, tree)
    with on(date(2027, 3, 1)):
        assert act(session, tree["society"], Action.UNLOCK, at_society, "请补充讲者").done
        assert act(session, tree["committee"], Action.UNLOCK, at_committee, "请补充").done
    assert states(session, at_society + at_committee) == {S.RETURNED}


def test_a_year_without_windows_is_open(session, tree):
    rows = [make_project(session, tree["branch"], year=2026)]
    session.commit()
    set_windows(session, tree)
    with on(date(2027, 6, 1)):
        assert act(session, tree["branch"], Action.REPORT, rows).done


# -- exceptions ---------------------------------------------------------------------------
def test_an_exception_lets_a_late_branch_report_until_it_expires(session, tree):
    first, second = projects(session, tree["branch"]), projects(session, tree["branch"])
    set_windows(session, tree)
    branch_unit = tree["branch"].unit
    with on(date(2027, 1, 2)):
        assert refused(act(session, tree["branch"], Action.REPORT, first))
        calendar.grant_exception(
            session, tree["society"], branch_unit, YEAR, Step.ENTRY_REPORT, date(2027, 1, 8), "停电"
        )
        session.commit()
        assert act(session, tree["branch"], Action.REPORT, first).done
    with on(date(2027, 1, 9)):  # expired: back to the society's cut-off
        assert refused(act(session, tree["branch"], Action.REPORT, second)) == [
            "2027 年度分会上报已于12月31日截止。"
        ]
    # The project's history says it went up under the exception…
    note = session.scalar(
        select(ProjectEvent.reason).where(
            ProjectEvent.project_id == first[0].id, ProjectEvent.action == Action.REPORT.value
        )
    )
    assert note == "按申报时间例外上报（至1月8日：停电）"
    # … and the unit's history has the exception, by whom.
    entry = session.scalar(
        select(AuditEntry).where(
            AuditEntry.unit_id == branch_unit.id, AuditEntry.event == AuditEvent.WINDOW_EXCEPTION
        )
    )
    assert entry.event is AuditEvent.WINDOW_EXCEPTION
    assert entry.actor_id == tree["society"].id
    assert "2027" in entry.detail and "2027-01-08" in entry.detail and "停电" in entry.detail


def test_a_late_note_keeps_the_actors_own_reason_and_skips_timely_rows(session, tree):
    at_society = projects(session, tree["branch"], 2, state=S.AT_SOCIETY)
    set_windows(session, tree)
    society = tree["society"].unit
    calendar.grant_exception(
        session, tree["committee"], society, YEAR, Step.SOCIETY_REPORT, date(2027, 1, 25), "换届"
    )
    session.commit()
    with on(SOCIETY_CLOSES):
        assert act(session, tree["society"], Action.REPORT, at_society[:1]).done
    with on(date(2027, 1, 22)):
        assert act(session, tree["society"], Action.REPORT, at_society[1:], "补报").done
    notes = dict(
        session.execute(
            select(ProjectEvent.project_id, ProjectEvent.reason).where(
                ProjectEvent.project_id.in_([p.id for p in at_society]),
                ProjectEvent.to_state == S.AT_COMMITTEE.value,
            )
        ).all()
    )
    assert notes == {
        at_society[0].id: None,
        at_society[1].id: "按申报时间例外上报（至1月25日：换届） 补报",
    }


def test_a_societys_exception_stops_at_the_committees_close(session, tree):
    set_windows(session, tree)
    branch = tree["branch"].unit
    with pytest.raises(WorkflowError, match="不得晚于市继委的截止日期（2027-01-10）"):
        calendar.grant_exception(
            session, tree["society"], branch, YEAR, Step.ENTRY_REPORT, date(2027, 1, 15), "迟"
        )
    # The committee may grant the later day; a society's stored one is read capped.
    session.add(
        WindowException(
            unit_id=branch.id,
            committee_id=branch.committee_id,
            granted_by_unit_id=tree["society"].unit_id,
            year=YEAR,
            step=Step.ENTRY_REPORT,
            until=date(2027, 1, 15),
            reason="迟",
        )
    )
    session.flush()
    ask = calendar.ask_for(branch, Step.ENTRY_REPORT, YEAR)
    window = calendar.windows_for(session, [ask], date(2027, 1, 5))[ask]
    assert window.last_day == ENTRY_CLOSES
    grant = calendar.grant_exception(
        session, tree["committee"], branch, YEAR, Step.ENTRY_REPORT, date(2027, 1, 15), "迟"
    )
    window = calendar.windows_for(session, [ask], date(2027, 1, 5))[ask]
    assert window.last_day == date(2027, 1, 15) and window.grant.id == grant.id


def test_exceptions_are_checked(session, tree):
    set_windows(session, tree)
    other = make_tree(session, "other")
    branch = tree["branch"].unit
    cases = [
        (tree["society"], other["branch"].unit, Step.ENTRY_REPORT, date(2027, 1, 5), "x"),
        (tree["branch"], branch, Step.ENTRY_REPORT, date(2027, 1, 5), "x"),
        (tree["committee"], other["branch"].unit, Step.ENTRY_REPORT, date(2027, 1, 5), "x"),
        (tree["committee"], branch, Step.SOCIETY_REPORT, date(2027, 1, 25), "x"),
        (tree["society"], branch, Step.ENTRY_REPORT, date(2027, 1, 5), "  "),
        (tree["society"], branch, Step.ENTRY_REPORT, date(2026, 12, 30), "x"),
    ]
    for account, unit, step, until, reason in cases:
        with pytest.raises(WorkflowError):
            calendar.grant_exception(session, account, unit, YEAR, step, until, reason)
    assert session.scalar(select(WindowException.id)) is None


# -- setting windows ---------------------------------------------------------------------
def test_windows_are_checked(session, tree):
    committee, society = tree["committee"], tree["society"]
    with pytest.raises(WorkflowError, match="尚未设置"):  # the committee's first
        calendar.set_window(session, society, YEAR, Step.ENTRY_REPORT, None, CUT_OFF)
    set_windows(session, tree, cut_off=False)
    refusals = [
        (society, Step.SOCIETY_REPORT, None, CUT_OFF),
        (society, Step.ENTRY_REPORT, None, date(2027, 1, 11)),
        (society, Step.ENTRY_REPORT, None, date(2026, 7, 1)),
        (tree["branch"], Step.ENTRY_REPORT, None, CUT_OFF),
        (committee, Step.AUDIT, date(2027, 2, 1), date(2027, 1, 1)),
        (committee, Step.AUDIT, None, date(2030, 1, 1)),
    ]
    for account, step, opens_on, closes_on in refusals:
        with pytest.raises(WorkflowError):
            calendar.set_window(session, account, YEAR, step, opens_on, closes_on)
    window = calendar.set_window(session, committee, YEAR, Step.AUDIT, None, date(2027, 2, 5))
    assert (window.opens_on, window.closes_on) == (None, date(2027, 2, 5))
    assert calendar.clear_window(session, committee, YEAR, Step.AUDIT)
    assert not calendar.clear_window(session, committee, YEAR, Step.AUDIT)


# -- the countdown -------------------------------------------------------------------
def test_the_countdown_follows_the_days(session, tree):
    set_windows(session, tree)
    branch, issuer = tree["branch"], tree["issuer"]

    def text(account, day):
        return [c.text for c in calendar.countdowns(session, account, day)]

    assert text(branch, date(2026, 12, 26)) == ["2027 年度：距分会上报截止还有 5 天（12月31日）"]
    assert text(branch, CUT_OFF) == ["2027 年度分会上报今天截止。"]
    assert text(branch, date(2027, 1, 1)) == ["2027 年度分会上报已于12月31日截止。"]
    assert text(issuer, date(2027, 1, 1)) == [
        "2027 年度：距发放证书单位上报截止还有 9 天（1月10日）"
    ]
    assert text(tree["committee"], date(2027, 1, 1)) == [
        "2027 年度：距市继委审核截止还有 30 天（1月31日）"
    ]
    assert text(branch, date(2026, 5, 1)) == []  # opens in more than a month
    calendar.grant_exception(
        session, tree["society"], branch.unit, YEAR, Step.ENTRY_REPORT, date(2027, 1, 8), "停电"
    )
    assert text(branch, date(2026, 12, 26)) == [
        "2027 年度：距分会上报截止还有 13 天（1月8日，按例外）"
    ]
    assert text(branch, date(2027, 1, 2)) == [
        "2027 年度分会上报已于12月31日截止；按例外可上报至1月8日（还有 6 天）。"
    ]


# -- statements constant in the rows -----------------------------------------------------
def test_statements_do_not_grow_with_the_rows(session, tree, count_statements):
    few = projects(session, tree["branch"], 20)
    many = projects(session, tree["branch"], 100)
    set_windows(session, tree)
    calendar.grant_exception(
        session,
        tree["society"],
        tree["branch"].unit,
        YEAR,
        Step.ENTRY_REPORT,
        date(2027, 1, 8),
        "停电",
    )
    session.commit()
    counts = []
    for rows in ([p.id for p in few], [p.id for p in many]):
        with on(date(2027, 1, 5)), count_statements() as counter:
            result = workflow.apply_bulk(session, Action.REPORT, tree["branch"], rows)
        session.commit()
        assert len(result.done) == len(rows)
        counts.append(counter.count)
    assert counts[0] == counts[1]
