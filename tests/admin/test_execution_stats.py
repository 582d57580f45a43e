"""统计 · 执行情况: the figures of a small known setup (on time, late, opened but never
reported, never opened, accepted; learners and credits of the rosters), counted again
here in Python from the rows; a society sees only its branches, another committee's tree
nothing; the number of statements does not grow with the units, reports or learners."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select, update

from models import (
    DEFAULT_DUE_DAYS,
    ExecutionDeadline,
    ExecutionEvent,
    ExecutionReport,
    ExecutionState,
    Project,
    ProjectState,
    RosterEntry,
    Unit,
    UnitKind,
    User,
    rules,
)
from reports import Filters, execution_stats
from tests.admin.test_statistics import Page, number
from tests.factories import make_project, make_tree
from tests.test_execution_workflow import learner
from workflow import Action, execution

YEAR = 2023
HELD_DATES = {"start_date": date(YEAR, 4, 10), "end_date": date(YEAR, 4, 12)}
DUE = HELD_DATES["end_date"] + timedelta(days=DEFAULT_DUE_DAYS)
ON_TIME = datetime(YEAR, 4, 20, 2, 0)  # UTC; Beijing 10:00, before the due date
# 23:30 Beijing on the due date itself: still on time (the day is Beijing's).
LAST_MINUTE = datetime.combine(DUE, datetime.min.time()) + timedelta(hours=15, minutes=30)
LATE = datetime.combine(DUE, datetime.min.time()) + timedelta(hours=16, minutes=30)


def _published(session, owner, **overrides):
    return make_project(session, owner, ProjectState.PUBLISHED, year=YEAR, **HELD_DATES | overrides)


def _report_at(session, report, moment: datetime) -> None:
    """Date the report's owner 上报 events ``moment`` (the engine stamps the real time;
    a Core UPDATE, as the statistics tests date theirs)."""
    table = ExecutionEvent.__table__
    session.execute(
        update(table)
        .where(table.c.report_id == report.id, table.c.action == Action.REPORT.value)
        .values(created_at=moment)
    )


def _up(session, report, *actors) -> None:
    for actor in actors:
        execution.move(session, report, Action.REPORT, actor)


def known_setup(session, demo) -> dict[str, int]:
    """Year 2023 (the demo data has none):

    bma_cardio (北京医学会's branch): A reported on time, accepted, 3 learners (2 attended,
    2 credits each; 1 absent, 0); B reported late, at the society; C never opened; D opened,
    never reported; H reported on time at 23:30 Beijing on its due day, at the society.
    pumch (issuer): E reported on time, accepted, 1 learner with 1.5 credits; F ends next
    year (not yet due). tcm_acu (北京中医药学会's branch): G never opened."""
    cardio, pumch, tcm = demo["bma_cardio"], demo["pumch"], demo["tcm_acu"]
    bma, committee = demo["bma"], demo["bjcme"]

    a = execution.open_report(session, cardio, _published(session, cardio))
    for values in (
        learner(credits=2),
        learner(credits=2),
        learner(attended=False, credits=0),
    ):
        assert execution.add_learner(session, cardio, a, values)[1] == {}
    _up(session, a, cardio, bma)
    _report_at(session, a, ON_TIME)
    execution.move(session, a, Action.ACCEPT, committee)

    b = execution.open_report(session, cardio, _published(session, cardio))
    _up(session, b, cardio)
    _report_at(session, b, LATE)
    _published(session, cardio)  # C
    execution.open_report(session, cardio, _published(session, cardio))  # D
    h = execution.open_report(session, cardio, _published(session, cardio))
    _up(session, h, cardio)
    _report_at(session, h, LAST_MINUTE)

    e = execution.open_report(session, pumch, _published(session, pumch))
    assert execution.add_learner(session, pumch, e, learner(credits=1.5))[1] == {}
    _up(session, e, pumch)
    _report_at(session, e, ON_TIME)
    execution.move(session, e, Action.ACCEPT, committee)
    _published(session, pumch, end_date=date.today() + timedelta(days=400))  # F

    _published(session, tcm)  # G
    session.commit()
    return {"a": a.id, "e": e.id}


def rows_of(browser, **args) -> list[list[str]]:
    response = browser.get("/admin/statistics/", query_string={"year": str(YEAR)} | args)
    assert response.status_code == 200
    return Page(response.get_data(as_text=True)).tables["execution"]


ZERO = ["0", "0", "0", "0", "—", "0", "0"]  # a unit with no report due


def in_name_order(session, rows: list[list[str]]) -> list[list[str]]:
    """``rows`` (a unit's name first) in the database's order of the names (its collation,
    as the page orders them)."""
    names = session.scalars(select(Unit.name).order_by(Unit.name))
    rank = {name: n for n, name in enumerate(names)}
    return sorted(rows, key=lambda row: rank[row[0]])


def every_unit(session, account, rows: list[list[str]]) -> list[list[str]]:
    """``rows`` with a row of zeros for each other unit of the account's table (the
    committee's societies and issuers, a society's branches), in name order."""
    named = {row[0] for row in rows}
    others = session.scalars(select(Unit.name).where(Unit.parent_id == account.unit_id))
    return in_name_order(session, rows + [[name, *ZERO] for name in others if name not in named])


def test_the_known_setup_counts_as_the_office_would(login_as, session, demo_accounts):
    known_setup(session, demo_accounts)
    bma = demo_accounts["bma"].unit.name
    bjtcm = demo_accounts["bjtcm"].unit.name
    pumch = demo_accounts["pumch"].unit.name
    cardio = demo_accounts["bma_cardio"].unit.name
    # unit, due, on time, overdue, accepted, rate %, learners, credits
    browser = login_as("bjcme")
    units = [
        [bma, "5", "2", "3", "1", "20", "2", "4"],
        [bjtcm, "1", "0", "1", "0", "0", "0", "0"],
        [pumch, "1", "1", "0", "1", "100", "1", "1.5"],
    ]
    total = ["合计", "7", "3", "4", "2", "28.6", "3", "5.5"]
    assert rows_of(browser) == [*every_unit(session, demo_accounts["bjcme"], units), total]
    # A society: its branches only (the others with nothing due).
    browser.logout()
    browser = login_as("bma")
    assert rows_of(browser) == [
        *every_unit(session, demo_accounts["bma"], [[cardio, "5", "2", "3", "1", "20", "2", "4"]]),
        ["合计", "5", "2", "3", "1", "20", "2", "4"],
    ]
    browser.logout()
    tcm = [[demo_accounts["tcm_acu"].unit.name, "1", "0", "1", "0", "0", "0", "0"]]
    assert rows_of(login_as("bjtcm")) == [
        *every_unit(session, demo_accounts["bjtcm"], tcm),
        ["合计", "1", "0", "1", "0", "0", "0", "0"],
    ]
    # Nothing due in the year: no row at all.
    assert rows_of(browser, year=str(YEAR - 30)) == []


def test_the_table_is_paged_with_the_total_of_every_unit(
    login_as, session, demo_accounts, monkeypatch
):
    """Two units a page: the pages hold every unit in name order, each with the total of
    every unit below; the pager goes forward and back, the filters kept; the workbook
    holds every unit, whatever page was shown."""
    known_setup(session, demo_accounts)
    monkeypatch.setattr(execution_stats, "PAGE_SIZE", 2)
    committee = demo_accounts["bjcme"]
    units = session.scalar(select(func.count()).where(Unit.parent_id == committee.unit_id))
    pages = -(-units // 2)
    assert pages >= 2
    browser = login_as("bjcme")
    total = ["合计", "7", "3", "4", "2", "28.6", "3", "5.5"]
    seen = []
    for page in range(1, pages + 1):
        args = {"year": str(YEAR), "execution_page": str(page)}
        html = browser.get("/admin/statistics/", query_string=args).get_data(as_text=True)
        rows = Page(html).tables["execution"]
        assert rows[-1] == total and len(rows) <= 3
        seen += rows[:-1]
        assert f"第 {page} 页，共 {pages} 页" in html
        assert ("上一页" in html) == (page > 1) and ("下一页" in html) == (page < pages)
        if page > 1:
            assert f"year={YEAR}&amp;execution_page={page - 1}#stat-execution" in html
    assert len(seen) == units and seen == in_name_order(session, seen)
    # The workbook: every unit, then the total, whatever page was shown.
    response = browser.get(
        "/admin/statistics/export.xlsx", query_string={"year": str(YEAR), "execution_page": "2"}
    )
    sheet = load_workbook(io.BytesIO(response.data))["执行情况"]
    got = [
        [number(v) if isinstance(v, int | float) else v for v in row]
        for row in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert got == [*seen, total]
    # A page past the last: no unit, the total still; a page that is not one: the first.
    past = browser.get(
        "/admin/statistics/", query_string={"year": str(YEAR), "execution_page": "99"}
    )
    assert Page(past.get_data(as_text=True)).tables["execution"] == [total]
    first = rows_of(browser)
    for wrong in ("0", "-1", "x", "9" * 40):
        assert rows_of(browser, execution_page=wrong) == first


def test_the_headers_and_note_are_chinese(login_as, session, demo_accounts):
    known_setup(session, demo_accounts)
    html = login_as("bjcme").get("/admin/statistics/", query_string={"year": str(YEAR)})
    text = html.get_data(as_text=True)
    page = Page(text)
    assert page.headers["execution"][1:] == [
        "应报",
        "按时上报",
        "逾期",
        "已审核",
        "执行率（%）",
        "学员人数",
        "授予学分",
    ]
    assert "执行情况" in text


def test_the_committee_deadline_dates_a_never_opened_report(session, demo_accounts):
    """A never-opened report is due on end date + the committee's days for the year; an
    opened report keeps the due date it was opened with."""
    known_setup(session, demo_accounts)
    committee = demo_accounts["bjcme"]
    between = DUE + timedelta(days=5)  # after the opened reports' due date
    filters = Filters(year=YEAR)

    def due(today=between) -> int:
        return execution_stats.shown(session, committee, filters, today=today).total.due

    assert due() == 7
    session.add(ExecutionDeadline(committee_id=committee.unit_id, year=YEAR, days=30))
    session.commit()
    assert due() == 5  # C and G (never opened) are due 30 days after their end now
    assert due(DUE) == 0  # nothing is due on its due day itself


def test_another_committee_tree_sees_nothing_of_ours(session, demo_accounts):
    known_setup(session, demo_accounts)
    tree = make_tree(session, "stat")
    other = make_project(session, tree["branch"], ProjectState.PUBLISHED, year=YEAR, **HELD_DATES)
    session.commit()
    assert other.committee_id == tree["committee"].unit_id
    filters = Filters(year=YEAR)

    def units(account):
        """The units with a report due (the table lists every unit of the account)."""
        found = execution_stats.shown(session, account, filters, page=0)
        return [(name, f.due) for _id, name, f in found.units if f.due]

    assert units(tree["committee"]) == [(tree["society"].unit.name, 1)]
    assert units(tree["society"]) == [(tree["branch"].unit.name, 1)]
    ours = execution_stats.shown(session, demo_accounts["bjcme"], filters).units
    assert not {tree["society"].unit.name, tree["issuer"].unit.name} & {u[1] for u in ours}
    # Entry units have no figures at all.
    for entry in (demo_accounts["bma_cardio"], demo_accounts["pumch"], tree["branch"]):
        found = execution_stats.shown(session, entry, filters, page=0)
        assert found.units == [] and found.total.due == 0


def test_statements_do_not_grow_with_units_reports_or_learners(
    login_as, session, demo_accounts, count_statements
):
    browser = login_as("bjcme")
    args = {"year": str(YEAR)}
    browser.get("/admin/statistics/", query_string=args)  # warm: the login's own lookups
    with count_statements() as small:
        browser.get("/admin/statistics/", query_string=args)
    known_setup(session, demo_accounts)
    # More units, reports and learners.
    for owner in ("bma_peds", "tcm_acu", "pumch"):
        user = demo_accounts[owner]
        report = execution.open_report(session, user, _published(session, user))
        for _ in range(4):
            execution.add_learner(session, user, report, learner(credits=1))
    session.commit()
    with count_statements() as large:
        browser.get("/admin/statistics/", query_string=args)
    assert large.count == small.count, (small.statements, large.statements)
    ours = [s for s in large.statements if "execution_tallies" in s]
    # The page's units (no tally), then their figures and the total in one statement of
    # the tallies (models/execution_tally.py).
    assert len(ours) == 1, ours
    assert not [s for s in large.statements if "execution_reports" in s]
    assert not [s for s in large.statements if "roster_entries" in s]


# -- the same figures counted here, for any data (tests/admin/test_statistics.py) ------------


def expected_execution(session, user: User, projects: list[Project], year=None) -> list[list[str]]:
    """The 执行情况 table of ``user`` over ``projects`` (the scope, filtered), counted here."""
    if user.unit.kind.is_entry:
        return []
    today = execution_stats.beijing_today()
    reports = {r.project_id: r for r in session.scalars(select(ExecutionReport))}
    deadlines = {
        (d.committee_id, d.year): d.days for d in session.scalars(select(ExecutionDeadline))
    }
    first = {}
    for event in session.scalars(select(ExecutionEvent).order_by(ExecutionEvent.id)):
        if event.action == "report" and event.from_state in ("draft", "returned"):
            moment = first.get(event.report_id)
            first[event.report_id] = min(moment or event.created_at, event.created_at)
    roster = defaultdict(list)
    for entry in session.scalars(select(RosterEntry)):
        roster[entry.report_id].append(entry)
    names = {u.id: u.name for u in session.scalars(select(Unit))}
    figures = defaultdict(lambda: [0, 0, 0, 0, 0.0])  # due, on time, accepted, learners, credits
    for p in projects:
        if p.state is not ProjectState.PUBLISHED:
            continue
        report = reports.get(p.id)
        due = (
            report.due_date
            if report
            else p.end_date
            + timedelta(days=deadlines.get((p.committee_id, p.year), DEFAULT_DUE_DAYS))
        )
        if not due < today:
            continue
        unit = (
            (p.society_id or p.owner_unit_id)
            if user.unit.kind is UnitKind.COMMITTEE
            else p.owner_unit_id
        )
        row = figures[names[unit]]
        row[0] += 1
        reported = report and first.get(report.id)
        if reported and (reported + timedelta(hours=8)).date() <= due:
            row[1] += 1
        if report and report.state == ExecutionState.ACCEPTED:
            row[2] += 1
            row[3] += sum(1 for entry in roster[report.id] if entry.attended)
            row[4] += sum(entry.credits for entry in roster[report.id])

    def cells(due, on_time, accepted, learners, credits):
        rate = number(round(100 * accepted / due, 1)) if due else "—"
        return [str(due), str(on_time), str(due - on_time), str(accepted), rate,
                str(learners), number(credits)]  # fmt: skip

    # Every unit of the account (the year filtered, or every year summed), in the order of
    # the names, then the total; no row when nothing is due.
    if not figures:
        return []
    rows = [[name, *cells(*values)] for name, values in figures.items()]
    total = [sum(values[i] for values in figures.values()) for i in range(5)]
    return [*every_unit(session, user, rows), ["合计", *cells(*total)]]


def test_the_roster_rules_hold_in_the_setup(session, demo_accounts):
    """The setup's learners are valid rows (the figures count real rosters)."""
    ids = known_setup(session, demo_accounts)
    for entry in session.scalars(select(RosterEntry).where(RosterEntry.report_id == ids["a"])):
        assert rules.id_number(entry.id_number) is None
