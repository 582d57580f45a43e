"""Rules carry over (issue 25 §1): a committee's year without rules of its own is
checked by the latest earlier year that has some, until it is given its own
(复制并修改) or set to no rules explicitly (本年度不设规则). Through the workflow
engine on both databases; the page: tests/admin/test_filing_rules_panel.py."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete

import workflow
from models import FilingRule, ProjectState, RuleKind, Severity
from tests.factories import make_project, make_tree, report
from workflow import Action, filing_rules

S = ProjectState
BLOCK, WARN = Severity.BLOCK, Severity.WARN
# Projects starting early in 2027 that no default rule but the deadline objects to:
# the deadline rule, at 400 days, holds every one of them back.
START = date(2027, 3, 1)
FIELDS = {"year": 2027, "start_date": START, "end_date": START, "theory_hours": 12, "credits": 4}


@pytest.fixture
def tree(demo_accounts, session):
    """A committee's own tree without rules (the demo's committee has the demo's)."""
    return make_tree(session, "co_")


def deadline(session, tree, year: int, severity=BLOCK, **params):
    filing_rules.set_rule(
        session,
        tree["committee"].unit_id,
        year,
        RuleKind.DEADLINE,
        severity=severity,
        **({"days": 400} | params),
    )
    session.commit()


def fresh(session, tree):
    project = make_project(session, tree["branch"], **FIELDS)
    session.commit()
    return project


def test_a_blocking_2026_rule_holds_a_2027_report(session, tree):
    deadline(session, tree, 2026)
    project = fresh(session, tree)
    result = report(session, tree["branch"], [project])
    assert result.done == []
    assert "备案期限" in str(result.skipped[0])
    # The form's yellow box and the import's preview read the same rules.
    values = filing_rules.values_of(project)
    found = filing_rules.check_values(session, tree["branch"], [values])[0]
    assert [(v.kind, v.blocks) for v in found] == [(RuleKind.DEADLINE, True)]


def test_the_latest_earlier_year_rules_not_an_older_one(session, tree):
    deadline(session, tree, 2024)
    # 2025 saved with every rule off: "no rules", which 2027 follows (not 2024's).
    filing_rules.clear_rules(session, tree["committee"].unit_id, 2025)
    session.commit()
    project = fresh(session, tree)
    assert report(session, tree["branch"], [project]).done == [project.id]


def test_a_later_year_never_rules_an_earlier_one(session, tree):
    deadline(session, tree, 2028)
    project = fresh(session, tree)
    assert report(session, tree["branch"], [project]).done == [project.id]


def test_no_rules_set_explicitly_stops_the_carry_over(session, tree):
    deadline(session, tree, 2026)
    committee = tree["committee"].unit_id
    filing_rules.clear_rules(session, committee, 2027)
    session.commit()
    assert filing_rules.ruling_year(session, committee, 2027) == 2027
    assert filing_rules.active_settings(session, [(committee, 2027)]) == {}
    project = fresh(session, tree)
    assert report(session, tree["branch"], [project]).done == [project.id]
    # 2026 keeps its own.
    assert list(filing_rules.active_settings(session, [(committee, 2026)])[(committee, 2026)]) == [
        RuleKind.DEADLINE
    ]


def test_copy_makes_the_rules_the_years_own_and_then_they_differ(session, tree):
    committee = tree["committee"].unit_id
    deadline(session, tree, 2026, severity=WARN, days=30)
    filing_rules.set_rule(session, committee, 2026, RuleKind.QUOTA, active=False, max_projects=7)
    session.commit()
    assert filing_rules.ruling_year(session, committee, 2027) == 2026
    assert filing_rules.copy_rules(session, committee, 2026, 2027) == 1
    session.commit()
    own = filing_rules.settings_of(session, committee, 2027)
    assert all(rule.id is not None for rule in own.values())  # every kind stored
    assert own[RuleKind.DEADLINE].active and own[RuleKind.DEADLINE].severity is WARN
    assert own[RuleKind.DEADLINE].param("days") == 30
    assert not own[RuleKind.QUOTA].active and own[RuleKind.QUOTA].param("max_projects") == 7
    # Changed for 2027, 2026 keeps its own.
    filing_rules.set_rule(session, committee, 2027, RuleKind.DEADLINE, severity=BLOCK, days=400)
    session.commit()
    settings = filing_rules.active_settings(session, [(committee, 2026), (committee, 2027)])
    assert settings[(committee, 2026)][RuleKind.DEADLINE].param("days") == 30
    assert settings[(committee, 2027)][RuleKind.DEADLINE].severity is BLOCK
    project = fresh(session, tree)
    assert report(session, tree["branch"], [project]).done == []


def test_each_committee_carries_its_own(session, tree, demo_accounts):
    other = make_tree(session, "co2_")
    deadline(session, tree, 2026)
    committees = (tree["committee"].unit_id, other["committee"].unit_id)
    settings = filing_rules.active_settings(session, [(c, 2027) for c in committees])
    assert list(settings) == [(committees[0], 2027)]


def test_active_settings_is_one_statement_whatever_the_keys(session, tree, count_statements):
    committee = tree["committee"].unit_id
    for year in (2020, 2022, 2026):
        deadline(session, tree, year)
    filing_rules.clear_rules(session, committee, 2024)
    session.commit()
    keys = [(committee, year) for year in range(2019, 2031)]
    with count_statements() as counter:
        settings = filing_rules.active_settings(session, keys)
    assert counter.count == 1
    assert sorted(year for _, year in settings) == [2020, 2021, 2022, 2023, *range(2026, 2031)]


def test_a_bulk_report_across_years_costs_the_same_statements(session, tree, count_statements):
    """The carried rules cost nothing per row: a report of 2 or of 8 projects of
    2027 judged by 2026's rules runs the same statements."""
    deadline(session, tree, 2026, severity=WARN)
    counts = []
    for size in (2, 8):
        projects = [
            make_project(session, tree["branch"], **FIELDS, name=f"沿用{size}-{i}")
            for i in range(size)
        ]
        ids = [p.id for p in projects]
        session.commit()
        with count_statements() as counter:
            result = workflow.apply_bulk(session, Action.REPORT, tree["branch"], ids)
        session.commit()
        assert len(result.done) == size
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_no_rule_row_at_all_checks_nothing(session, tree):
    session.execute(delete(FilingRule).where(FilingRule.committee_id == tree["committee"].unit_id))
    session.commit()
    assert filing_rules.ruling_year(session, tree["committee"].unit_id, 2027) is None
    project = fresh(session, tree)
    assert report(session, tree["branch"], [project]).done == [project.id]
