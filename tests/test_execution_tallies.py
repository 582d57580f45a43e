"""``execution_tallies`` (models/execution_tally.py): the database's triggers keep it equal to a
recount after every write the product makes to what 统计 · 执行情况 counts (a project
published or withdrawn, a report opened, moved, returned and accepted, its roster written, the
committee's due days changed) and after hand-written SQL (a project's end date, a report's
due date, an event or a report deleted); the figures read from it equal those of the GROUP BY
over the projects, for any "today" (a past year, this year's months, this month's days);
the SQLite repair puts back a missing trigger and recounts. The same triggers keep
``execution_owner_tallies`` (the entry unit's 执行情况 tabs): equal to a recount after the same
writes, its counts equal to the list's own WHERE per tab."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, func, inspect, select, text, update

import workflow
from admin_views import executions
from app import create_app
from extensions import db
from models import (
    ExecutionEvent,
    ExecutionReport,
    ExecutionState,
    Project,
    ProjectState,
    execution_tally,
    triggers,
)
from reports import Filters, execution_stats
from tests.conftest import app_config, throwaway_database
from tests.factories import make_project, make_tree
from tests.test_execution_workflow import learner
from workflow import Action, execution, execution_rules

S, E = ProjectState, ExecutionState
TODAY = execution_stats.beijing_today()
FIGURES = execution_tally.FIGURES


def stored(session) -> dict[tuple, tuple]:
    t = execution_tally.ExecutionTally
    rows = session.execute(select(t)).scalars()
    return {
        tuple(getattr(r, k) for k in execution_tally.KEY): tuple(
            round(getattr(r, f), 6) for f in FIGURES
        )
        for r in rows
        if any(getattr(r, f) for f in FIGURES)
    }


def recounted(session) -> dict[tuple, tuple]:
    """The rows a full recount gives (the rebuild's SELECT, run here without writing)."""
    dialect = session.connection().dialect.name
    everything = execution_tally.rows(
        "projects", "execution_reports", "execution_events", "execution_deadlines", 1, dialect
    )
    result = session.execute(text(execution_tally._summed([everything])))
    return {tuple(row[:5]): tuple(round(v, 6) for v in row[5:]) for row in result}


def _plain(found) -> tuple[list, tuple]:
    def figures(f):
        return (f.due, f.on_time, f.accepted, f.learners, round(f.credits, 6))

    return [(unit_id, name, figures(f)) for unit_id, name, f in found.units], figures(found.total)


def direct(session, account, filters, today) -> tuple[list, tuple]:
    """统计's units and total from the GROUP BY over the projects (no tally)."""
    return _plain(execution_stats._counted(session, account, filters, today, None))


def tallied(session, account, filters, today) -> tuple[list, tuple]:
    """统计's units and total from the tallies: every unit at once (the workbook), and
    page by page at 1 and 2 units a page, the same units in the same order, each page's
    total the total of every unit (its own rows, ``TOTAL_UNIT``)."""
    units, total = _plain(execution_stats._tallied(session, account, filters, today, None))
    kept = execution_stats.PAGE_SIZE
    try:
        for size in (1, 2):
            execution_stats.PAGE_SIZE = size
            paged = []
            for page in range(-(-len(units) // size)):
                found = execution_stats._tallied(session, account, filters, today, page)
                page_units, page_total = _plain(found)
                assert page_total == total and len(page_units) <= size
                assert found.count == len(units)
                paged += page_units
            assert paged == units, (size, paged, units)
    finally:
        execution_stats.PAGE_SIZE = kept
    return units, total


TODAYS = (
    TODAY,
    TODAY.replace(day=1),
    date(TODAY.year, 1, 1),
    TODAY - timedelta(days=400),
    TODAY + timedelta(days=400),
)


def owner_stored(session) -> dict[tuple, int]:
    t = execution_tally.ExecutionOwnerTally
    rows = session.execute(select(t)).scalars()
    return {
        tuple(getattr(r, k) for k in execution_tally.OWNER_KEY): r.projects
        for r in rows
        if r.projects
    }


def owner_recounted(session) -> dict[tuple, int]:
    dialect = session.connection().dialect.name
    everything = execution_tally.owner_rows(
        "projects", "execution_reports", "execution_deadlines", 1, dialect
    )
    result = session.execute(text(execution_tally._owner_summed([everything])))
    return {tuple(row[:5]): int(row[5]) for row in result}


def owner_direct(session, owner_unit_id: int, year: int | None) -> dict[str, int]:
    """The entry unit's 状态 counts as its list counts them (its WHERE per tab, no cap)."""
    base = select(Project.id).where(
        Project.owner_unit_id == owner_unit_id, Project.state == S.PUBLISHED
    )
    if year is not None:
        base = base.where(Project.year == year)
    conditions = executions.MyExecutionsView.status_conditions(None)
    return {
        value: session.scalar(select(func.count()).select_from(base.where(c).subquery()))
        for value, c in conditions.items()
    }


def assert_owner_counts_match(session) -> None:
    """``execution_owner_tallies`` equals a recount, and the 执行情况 list's tab counts
    read from it equal those counted over the projects, for every owner and year."""
    session.flush()
    assert owner_stored(session) == owner_recounted(session)
    owners = session.scalars(select(Project.owner_unit_id).distinct()).all()
    for owner in owners:
        for year in (None, TODAY.year - 1, TODAY.year, TODAY.year - 2):
            assert executions.owner_counts(session, owner, year, TODAY) == owner_direct(
                session, owner, year
            ), (owner, year)


def assert_match(session, accounts) -> None:
    session.flush()
    assert stored(session) == recounted(session)
    assert_owner_counts_match(session)
    for account in accounts:
        for filters in (Filters(), Filters(year=TODAY.year - 1), Filters(year=TODAY.year)):
            for today in TODAYS:
                assert tallied(session, account, filters, today) == direct(
                    session, account, filters, today
                ), (account.unit.name, filters, today)


def test_the_constants_are_those_of_the_models_and_workflow():
    assert S.PUBLISHED.value == execution_tally.PUBLISHED
    assert E.ACCEPTED.value == execution_tally.ACCEPTED
    assert Action.REPORT.value == execution_tally.REPORT
    assert execution_tally.HELD == execution_stats.HELD
    assert execution_tally.NO_REPORT == executions.NO_REPORT


def test_the_demo_data_is_tallied(demo_accounts, session):
    assert_match(session, [demo_accounts["bjcme"], demo_accounts["bma"]])


def _ended(session, owner, end: date, state=S.PUBLISHED):
    return make_project(
        session,
        owner,
        state,
        year=end.year,
        start_date=end - timedelta(days=1),
        end_date=end,
    )


def test_every_write_keeps_the_tallies_equal_to_a_recount(demo_accounts, session):
    tree = make_tree(session, "xt_")
    branch, society, committee, issuer = (
        tree[k] for k in ("branch", "society", "committee", "issuer")
    )
    accounts = [committee, society]
    check = lambda: assert_match(session, accounts)  # noqa: E731
    ends = [
        TODAY - timedelta(days=500),
        TODAY - timedelta(days=40),
        TODAY - timedelta(days=20),
        TODAY - timedelta(days=1),
        TODAY + timedelta(days=30),
    ]
    projects = [_ended(session, branch, end) for end in ends]
    projects.append(_ended(session, issuer, TODAY - timedelta(days=60)))
    drafts = [_ended(session, branch, ends[1], S.DRAFT)]
    session.commit()
    check()

    reports = [execution.open_report(session, o, p) for o, p in zip(
        [branch] * 4 + [issuer], projects[:4] + projects[5:], strict=True
    )]  # fmt: skip
    session.commit()
    check()

    for report, owner in zip(reports, [branch] * 4 + [issuer], strict=True):
        for values in (learner(credits=2), learner(attended=False, credits=0)):
            execution.add_learner(session, owner, report, values)
    session.commit()
    check()

    # Up the chain: reported, at the committee, accepted; one returned, one left at the society.
    for report in reports[:3]:
        execution.move(session, report, Action.REPORT, branch)
        execution.move(session, report, Action.REPORT, society)
    execution.move(session, reports[4], Action.REPORT, issuer)
    execution.move(session, reports[3], Action.REPORT, branch)
    session.commit()
    check()
    execution.move_bulk(session, Action.ACCEPT, committee, [r.id for r in reports[:2]])
    execution.move(session, reports[2], Action.UNLOCK, committee, reason="请补充。")
    execution.move(session, reports[4], Action.ACCEPT, committee)
    session.commit()
    check()

    # Reported again after the return: its first 上报 stays the first.
    execution.move(session, reports[2], Action.REPORT, branch)
    session.commit()
    check()

    # The committee's due days: the never-opened report's date, the open ones'.
    year = ends[1].year
    execution_rules.set_due_days(session, committee.unit_id, year, 60)
    session.commit()
    check()
    execution_rules.set_due_days(session, committee.unit_id, ends[0].year, 3)
    session.commit()
    check()

    # 撤销公布: the project leaves the counts, its accepted report is returned.
    result = workflow.apply_bulk(
        session, Action.WITHDRAW, committee, [projects[0].id, projects[1].id], reason="有误"
    )
    session.commit()
    assert sorted(result.done) == sorted([projects[0].id, projects[1].id])
    check()
    # Published again.
    for actor in (committee,):
        workflow.apply_bulk(session, Action.PUBLISH, actor, [projects[1].id])
    session.commit()
    check()

    # Hand-written SQL: dates, a report's due date, an event and a report deleted, a year
    # changed by hand, the deadline row deleted.
    session.execute(
        update(Project)
        .where(Project.id == projects[4].id)
        .values(start_date=ends[3] - timedelta(days=1), end_date=ends[3])
    )
    session.execute(
        update(ExecutionReport)
        .where(ExecutionReport.id == reports[1].id)
        .values(due_date=TODAY + timedelta(days=3))
    )
    session.execute(
        delete(ExecutionEvent).where(
            ExecutionEvent.report_id == reports[4].id, ExecutionEvent.action == "report"
        )
    )
    session.commit()
    check()
    session.execute(text("DELETE FROM execution_deadlines WHERE year = :y"), {"y": year})
    earlier = text("UPDATE projects SET year = year - 1 WHERE id = :id")
    session.execute(earlier, {"id": projects[5].id})
    session.execute(earlier, {"id": drafts[0].id})
    session.commit()
    check()
    for table in ("execution_lecturers", "roster_entries", "execution_snapshots"):
        session.execute(text(f"DELETE FROM {table} WHERE report_id = :r"), {"r": reports[3].id})
    session.execute(text("DELETE FROM execution_events WHERE report_id = :r"), {"r": reports[3].id})
    session.execute(text("DELETE FROM execution_reports WHERE id = :r"), {"r": reports[3].id})
    session.commit()
    check()


@pytest.mark.parametrize("page", [0, None])
def test_the_statistics_read_the_tallies_only(demo_accounts, session, count_statements, page):
    """A page, or every unit (the workbook): the units, then their figures and the total
    from the tallies; two statements."""
    account = demo_accounts["bjcme"]
    account.unit  # noqa: B018 - loaded before counting
    with count_statements() as counter:
        execution_stats.shown(session, account, Filters(), page=page)
    assert counter.count == 2, counter.statements
    ours = [s for s in counter.statements if "execution" in s]
    assert len(ours) == 1 and "execution_tallies" in ours[0], ours
    assert "execution_reports" not in ours[0] and "projects" not in ours[0]


def test_every_unit_has_its_total_rows(demo_accounts, session):
    """Each scope's rows under ``TOTAL_UNIT`` are its units' rows summed (the 合计 row)."""
    t = execution_tally.ExecutionTally
    key = (t.scope_unit_id, t.grain, t.bucket, t.year)
    figures = [getattr(t, f) for f in FIGURES]
    total_unit = t.unit_id == execution_tally.TOTAL_UNIT

    def sums(where):
        return {
            tuple(row[:4]): tuple(round(v, 6) for v in row[4:])
            for row in session.execute(
                select(*key, *(func.sum(f) for f in figures)).where(where).group_by(*key)
            )
            if any(row[4:])
        }

    totals = sums(total_unit)
    assert totals and totals == sums(~total_unit)


def test_sqlite_repair_puts_a_missing_trigger_back(demo_accounts, session, backend):
    if backend != "sqlite":
        pytest.skip("the repair is for SQLite's batch migrations")
    connection = session.connection()
    connection.exec_driver_sql("DROP TRIGGER execution_tallies_reports_update")
    connection.exec_driver_sql("DELETE FROM execution_tallies")
    connection.exec_driver_sql("DELETE FROM execution_owner_tallies")
    triggers.repair_sqlite(connection)
    names = {
        name
        for (name,) in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        )
    }
    assert set(execution_tally.SQLITE_TRIGGERS) <= names
    session.commit()
    assert stored(session) == recounted(session) and stored(session)
    assert owner_stored(session) == owner_recounted(session) and owner_stored(session)


def test_the_repair_command_recounts(demo_accounts, session, app_on_empty_db):
    session.execute(delete(execution_tally.ExecutionTally))
    session.execute(delete(execution_tally.ExecutionOwnerTally))
    session.commit()
    result = app_on_empty_db.test_cli_runner().invoke(args=["rebuild-statistics"])
    assert result.exit_code == 0, result.output
    assert stored(session) == recounted(session) and stored(session)
    assert owner_stored(session) == owner_recounted(session) and owner_stored(session)


# -- migration 0029: the total rows ----------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    with throwaway_database(request.param, tmp_path, prefix="cme_exec_tally") as url:
        yield url


def _indexes(session) -> set[str]:
    return {i["name"] for i in inspect(session.connection()).get_indexes(execution_tally.TABLE)}


def test_the_migration_adds_the_total_rows(fresh_url):
    """The demo data at 0028 (no total rows), then 0029: the table equals the recount
    (its total rows summed from its unit rows); down to 0028 (PostgreSQL: the total rows
    gone, the rest as 0027's triggers keep it) and up again gives the same; 0030's
    covering index up, down and up."""
    from demo import seed

    where = f"FROM execution_tallies WHERE unit_id = {execution_tally.TOTAL_UNIT}"
    total_unit = text(f"SELECT count(*) {where}")
    app = create_app(app_config(fresh_url))
    with app.app_context():
        upgrade(revision="0028")
        seed(db.session)
        # As 0027's triggers leave it (SQLite's repair installs the live ones after any
        # migration, which count the totals already).
        db.session.execute(text(f"DELETE {where}"))
        db.session.commit()
        upgrade(revision="0029")
        first = stored(db.session)
        assert first == recounted(db.session) and db.session.scalar(total_unit)
        assert {"ix_execution_tallies_year_unit", "ix_execution_tallies_unit"} <= _indexes(
            db.session
        )
        db.session.rollback()  # PostgreSQL's DROP TRIGGER waits for the readers
        downgrade(revision="0028")
        if db.engine.dialect.name == "postgresql":
            assert db.session.scalar(total_unit) == 0
            units = {k: v for k, v in first.items() if k[4] != execution_tally.TOTAL_UNIT}
            assert stored(db.session) == units
            assert "ix_execution_tallies_year" in _indexes(db.session)
        db.session.rollback()
        upgrade(revision="0029")
        assert stored(db.session) == first
        # 0030: the every-year index covers the figures; down and up again.
        db.session.rollback()
        upgrade(revision="0030")
        assert "ix_execution_tallies_unit_figures" in _indexes(db.session)
        assert "ix_execution_tallies_unit" not in _indexes(db.session)
        db.session.rollback()
        downgrade(revision="0029")
        assert "ix_execution_tallies_unit" in _indexes(db.session)
        db.session.rollback()
        upgrade(revision="0030")
        assert stored(db.session) == first == recounted(db.session)
        db.session.remove()
        db.engine.dispose()


def test_every_year_reads_its_figures_from_the_covering_index(demo_accounts, session, backend):
    """SQLite: a page of every year reads the units' rows of the tally from
    ``ix_execution_tallies_unit_figures`` alone (no lookup of each row in the table)."""
    if backend != "sqlite":
        pytest.skip("SQLite's plan; PostgreSQL's depends on its visibility map")
    account = demo_accounts["bjcme"]
    statement = execution_stats._tallied_sums(account, Filters(), TODAY, [1, 2, 0])
    compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = " ".join(row[3] for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert plan.count("COVERING INDEX ix_execution_tallies_unit_figures") == 3, plan
