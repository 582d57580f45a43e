"""Filing rules (备案规则) through the workflow engine: each rule holds a project
back (block) or lets it move with a recorded warning (warn), on report and on
publish; a committee's rules apply to its own tree only; statements do not grow
with the number of projects."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

import workflow
from models import FilingRule, Lecturer, Project, ProjectState, ProjectWarning, RuleKind, Severity
from tests.factories import counted_report, make_project, make_tree, report
from workflow import Action, NotAllowed, filing_rules

S = ProjectState
BLOCK, WARN = Severity.BLOCK, Severity.WARN
SOON = filing_rules.today() + timedelta(days=5)
LATER = filing_rules.today() + timedelta(days=60)


def only(session, committee, kind, severity=BLOCK, year=None, **params):
    """Exactly one active rule for the committee's year."""
    year = year or LATER.year
    session.execute(
        update(FilingRule).where(FilingRule.committee_id == committee.unit_id).values(active=False)
    )
    rule = filing_rules.set_rule(
        session, committee.unit_id, year, kind, severity=severity, **params
    )
    session.commit()
    return rule


def all_rules(session, committee, severity, year=None):
    for kind in RuleKind:
        filing_rules.set_rule(
            session, committee.unit_id, year or LATER.year, kind, severity=severity
        )
    session.commit()


def good(**overrides):
    """Fields no default rule objects to (dates well ahead, credits within hours)."""
    return {
        "year": LATER.year,
        "start_date": LATER,
        "end_date": LATER + timedelta(days=1),
        "theory_hours": 12,
        "credits": 4,
    } | overrides


def titled(project, session):
    for lecturer in project.lecturers:
        lecturer.title = "主任医师"
    session.flush()
    return project


def skipped(result) -> dict[int, str]:
    return {error.project_id: str(error) for error in result.skipped}


def recorded(session, project) -> list[str]:
    """The codes of the warnings ``project`` moved up with."""
    session.expire_all()
    row = session.get(ProjectWarning, project.id)
    return sorted(w["code"] for w in row.warnings) if row else []


# -- each rule: block and warn --------------------------------------------------
CASES = {
    # rule: (params, fields breaking it, fields keeping it, Chinese text)
    RuleKind.DEADLINE: ({"days": 14}, {"start_date": SOON, "end_date": SOON}, {}, "备案期限"),
    RuleKind.CREDITS: (
        {"hours_per_credit": 3},
        {"theory_hours": 6, "credits": 4},
        {"theory_hours": 12, "credits": 4},
        "超过总学时6÷3=2分",
    ),
    RuleKind.LECTURERS: ({}, {"_untitled": True}, {}, "请填写王教授的职称"),
}


@pytest.mark.parametrize("kind", list(CASES))
@pytest.mark.parametrize("severity", [BLOCK, WARN])
def test_a_rule_blocks_or_warns_on_report(demo_accounts, session, kind, severity):
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    params, bad_fields, ok_fields, text = CASES[kind]
    bad_fields = dict(bad_fields)
    untitled = bad_fields.pop("_untitled", False)
    bad = make_project(session, cardio, **good(**bad_fields))
    ok = titled(make_project(session, cardio, **good(**ok_fields)), session)
    if not untitled:
        titled(bad, session)
    session.commit()
    only(session, bjcme, kind, severity, **params)

    result = report(session, cardio, [bad, ok])

    if severity is BLOCK:
        assert result.done == [ok.id]
        assert text in skipped(result)[bad.id]
        assert session.get(Project, bad.id).state is S.DRAFT
        assert recorded(session, bad) == []
    else:
        assert sorted(result.done) == sorted([bad.id, ok.id]) and not result.skipped
        assert recorded(session, bad) and recorded(session, ok) == []
        shown = filing_rules.warnings_for(session, demo_accounts["bma"], [bad.id, ok.id])
        assert list(shown) == [bad.id] and text in shown[bad.id][0]


def test_credits_above_the_levels_maximum(demo_accounts, session):
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    project = titled(make_project(session, cardio, **good(theory_hours=30, credits=8)), session)
    session.commit()
    only(session, bjcme, RuleKind.CREDITS, max_society_i=6)
    result = report(session, cardio, [project])
    assert "学（协）会Ⅰ类项目拟授学分至多6分，本项目为8分" in skipped(result)[project.id]


def test_no_lecturer_at_all(demo_accounts, session):
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    project = make_project(session, cardio, **good())
    project.lecturers = []
    session.commit()
    only(session, bjcme, RuleKind.LECTURERS)
    assert "请至少填写一名授课教师" in skipped(report(session, cardio, [project]))[project.id]


def test_duplicate_name_names_the_project_the_user_may_see(demo_accounts, session):
    cardio, peds, bjcme = (
        demo_accounts["bma_cardio"],
        demo_accounts["bma_peds"],
        demo_accounts["bjcme"],
    )
    own = make_project(session, cardio, S.AT_SOCIETY, **good(name="心血管年会"))
    theirs = make_project(session, peds, S.AT_SOCIETY, **good(name="儿科年会"))
    mine = make_project(session, cardio, **good(name="心血管年会"))
    copy = make_project(session, cardio, **good(name="儿科年会"))
    session.commit()
    only(session, bjcme, RuleKind.DUPLICATE)

    reasons = skipped(report(session, cardio, [mine, copy]))

    assert "已有同名项目“心血管年会”备案" in reasons[mine.id]
    # The other branch's project is not the branch's to see: not named.
    assert "已有同名项目另一单位的项目备案" in reasons[copy.id]
    assert "儿科年会" not in reasons[copy.id]
    assert own.id != theirs.id


def test_duplicate_principal_with_overlapping_dates(demo_accounts, session):
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    first = make_project(session, cardio, S.AT_SOCIETY, **good(principal="赵主任"))
    overlapping = make_project(
        session, cardio, **good(principal="赵主任", start_date=LATER + timedelta(days=1))
    )
    apart = make_project(
        session,
        cardio,
        **good(
            principal="赵主任",
            start_date=LATER + timedelta(days=10),
            end_date=LATER + timedelta(days=11),
        ),
    )
    session.commit()
    only(session, bjcme, RuleKind.DUPLICATE)
    result = report(session, cardio, [overlapping, apart])
    assert result.done == [apart.id]
    assert (
        f"负责人赵主任已有举办日期重叠的项目“{first.name}”备案" in skipped(result)[overlapping.id]
    )


def test_two_copies_reported_together_hold_back_the_second(demo_accounts, session):
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    a = make_project(session, cardio, **good(name="同一项目"))
    b = make_project(session, cardio, **good(name="同一项目"))
    session.commit()
    only(session, bjcme, RuleKind.DUPLICATE)
    result = report(session, cardio, [b, a])
    assert result.done == [a.id] and list(skipped(result)) == [b.id]


def test_principal_quota(demo_accounts, session):
    cardio, peds, bjcme = (
        demo_accounts["bma_cardio"],
        demo_accounts["bma_peds"],
        demo_accounts["bjcme"],
    )
    make_project(session, cardio, S.AT_SOCIETY, **good(principal="钱主任"))
    make_project(session, peds, S.PUBLISHED, **good(principal="钱主任"))
    third = make_project(session, cardio, **good(principal="钱主任"))
    session.commit()
    only(session, bjcme, RuleKind.QUOTA, max_projects=2)
    assert (
        "负责人钱主任本年度已有2个项目备案，每年至多2个"
        in (skipped(report(session, cardio, [third]))[third.id])
    )
    only(session, bjcme, RuleKind.QUOTA, max_projects=3)
    assert report(session, cardio, [third]).done == [third.id]


def test_rules_run_on_publish(demo_accounts, session):
    pumch, bjcme = demo_accounts["pumch"], demo_accounts["bjcme"]
    project = make_project(session, pumch, S.AT_COMMITTEE, **good(theory_hours=6, credits=4))
    session.commit()
    only(session, bjcme, RuleKind.CREDITS)
    result = workflow.apply_bulk(session, Action.PUBLISH, bjcme, [project.id])
    session.commit()
    assert result.done == [] and "学时与学分" in skipped(result)[project.id]
    only(session, bjcme, RuleKind.CREDITS, WARN)
    result = workflow.apply_bulk(session, Action.PUBLISH, bjcme, [project.id])
    session.commit()
    assert result.done == [project.id] and recorded(session, project) == ["credits_hours"]


def test_a_mixed_selection_names_each_blocked_project(demo_accounts, session):
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    fine = titled(make_project(session, cardio, **good()), session)
    late = titled(make_project(session, cardio, **good(start_date=SOON, end_date=SOON)), session)
    untitled = make_project(session, cardio, **good())
    session.commit()
    all_rules(session, bjcme, BLOCK)
    result = report(session, cardio, [fine, late, untitled])
    assert result.done == [fine.id]
    reasons = skipped(result)
    assert set(reasons) == {late.id, untitled.id}
    assert reasons[late.id].startswith("备案期限") and "职称" in reasons[untitled.id]
    assert all(isinstance(e, NotAllowed) and e.project_name for e in result.skipped)


def reported_with_a_warning(session, demo_accounts):
    """A project of bma_cardio's with untitled lecturers, reported under a warning rule
    for them (the only rule): the project, its warning recorded."""
    cardio = demo_accounts["bma_cardio"]
    project = make_project(session, cardio, **good())
    session.commit()
    only(session, demo_accounts["bjcme"], RuleKind.LECTURERS, WARN)
    report(session, cardio, [project])
    assert recorded(session, project) == ["untitled"]
    return project


def test_warnings_are_replaced_when_the_project_moves_up_again(demo_accounts, session):
    cardio, bma = demo_accounts["bma_cardio"], demo_accounts["bma"]
    project = reported_with_a_warning(session, demo_accounts)
    workflow.apply_bulk(session, Action.UNLOCK, bma, [project.id], "请补充职称")
    titled(session.get(Project, project.id), session)
    session.commit()
    report(session, cardio, [project])
    assert recorded(session, project) == []


def test_warnings_go_with_a_deleted_project(demo_accounts, session):
    cardio, bma = demo_accounts["bma_cardio"], demo_accounts["bma"]
    project = reported_with_a_warning(session, demo_accounts)
    workflow.apply_bulk(session, Action.UNLOCK, bma, [project.id], "请补充")
    workflow.apply_bulk(session, Action.DELETE, cardio, [project.id])
    session.commit()
    assert recorded(session, project) == []


def test_inactive_rules_and_other_years_check_nothing(demo_accounts, session):
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    project = make_project(session, cardio, **good(start_date=SOON, end_date=SOON))
    session.commit()
    only(session, bjcme, RuleKind.DEADLINE, year=LATER.year + 1)
    assert report(session, cardio, [project]).done == [project.id]


# -- one committee's rules, its own tree ---------------------------------------------
def test_a_committees_rules_apply_to_its_own_tree_only(demo_accounts, session):
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    other = make_tree(session, "t2_")
    ours = make_project(session, cardio, **good(start_date=SOON, end_date=SOON))
    theirs = make_project(session, other["branch"], **good(start_date=SOON, end_date=SOON))
    session.commit()
    only(session, other["committee"], RuleKind.DEADLINE)
    assert report(session, cardio, [ours]).done == [ours.id]
    assert theirs.id in skipped(report(session, other["branch"], [theirs]))

    # And a duplicate in another tree is no duplicate here.
    twin = make_project(session, cardio, **good(name=theirs.name, principal="甲"))
    filed = make_project(session, other["branch"], S.AT_SOCIETY, **good(name="两树同名"))
    mine = make_project(session, cardio, **good(name="两树同名", principal="乙"))
    session.commit()
    only(session, bjcme, RuleKind.DUPLICATE)
    assert sorted(report(session, cardio, [twin, mine]).done) == sorted([twin.id, mine.id])
    assert filed.id


# -- cost --------------------------------------------------------------------------
@pytest.mark.parametrize("severity", [BLOCK, WARN])
def test_statements_do_not_grow_with_the_rows(demo_accounts, session, count_statements, severity):
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    all_rules(session, bjcme, severity)
    counts = {}
    for size in (1, 8):
        # Every project breaks every rule but the duplicate one (distinct names and
        # principals): the same work per row, whatever the number of rows.
        ids = []
        for i in range(size):
            project = make_project(
                session,
                cardio,
                **good(start_date=SOON, end_date=SOON, theory_hours=3, credits=4),
                principal=f"负责人{size}-{i}",
            )
            ids.append(project.id)
        session.commit()
        result, counts[size] = counted_report(session, cardio, ids, count_statements)
        assert len(result.done if severity is WARN else result.skipped) == size
    assert counts[1] == counts[8], counts


# -- the form's and the import's check -------------------------------------------------
def test_check_values_judges_unsaved_rows(demo_accounts, session):
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    all_rules(session, bjcme, WARN)
    rows = [
        good(name="新项目", principal="孙主任", lecturers=[{"name": "甲", "title": "教授"}]),
        good(name="新项目", principal="周主任", lecturers=[Lecturer(name="乙")]),
        {"year": None},
    ]
    found = filing_rules.check_values(session, cardio, rows)
    assert found[0] == []
    assert {v.code for v in found[1]} == {"duplicate_name", "untitled"}
    assert found[2] == []
    # An administrative unit files nothing: nothing to judge.
    assert filing_rules.check_values(session, bjcme, rows) == [[], [], []]


def test_stored_warning_names_the_other_project_only_to_who_may_see_it(demo_accounts, session):
    cardio, peds, bma, bjcme = (
        demo_accounts[k] for k in ("bma_cardio", "bma_peds", "bma", "bjcme")
    )
    make_project(session, peds, S.AT_SOCIETY, **good(name="同名"))
    second = make_project(session, cardio, **good(name="同名"))
    session.commit()
    only(session, bjcme, RuleKind.DUPLICATE, WARN)
    report(session, cardio, [second])
    # The society sees both branches' projects: named; the branch not the other's.
    assert "“同名”" in filing_rules.warnings_for(session, bma, [second.id])[second.id][0]
    hidden = filing_rules.warnings_for(session, cardio, [second.id])[second.id][0]
    assert "另一单位的项目" in hidden and "同名”" not in hidden
