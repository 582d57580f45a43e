"""统计: every figure of the page checked against counts made here, in Python, from the
rows (the demo data, and a generated data set with known waiting times); a society sees
only its branches; the charts carry the tables' numbers; the XLSX holds every table; the
page runs the same number of SQL statements whatever the number of projects."""

from __future__ import annotations

import io
import itertools
import math
import random
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

import workflow
from models import (
    Discipline,
    Project,
    ProjectEvent,
    ProjectLevel,
    ProjectMode,
    ProjectState,
    ProjectTally,
    Unit,
    UnitKind,
    User,
)
from tests.factories import make_project
from tests.refusals import assert_refused_with
from workflow import Action

BEIJING = ZoneInfo("Asia/Shanghai")
ALL = {"year": "all"}
QUEUE_TITLES = {"at_society": "学（协）会总会", "at_committee": "继续医学教育委员会"}


# -- reading the page ---------------------------------------------------------------


class Page(HTMLParser):
    """The tables (by ``data-table``) and the charts' SVG (by ``data-chart``) of the page."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.headers: dict[str, list[str]] = {}
        self._table = None
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in_head = False
        self.feed(html)
        self.charts = dict(re.findall(r'data-chart="(\w+)">\s*(<svg.*?</svg>)', html, re.S))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self._table = attrs["data-table"]
            self.tables[self._table], self.headers[self._table] = [], []
        elif self._table and tag == "thead":
            self._in_head = True
        elif self._table and tag == "tr":
            self._row = None if "data-empty" in attrs else []
        elif self._table and tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "thead":
            self._in_head = False
        elif self._table and tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif self._table and tag == "tr" and self._row is not None:
            target = self.headers if self._in_head else self.tables
            if self._in_head:
                target[self._table] = self._row
            else:
                target[self._table].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def chart_series(svg: str) -> list[list[tuple[str, str]]]:
    """Each series of a pygal chart as (x label, value) pairs, in drawing order."""
    series = []
    for group in re.split(r'<g class="series serie-\d+', svg)[1:]:
        values = re.findall(r'<desc class="value">([^<]*)</desc>', group)
        labels = re.findall(r'<desc class="x_label">([^<]*)</desc>', group)
        if values:
            series.append(list(zip(labels, values, strict=True)))
    return series


def number(value) -> str:
    value = round(float(value), 1)
    return str(int(value)) if value.is_integer() else str(value)


# -- the figures, counted here -------------------------------------------------------


def visible(session, user: User, year=None, level=None, discipline_id=None, with_year=True):
    unit = user.unit
    rows = []
    for p in session.scalars(select(Project)):
        if p.state is ProjectState.DRAFT:
            continue
        if unit.kind is UnitKind.COMMITTEE and p.committee_id != unit.id:
            continue
        if unit.kind is UnitKind.SOCIETY and p.society_id != unit.id:
            continue
        if with_year and year is not None and p.year != year:
            continue
        if level is not None and p.level is not level:
            continue
        if discipline_id is not None and p.discipline_id != discipline_id:
            continue
        rows.append(p)
    return rows


def unit_key(user, p: Project) -> int:
    if user.unit.kind is UnitKind.COMMITTEE:
        return p.society_id or p.owner_unit_id
    return p.owner_unit_id


def totals(projects, key, names=None):
    counts, credits = Counter(), defaultdict(float)
    for p in projects:
        counts[key(p)] += 1
        credits[key(p)] += p.credits
    order = names or sorted(counts, key=lambda k: (-counts[k], str(k)))
    return counts, credits, order


def table(counts, credits, order, label=str):
    return [[label(k), str(counts[k]), number(credits[k])] for k in order]


def percentile_cont(values: list[float], share: float) -> float:
    values = sorted(values)
    position = share * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (position - low) * (values[high] - values[low])


def expected(session, user: User, **filters) -> dict[str, list[list[str]]]:
    projects = visible(session, user, **filters)
    unit_names = {u.id: u.name for u in session.scalars(select(Unit))}
    result = {}

    years = visible(session, user, **filters, with_year=False)
    c, cr, _ = totals(years, lambda p: p.year)
    result["by_year"] = table(c, cr, sorted(c))
    for key, attr, members in (
        ("by_state", "state", [s for s in ProjectState if s is not ProjectState.DRAFT]),
        ("by_level", "level", list(ProjectLevel)),
        ("by_mode", "mode", list(ProjectMode)),
    ):
        c, cr, order = totals(projects, lambda p, attr=attr: getattr(p, attr), members)
        result[key] = table(c, cr, order, lambda m: str(m.title))
    c, cr, _ = totals(projects, lambda p: unit_names[unit_key(user, p)])
    result["by_unit"] = table(c, cr, sorted(c, key=lambda k: (-c[k], k)))
    c, cr, _ = totals(projects, lambda p: p.discipline.name)
    result["by_discipline"] = table(c, cr, sorted(c, key=lambda k: (-c[k], k)))

    published = [p for p in projects if p.state is ProjectState.PUBLISHED]
    c, cr, _ = totals(published, lambda p: (p.published_at + timedelta(hours=8)).strftime("%Y-%m"))
    result["published_per_month"] = table(c, cr, sorted(c))

    ids = {p.id for p in projects}
    events = defaultdict(list)
    moves = {"report", "unlock", "publish", "withdraw"}
    for e in session.scalars(select(ProjectEvent).order_by(ProjectEvent.id)):
        if e.project_id in ids and e.action in moves:
            events[e.project_id].append(e)
    waits = defaultdict(list)
    for history in events.values():
        for event, following in itertools.pairwise(history):
            if event.action == "report" and following.from_state == event.to_state:
                # The page counts each wait in whole hours, half up.
                seconds = (following.created_at - event.created_at).total_seconds()
                waits[event.to_state].append(math.floor(seconds / 3600 + 0.5) / 24)
    result["time_in_queue"] = [
        [
            QUEUE_TITLES[q],
            str(len(waits[q])),
            number(percentile_cont(waits[q], 0.5) if waits[q] else 0),
            number(percentile_cont(waits[q], 0.9) if waits[q] else 0),
        ]
        for q in ("at_society", "at_committee")
    ]

    waiting = sorted(
        (p for p in projects if p.state in (ProjectState.AT_SOCIETY, ProjectState.AT_COMMITTEE)),
        key=lambda p: (p.reported_at, p.id),
    )[:5]
    result["oldest_waiting"] = [
        [
            p.name,
            p.owner_unit.name,
            QUEUE_TITLES[p.state.value],
            p.reported_at.replace(tzinfo=UTC).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
        ]
        for p in waiting
    ]

    unlocks = [e for history in events.values() for e in history if e.action == "unlock"]
    owner = {p.id: p for p in projects}
    per_unit = Counter(unit_names[unit_key(user, owner[e.project_id])] for e in unlocks)
    result["send_backs"] = [
        [name, str(n)] for name, n in sorted(per_unit.items(), key=lambda i: (-i[1], i[0]))
    ]
    reasons = Counter(e.reason for e in unlocks if e.reason is not None)
    result["reasons"] = [
        [reason, str(n)] for reason, n in sorted(reasons.items(), key=lambda i: (-i[1], i[0]))
    ][:10]
    # 执行情况 (reports/execution_stats.py), counted as tests/admin/test_execution_stats.py does.
    from tests.admin.test_execution_stats import expected_execution

    result["execution"] = expected_execution(session, user, projects, filters.get("year"))
    # 逾期上报与催办 (reports/calendar_stats.py), as tests/admin/test_calendar_stats.py counts.
    from tests.admin.test_calendar_stats import expected_calendar

    result["calendar"] = expected_calendar(session, user, projects, filters.get("year"))
    return result


def page_of(browser, **args) -> Page:
    response = browser.get("/admin/statistics/", query_string=args)
    assert response.status_code == 200
    return Page(response.get_data(as_text=True))


def assert_page_matches(page: Page, wanted: dict) -> None:
    assert set(page.tables) == set(wanted)
    for key, rows in wanted.items():
        got = page.tables[key]
        if key == "oldest_waiting":
            got = [row[:4] for row in got]  # the last column counts days until now
        assert got == rows, key


# -- generated data ---------------------------------------------------------------------

REASONS = ("请补充授课教师的职称。", "学分与学时不符。", "请更正举办日期。")


def generated(session, demo) -> None:
    """40 more projects over three years, every level, mode and several disciplines, some
    sent back (with varied reasons) and reported again; then each project's events are
    spread over days with known gaps (written directly: the engine stamps the real time)."""
    rng = random.Random(11)
    disciplines = list(session.scalars(select(Discipline).limit(6)))
    owners = ["bma_cardio", "bma_peds", "tcm_acu", "pumch"]
    states = [
        ProjectState.AT_SOCIETY,
        ProjectState.AT_COMMITTEE,
        ProjectState.PUBLISHED,
        ProjectState.RETURNED,
    ]
    for i in range(40):
        owner = demo[owners[i % 4]]
        issuer = owner.unit.kind is UnitKind.ISSUER
        state = states[i % 4]
        if issuer and state is ProjectState.AT_SOCIETY:
            state = ProjectState.AT_COMMITTEE
        project = make_project(
            session,
            owner,
            state,
            year=2024 + i % 3,
            level=(ProjectLevel.BEIJING if i // 4 % 2 else ProjectLevel.NATIONAL)
            if issuer
            else ProjectLevel.SOCIETY_I,
            discipline=disciplines[i % len(disciplines)],
            mode=list(ProjectMode)[i % 3],
            credits=rng.choice([1, 2.5, 4, 6]),
        )
        if state is ProjectState.RETURNED:
            workflow.apply(session, project, Action.REPORT, owner)
            reviewer = (
                demo["bjcme"]
                if issuer
                else demo["bma" if owner.unit.parent.name.startswith("北京医学会") else "bjtcm"]
            )
            workflow.apply(session, project, Action.UNLOCK, reviewer, REASONS[i % 3])
    session.commit()
    base = datetime(2026, 1, 5, 1, 0)
    by_project = defaultdict(list)
    for event_id, project_id in session.execute(
        select(ProjectEvent.id, ProjectEvent.project_id).order_by(ProjectEvent.id)
    ):
        by_project[project_id].append(event_id)
    table_ = ProjectEvent.__table__
    for n, (project_id, event_ids) in enumerate(sorted(by_project.items())):
        moment = base + timedelta(days=n % 200)
        for event_id in event_ids:
            moment += timedelta(hours=rng.choice([7, 30, 55, 100, 250]))
            session.execute(update(table_).where(table_.c.id == event_id).values(created_at=moment))
        last = {}
        for event in session.scalars(
            select(ProjectEvent).where(ProjectEvent.project_id == project_id)
        ):
            last[event.action] = event.created_at
        values = {}
        if "report" in last:
            values["reported_at"] = last["report"]
        if "publish" in last:
            values["published_at"] = last["publish"]
        if values:
            session.execute(
                update(Project.__table__)
                .where(Project.__table__.c.id == project_id)
                .values(**values)
            )
    session.commit()
    session.expire_all()


# -- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["bjcme", "bma", "bjtcm"])
def test_demo_figures_match_the_rows(login_as, session, demo_accounts, username):
    browser = login_as(username)
    assert_page_matches(page_of(browser, **ALL), expected(session, demo_accounts[username]))


def test_generated_figures_match_the_rows_with_every_filter(login_as, session, demo_accounts):
    generated(session, demo_accounts)
    for username in ("bjcme", "bma"):
        user = demo_accounts[username]
        browser = login_as(username)
        queue = expected(session, user)["time_in_queue"]
        # The gaps are known and varied: the percentiles are not all zero.
        assert any(row[2] != "0" for row in queue)
        assert_page_matches(page_of(browser, **ALL), expected(session, user))
        assert_page_matches(page_of(browser, year="2025"), expected(session, user, year=2025))
        discipline = session.scalar(select(Discipline).order_by(Discipline.id).offset(1))
        level = ProjectLevel.NATIONAL if username == "bjcme" else ProjectLevel.SOCIETY_I
        assert_page_matches(
            page_of(browser, year="all", level=level.value, discipline=str(discipline.id)),
            expected(session, user, level=level, discipline_id=discipline.id),
        )
        browser.logout()


def test_without_a_year_the_page_shows_this_year(login_as, session, demo_accounts):
    this_year = datetime.now(BEIJING).year
    page = page_of(login_as("bjcme"))
    assert (
        page.tables["by_state"]
        == expected(session, demo_accounts["bjcme"], year=this_year)["by_state"]
    )


def test_a_society_sees_only_its_branches(login_as, session, demo_accounts):
    generated(session, demo_accounts)
    html = login_as("bma").get("/admin/statistics/", query_string=ALL).get_data(as_text=True)
    page = Page(html)
    own = {
        u.name
        for u in session.scalars(select(Unit).where(Unit.parent_id == demo_accounts["bma"].unit_id))
    }
    assert {row[0] for row in page.tables["by_unit"]} <= own
    others = session.scalars(
        select(Unit).where(Unit.id != demo_accounts["bma"].unit_id, Unit.kind != UnitKind.COMMITTEE)
    )
    for unit in others:
        if unit.name not in own and not unit.name.startswith(demo_accounts["bma"].unit.name):
            assert unit.name not in html, unit.name
    # the other society's projects are counted for the committee, not here
    total = sum(int(row[1]) for row in page.tables["by_state"])
    assert total == len(visible(session, demo_accounts["bma"]))
    assert total < len(visible(session, demo_accounts["bjcme"]))


@pytest.mark.parametrize("username", ["bma_cardio", "pumch"])
def test_entry_units_have_no_statistics(login_as, username):
    browser = login_as(username)
    assert_refused_with(browser.get("/admin/statistics/"), 403)
    assert_refused_with(browser.get("/admin/statistics/export.xlsx"), 403)
    assert 'href="/admin/statistics/"' not in browser.get("/admin/").get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_login(browser):
    response = browser.get("/admin/statistics/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_charts_carry_the_tables_numbers(login_as, session, demo_accounts):
    from tests.admin.test_calendar_stats import remind

    generated(session, demo_accounts)
    committee = demo_accounts["bjcme"].unit_id
    for username, days in (("bma", 3), ("bjtcm", 1), ("bma_cardio", 2)):
        for day in range(1, days + 1):
            remind(session, demo_accounts[username].unit_id, committee, date(2026, 3, day))
    session.commit()
    page = page_of(login_as("bjcme"), **ALL)
    charted = {
        "by_year",
        "by_state",
        "by_unit",
        "by_level",
        "by_discipline",
        "by_mode",
        "published_per_month",
        "time_in_queue",
        "send_backs",
        "calendar",
    }
    assert set(page.charts) == charted
    columns = {"published_per_month": (1,), "time_in_queue": (2, 3), "send_backs": (1,)}
    for key, svg in page.charts.items():
        assert "<script" not in svg and 'xlink:href="http' not in svg
        rows = page.tables[key]
        series = chart_series(svg)
        wanted_columns = columns.get(key, (1, 2))
        assert len(series) == len(wanted_columns), key
        # Horizontal bars are drawn bottom-up and their series in reverse: compare each
        # series as a set of (label, value), and the series as a set.
        drawn = sorted(sorted(pairs) for pairs in series)
        wanted = sorted(sorted((row[0], row[c]) for row in rows[:15]) for c in wanted_columns)
        assert drawn == wanted, key
    # Chinese labels are in the SVG as text (the browser's fonts draw them)
    assert "继续医学教育委员会" in page.charts["time_in_queue"]


def axis_labels(svg: str, classes: str) -> list[tuple[float, float]]:
    """The labels of the axis ``<g class="axis {classes}...">``: (number, position along the
    axis: x on a horizontal chart, else y), in drawing order."""
    axis = re.search(rf'<g class="axis {classes}( always_show)?">(.*?</g>)</g>', svg)
    assert axis, classes
    horizontal = "horizontal" in re.search(r'<g class="graph ([^"]+)"', svg).group(1)
    labels = re.findall(r'<text x="([-\d.]+)" y="([-\d.]+)"[^>]*>([\d.]+)</text>', axis.group(2))
    return [(float(v), float(x) if horizontal else float(y)) for x, y, v in labels]


def bar_lengths(svg: str) -> list[list[tuple[float, float]]]:
    """Each series' bars as (value, length along the value axis)."""
    horizontal = "horizontal" in re.search(r'<g class="graph ([^"]+)"', svg).group(1)
    series = []
    for group in re.split(r'<g class="series serie-\d+', svg)[1:]:
        bars = re.findall(
            r'<rect [^>]*width="([\d.]+)" height="([\d.]+)"[^>]*/><desc class="value">([^<]*)<',
            group,
        )
        if bars:
            series.append([(float(v), float(w if horizontal else h)) for w, h, v in bars])
    return series


def test_counts_and_credits_have_an_axis_each(login_as, session, demo_accounts):
    """学分 run far above 项目数: each has a value axis of its own, titled, from 0 to a round
    number at or above its largest figure, on the same grid lines (项目数 on the left and 学分
    on the right; below and on top of a horizontal chart), and each bar is drawn to its own
    axis. The numbers stay in the table beside the chart."""
    generated(session, demo_accounts)
    page = page_of(login_as("bjcme"), **ALL)
    for key in ("by_year", "by_state", "by_level", "by_mode", "by_unit", "by_discipline"):
        svg, rows = page.charts[key], page.tables[key][:15]
        horizontal = key in ("by_unit", "by_discipline")
        counts = axis_labels(svg, "x" if horizontal else "y")
        credits = axis_labels(svg, "x x2" if horizontal else "y2")
        assert counts[0][0] == credits[0][0] == 0 and len(counts) == len(credits) >= 5, key
        assert [at for _, at in counts] == pytest.approx([at for _, at in credits]), key
        assert max(float(row[1]) for row in rows) <= counts[-1][0], key
        assert max(float(row[2]) for row in rows) <= credits[-1][0], key
        extent = abs(counts[-1][1] - counts[0][1])
        titles = re.findall(r'<text [^>]*class="title"[^>]*>([^<]+)</text>', svg)
        assert titles == ["项目数", "学分"], key
        drawn = dict(zip(("项目数", "学分"), bar_lengths(svg), strict=True))
        for title, top in (("项目数", counts[-1][0]), ("学分", credits[-1][0])):
            assert drawn[title], (key, title)
            for value, length in drawn[title]:
                assert length / extent == pytest.approx(value / top, abs=1e-6), (key, title)
        assert page.headers[key][1:] == ["项目数", "学分"]
    # The demo's 学分 outnumber its 项目数: on one axis the counts would have been flat.
    by_year = page.charts["by_year"]
    assert axis_labels(by_year, "y2")[-1][0] > axis_labels(by_year, "y")[-1][0]


def test_xlsx_holds_every_table(login_as, session, demo_accounts):
    generated(session, demo_accounts)
    browser = login_as("bjcme")
    page = page_of(browser, year="2025")
    response = browser.get("/admin/statistics/export.xlsx", query_string={"year": "2025"})
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    today = datetime.now(BEIJING).date().isoformat()
    assert "filename*=UTF-8''" in disposition and today in disposition
    assert "%E7%BB%9F%E8%AE%A1" in disposition  # 统计
    book = load_workbook(io.BytesIO(response.data))
    titles = re.findall(
        r'<h2 class="h5 mb-0">([^<]+)</h2>',
        browser.get("/admin/statistics/", query_string={"year": "2025"}).get_data(as_text=True),
    )
    assert book.sheetnames == titles
    for sheet_name, key in zip(book.sheetnames, page.tables, strict=True):
        rows = list(book[sheet_name].iter_rows(values_only=True))
        assert list(rows[0]) == page.headers[key]
        got = [[number(v) if isinstance(v, int | float) else v for v in row] for row in rows[1:]]
        wanted = page.tables[key]
        if key == "oldest_waiting":
            got = [row[:3] for row in got]
            wanted = [row[:3] for row in wanted]
        assert got == wanted, key


def test_statements_do_not_grow_with_the_projects(
    login_as, session, demo_accounts, count_statements
):
    browser = login_as("bjcme")
    page_of(browser, **ALL)  # warm: the login's own lookups
    with count_statements() as small:
        page_of(browser, **ALL)
    generated(session, demo_accounts)
    with count_statements() as large:
        page_of(browser, **ALL)
    assert large.count == small.count
    # 执行情况 reads two (its page's units, then their figures and the total).
    assert small.count <= 21, small.statements


# -- the summary table (models/tally.py) ------------------------------------------------


def test_a_society_reads_only_its_own_tally_rows(login_as, demo_accounts, session):
    marker = "只属于北京中医药学会的理由"
    session.execute(
        ProjectTally.__table__.insert().values(
            scope_unit_id=demo_accounts["bjtcm"].unit_id,
            dimension="reason",
            year=2026,
            value=marker,
            projects=7,
            credits=0.0,
        )
    )
    session.commit()
    args = {"year": "2026"}
    browser = login_as("bjtcm")
    assert marker in browser.get("/admin/statistics/", query_string=args).get_data(as_text=True)
    for other in ("bma", "bjcme"):
        browser.logout()
        browser = login_as(other)
        page = browser.get("/admin/statistics/", query_string=args)
        assert page.status_code == 200 and marker not in page.get_data(as_text=True)


@pytest.mark.parametrize("args", [{"year": "all"}, {"year": "2026"}, {"level": "national"}])
def test_the_page_costs_the_same_statements_at_any_size(
    login_as, demo_accounts, session, count_statements, args
):
    browser = login_as("bjcme")
    browser.get("/admin/statistics/", query_string=args)  # warm: the login's own lookups
    with count_statements() as small:
        assert browser.get("/admin/statistics/", query_string=args).status_code == 200
    owner = demo_accounts["pumch"]
    for state in (ProjectState.AT_COMMITTEE, ProjectState.PUBLISHED, ProjectState.RETURNED) * 10:
        make_project(session, owner, state)
    session.commit()
    with count_statements() as large:
        assert browser.get("/admin/statistics/", query_string=args).status_code == 200
    assert large.count == small.count, (small.statements, large.statements)
    # The tallies answer every table but the oldest waiting projects: no statement of
    # the page reads the events unless 级别 or 学科 is filtered.
    reads_events = [s for s in large.statements if "project_events" in s]
    # 逾期上报 reads the events of the units holding a filing-window exception only.
    reads_events = [s for s in reads_events if "window_exceptions" not in s]
    assert bool(reads_events) == ("level" in args)


def test_xlsx_names_that_look_like_formulas_are_text(app):
    """A unit's or discipline's name starting with = + - @ is a string cell of the workbook,
    as it is (no ' in front), never a formula."""
    from admin_views.statistics import workbook
    from reports.statistics import Report, Table

    report = Report(filters=None)
    names = ['=HYPERLINK("http://x","点我")', "+86", "-分会", "@SUM(A1)"]
    rows = [(name, 1, 2.5) for name in names]
    report.add(Table("by_unit", "按单位", ("=单位", "项目数", "学分"), rows, "hbar", (1, 2)))
    sheet = load_workbook(io.BytesIO(workbook(report)))["按单位"]
    cells = [row[0] for row in sheet.iter_rows()]
    assert [c.value for c in cells] == ["=单位", *names]
    assert {c.data_type for c in cells} == {"s"}
    assert [row[2].value for row in sheet.iter_rows(min_row=2)] == [2.5] * 4
