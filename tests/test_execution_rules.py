"""The committee's rules around execution reports (执行情况), through the engine on
both databases: the filing rule "overdue execution reports" (block holds the unit's
new projects back with the count and the earliest due date, warn lets them move with
a recorded warning, no rule checks nothing; statements constant in the rows); 撤销公布
refused while the project's report is accepted; the committee's due days per year
carried over to the reports not yet accepted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import workflow
from models import (
    ExecutionDeadline,
    ExecutionReport,
    ExecutionState,
    Project,
    ProjectState,
    ProjectWarning,
    RuleKind,
    Severity,
)
from tests.factories import counted_report, make_project, make_tree, report
from workflow import Action, execution, execution_rules, filing_rules

S, E = ProjectState, ExecutionState
BLOCK, WARN = Severity.BLOCK, Severity.WARN
TODAY = filing_rules.today()
LATER = TODAY + timedelta(days=60)


def ended(session, owner, days_ago: int, state=S.PUBLISHED):
    """A project of ``owner`` that ended ``days_ago`` days ago."""
    end = TODAY - timedelta(days=days_ago)
    return make_project(
        session, owner, state, year=end.year, start_date=end - timedelta(days=1), end_date=end
    )


def new(session, owner, year=None):
    """A draft of ``owner`` no other rule objects to (and no rule but ours is on)."""
    return make_project(session, owner, year=year or LATER.year, start_date=LATER, end_date=LATER)


@pytest.fixture
def tree(demo_accounts, session):
    """A separate committee's tree: its units have no projects but the test's."""
    return make_tree(session, "ov_")


def overdue_setup(session, tree):
    """The branch's published projects: two overdue by more than 30 days (no report;
    a report still a draft), one reported upward, one overdue by 6 days only."""
    branch, society = tree["branch"], tree["society"]
    oldest = ended(session, branch, 100)
    drafted = ended(session, branch, 60)
    execution.open_report(session, branch, drafted)
    sent = ended(session, branch, 80)
    report = execution.open_report(session, branch, sent)
    session.commit()
    execution.move(session, report, Action.REPORT, branch)
    ended(session, branch, 20)
    session.commit()
    assert society
    return oldest.end_date + timedelta(days=14)


def rule(session, tree, severity, year=None, **params):
    filing_rules.set_rule(
        session,
        tree["committee"].unit_id,
        year or LATER.year,
        RuleKind.OVERDUE_REPORTS,
        severity=severity,
        **params,
    )
    session.commit()


def state_of(session, project):
    session.expire_all()
    return session.get(Project, project.id).state


def codes(session, project) -> list[str]:
    session.expire_all()
    row = session.get(ProjectWarning, project.id)
    return sorted(w["code"] for w in row.warnings) if row else []


# -- the filing rule -------------------------------------------------------------------
def test_a_block_rule_holds_back_the_units_new_projects(session, tree):
    since = overdue_setup(session, tree)
    rule(session, tree, BLOCK, overdue_days=30)
    # The next year explicitly without rules (else this year's carry over into it).
    filing_rules.clear_rules(session, tree["committee"].unit_id, LATER.year + 1)
    branch = tree["branch"]
    held, other_year = new(session, branch), new(session, branch, LATER.year + 1)
    issuers = new(session, tree["issuer"])
    session.commit()

    result = report(session, branch, [held, other_year])

    assert result.done == [other_year.id]
    message = {e.project_id: str(e) for e in result.skipped}[held.id]
    assert "执行情况逾期：该单位有2个项目的执行情况逾期超过30天未上报" in message
    assert f"最早一份应于{since.isoformat()}前上报" in message
    assert state_of(session, held) is S.DRAFT and codes(session, held) == []
    # Another unit of the tree, without overdue reports, reports as before.
    assert report(session, tree["issuer"], [issuers]).done == [issuers.id]
    # The society forwarding the branch's project is not the unit reporting it.
    rule(session, tree, WARN, overdue_days=30)
    report(session, branch, [held])
    rule(session, tree, BLOCK, overdue_days=30)
    assert report(session, tree["society"], [held]).done == [held.id]


def test_a_warn_rule_lets_them_move_with_the_warning(session, tree, demo_accounts):
    since = overdue_setup(session, tree)
    rule(session, tree, WARN, overdue_days=30)
    branch = tree["branch"]
    first, second = new(session, branch), new(session, branch)
    session.commit()

    result = report(session, branch, [first, second])

    assert sorted(result.done) == sorted([first.id, second.id]) and not result.skipped
    assert codes(session, first) == ["overdue_reports"] == codes(session, second)
    shown = filing_rules.warnings_for(session, tree["society"], [first.id])[first.id]
    assert "逾期超过30天" in shown[0] and since.isoformat() in shown[0]


def test_the_days_and_what_counts_as_overdue(session, tree):
    overdue_setup(session, tree)
    branch = tree["branch"]
    candidate = [filing_rules.values_of(new(session, branch))]
    session.commit()

    def found(days):
        rule(session, tree, BLOCK, overdue_days=days)
        violations = filing_rules.check_values(session, branch, candidate)[0]
        return [v.params["count"] for v in violations]

    # 100 and 60 days after the end: 86 and 46 days overdue; 20 days after: 6.
    assert found(30) == [2] and found(0) == [3] and found(50) == [1] and found(90) == []
    # Reported upward, the draft's report no longer counts; returned, it counts again.
    drafted = session.scalar(
        select(ExecutionReport).where(
            ExecutionReport.owner_unit_id == branch.unit_id, ExecutionReport.state == E.DRAFT
        )
    )
    execution.move(session, drafted, Action.REPORT, branch)
    session.commit()
    assert found(30) == [1]
    execution.move(session, drafted, Action.UNLOCK, tree["society"], reason="请补充学员名单")
    session.commit()
    assert found(30) == [2]


def test_the_committees_due_days_decide_when_a_report_is_due(session, tree):
    overdue_setup(session, tree)
    branch = tree["branch"]
    candidate = [filing_rules.values_of(new(session, branch))]
    session.commit()
    rule(session, tree, BLOCK, overdue_days=30)
    # The project without a report ended 100 days ago: due after 80 days, it is 20
    # days overdue; the draft's report (60 days ago) is due on the same day after.
    oldest_year = (TODAY - timedelta(days=100)).year
    execution_rules.set_due_days(session, tree["committee"].unit_id, oldest_year, 80)
    late_year = (TODAY - timedelta(days=60)).year
    if late_year != oldest_year:
        execution_rules.set_due_days(session, tree["committee"].unit_id, late_year, 80)
    session.commit()
    assert filing_rules.check_values(session, branch, candidate)[0] == []


def test_no_rule_checks_nothing(session, tree):
    overdue_setup(session, tree)
    rule(session, tree, BLOCK, overdue_days=30)
    filing_rules.set_rule(
        session, tree["committee"].unit_id, LATER.year, RuleKind.OVERDUE_REPORTS, active=False
    )
    session.commit()
    project = new(session, tree["branch"])
    session.commit()
    assert report(session, tree["branch"], [project]).done == [project.id]
    assert codes(session, project) == []


def test_another_committees_rule_does_not_apply(session, tree, demo_accounts):
    overdue_setup(session, tree)
    bjcme = demo_accounts["bjcme"]
    filing_rules.set_rule(
        session, bjcme.unit_id, LATER.year, RuleKind.OVERDUE_REPORTS, severity=BLOCK
    )
    session.commit()
    project = new(session, tree["branch"])
    session.commit()
    assert report(session, tree["branch"], [project]).done == [project.id]


@pytest.mark.parametrize("severity", [BLOCK, WARN])
def test_statements_do_not_grow_with_the_ticked_projects(session, tree, count_statements, severity):
    overdue_setup(session, tree)
    rule(session, tree, severity, overdue_days=30)
    branch = tree["branch"]
    counts = {}
    for size in (2, 20):
        ids = [new(session, branch).id for _ in range(size)]
        session.commit()
        result, counts[size] = counted_report(session, branch, ids, count_statements)
        assert len(result.done if severity is WARN else result.skipped) == size
    assert counts[2] == counts[20], counts


# -- 撤销公布 and deleting ----------------------------------------------------------------
def accepted_report(session, tree):
    branch, society, committee = tree["branch"], tree["society"], tree["committee"]
    project = ended(session, branch, 30)
    report_ = execution.open_report(session, branch, project)
    session.commit()
    execution.move(session, report_, Action.REPORT, branch)
    execution.move(session, report_, Action.REPORT, society)
    execution.move(session, report_, Action.ACCEPT, committee)
    session.commit()
    return project, report_


def withdraw(session, committee, project):
    result = workflow.apply_bulk(
        session, Action.WITHDRAW, committee, [project.id], reason="公布信息有误"
    )
    session.commit()
    return result


def test_withdrawal_sets_an_accepted_report_back_with_the_reason(session, tree):
    """撤销公布 of a project whose report is accepted: the report goes back to its
    unit in the same transaction (its certificates are revoked by that move:
    tests/test_certificates.py), and it is not reported again until the project
    is published again."""
    project, report_ = accepted_report(session, tree)
    committee = tree["committee"]
    result = withdraw(session, committee, project)
    assert result.done == [project.id]
    assert state_of(session, project) is S.AT_COMMITTEE
    session.expire_all()
    report_ = session.get(ExecutionReport, report_.id)
    assert report_.state is E.RETURNED
    assert "项目已撤销公布" in report_.return_reason and "公布信息有误" in report_.return_reason
    refused = execution.move_bulk(session, Action.REPORT, tree["branch"], [report_.id])
    assert refused.done == [] and "项目已撤销公布" in str(refused.skipped[0])


def test_a_withdrawal_of_many_sets_back_the_accepted_reports_at_constant_cost(
    session, tree, count_statements
):
    accepted = [accepted_report(session, tree)[0] for _ in range(3)]
    others = [ended(session, tree["branch"], 10) for _ in range(3)]
    session.commit()
    counts = []
    for projects in (accepted[:1] + others[:1], accepted[1:] + others[1:]):  # 1 then 2 reports
        with count_statements() as counter:
            result = workflow.apply_bulk(
                session, Action.WITHDRAW, tree["committee"], [p.id for p in projects], "有误"
            )
        session.commit()
        assert sorted(result.done) == sorted(p.id for p in projects)
        ours = ("execution_", "certificate", "roster_entries")
        counts.append([st[:60] for st in counter.statements if any(t in st for t in ours)])
    assert counts[0] == counts[1] and counts[0]
    states = session.scalars(
        select(ExecutionReport.state).where(
            ExecutionReport.project_id.in_([p.id for p in accepted])
        )
    ).all()
    assert states == [E.RETURNED] * 3


def test_a_project_with_a_report_is_not_deleted(session, tree):
    """Withdrawn while its report was a draft, then returned to its unit: the unit
    cannot delete it (its report would be left without a project)."""
    branch, committee = tree["branch"], tree["committee"]
    project = ended(session, branch, 10)
    execution.open_report(session, branch, project)
    session.commit()
    assert withdraw(session, committee, project).done == [project.id]
    workflow.apply_bulk(session, Action.UNLOCK, committee, [project.id], reason="请修改")
    session.commit()
    assert state_of(session, project) is S.RETURNED
    # Editing it is still the unit's (the report keeps what was held).
    assert workflow.is_allowed(session.get(Project, project.id), Action.EDIT, branch)
    result = workflow.apply_bulk(session, Action.DELETE, branch, [project.id])
    session.commit()
    assert result.done == [] and "已填报执行情况，不能删除" in str(result.skipped[0])
    assert state_of(session, project) is S.RETURNED
    # A project without a report is deleted as before.
    plain = new(session, branch)
    session.commit()
    assert workflow.apply_bulk(session, Action.DELETE, branch, [plain.id]).done == [plain.id]


# -- the committee's due days ---------------------------------------------------------------
def test_due_days_carry_over_to_the_reports_not_yet_accepted(session, tree, demo_accounts):
    committee = tree["committee"]
    year = TODAY.year - 1
    branch = tree["branch"]

    def opened(owner, **fields):
        project = make_project(
            session,
            owner,
            S.PUBLISHED,
            **{"year": year, "start_date": TODAY.replace(year=year, month=3, day=1),
               "end_date": TODAY.replace(year=year, month=3, day=2)} | fields,
        )  # fmt: skip
        return project, execution.open_report(session, owner, project)

    _, draft = opened(branch)
    _, sent = opened(branch)
    accepted_project, accepted = opened(branch)
    _, other_year = opened(
        branch,
        year=year - 1,
        start_date=TODAY.replace(year=year - 1, month=3, day=1),
        end_date=TODAY.replace(year=year - 1, month=3, day=2),
    )
    cardio = demo_accounts["bma_cardio"]
    _, other_committee = opened(cardio)
    session.commit()
    execution.move(session, sent, Action.REPORT, branch)
    execution.move(session, accepted, Action.REPORT, branch)
    execution.move(session, accepted, Action.REPORT, tree["society"])
    execution.move(session, accepted, Action.ACCEPT, committee)
    session.commit()
    ids = {r.id: r.due_date for r in (draft, sent, accepted, other_year, other_committee)}

    count = execution_rules.set_due_days(session, committee.unit_id, year, 30)
    session.commit()
    session.expire_all()

    assert count == 2
    due = {r.id: r.due_date for r in session.scalars(select(ExecutionReport))}
    end = TODAY.replace(year=year, month=3, day=2)
    assert due[draft.id] == due[sent.id] == end + timedelta(days=30)
    for unchanged in (accepted.id, other_year.id, other_committee.id):
        assert due[unchanged] == ids[unchanged]
    stored = session.get(ExecutionDeadline, (committee.unit_id, year))
    assert stored.days == 30
    # A report opened afterwards is due 30 days after its end; changed again, 7.
    later, opened_later = opened(branch)
    session.commit()
    assert opened_later.due_date == later.end_date + timedelta(days=30)
    assert execution_rules.set_due_days(session, committee.unit_id, year, 7) == 3
    session.commit()
    session.expire_all()
    assert session.get(ExecutionReport, draft.id).due_date == end + timedelta(days=7)
    assert accepted_project.id
    with pytest.raises(ValueError):
        execution_rules.set_due_days(session, committee.unit_id, year, 0)


def test_the_schema_takes_the_new_kind_and_refuses_others(session, demo_accounts):
    """Migration 0020 replaced the CHECK constraint of filing_rules.kind: the new
    kind is stored, an unknown one still refused."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    insert = text(
        "INSERT INTO filing_rules (committee_id, year, kind, severity, active, params,"
        " created_at, updated_at) VALUES (:c, 2031, :kind, 'warn', :on, '{}',"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    committee_id = demo_accounts["bjcme"].unit_id
    session.execute(insert, {"c": committee_id, "kind": "overdue_reports", "on": True})
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(insert, {"c": committee_id, "kind": "no_such_kind", "on": True})
    session.rollback()
