"""Benchmark of 执行情况 (issue 23): execution reports, their lists, statistics and bulk 审核通过.

    .venv/bin/python -m bench.execution --db sqlite                  # lists + bulk
    .venv/bin/python -m bench.execution --db postgresql              # BENCH_PG_URL
    .venv/bin/python -m bench.execution --sizes 2000 20000 --reps 3  # smaller, quicker
    .venv/bin/python -m bench.execution --only bulk                  # bulk 审核通过 alone
    .venv/bin/python -m bench.execution --only lists --keep          # build once, reuse after

Data: ``bench.datagen`` (N projects, half of them published), then, by bulk INSERT … SELECT
(no Python row loop), one execution report for every published project (N/2 reports) with
its lecturers copied from the project's, the events of its path, and ``--roster`` learners
on each roster (default 50: 200,000 projects → 100,000 reports → 5,000,000 roster rows;
2,000 projects → 1,000 reports → 50,000 rows). States (written directly: a benchmark
database only): older years 已审核 with a tenth left 未上报 (overdue); the last two years
未上报, 退回修改, 已上报市继委 (two fifths) and 已审核; the demo society's branches
(``bench_society``, ``bench_branch``) hold two thirds of their reports 已上报总会, so that its
待审阅 tab fills a page at both sizes.

Measured, logged in through the real login form (``bench.client``):

- the lists (``/admin/executions/`` as the busy branch, ``/admin/execution-review/`` as the
  society, ``/admin/execution-audit/`` as the committee: the work tab, 年度 + 状态, a search),
  one report's page with its 50-row roster page, and 首页 (its 执行情况 cards); the
  statistics (``reports.execution_stats.execution``: the first page of the committee's and
  the society's 执行情况 table, of the filtered year and of every year, as 统计 builds it;
  five times the repetitions, a call taking a few ms) called directly; each at both sizes:
  median time, statements, rows shown; target large ÷ small ≤ 1.5 with the statements
  constant;
- bulk 审核通过: the POST of ``/admin/execution-audit/action/`` with 5, 50 and 500 ticked
  reports (reset to 已上报市继委 by an UPDATE before each repetition, not timed), at the
  small size: statements must not grow with the rows.

Results are appended to ``bench/results/execution.md``; the roster import is measured by
``bench.roster_import``.
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import random
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    case,
    cast,
    create_engine,
    false,
    func,
    insert,
    literal,
    null,
    select,
    text,
    true,
    union_all,
    update,
)

from bench.client import Browser
from bench.database import fresh_database, kept_database, migrate, server_version
from bench.datagen import DEMO_ACCOUNTS, GIVEN, HOSPITALS, SURNAMES, Dataset, analyze, generate
from bench.measure import Sample, SqlRecorder
from bench.webapp import create_bench_app

RESULTS = Path(__file__).resolve().parent / "results" / "execution.md"
TARGET_RATIO = 1.5
ROSTER = 50
TITLES = ("主治医师", "住院医师", "副主任医师", "主管护师")
BULK_SIZES = (5, 50, 500)


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# -- the data ----------------------------------------------------------------------------------
def _state(project, society_branches: list[int], recent: int):
    """A report's state from its project's id, year and owner (see the module's text)."""
    older = case((project.c.id % 10 == 0, "draft"), else_="accepted")
    waiting = case(
        (project.c.id % 5 == 0, "draft"),
        (project.c.id % 5 == 1, "returned"),
        (project.c.id % 5 == 4, "accepted"),
        else_="at_committee",
    )
    return case(
        (
            and_(project.c.owner_unit_id.in_(society_branches), project.c.id % 3 != 2),
            "at_society",
        ),
        (project.c.year < recent, older),
        else_=waiting,
    )


def add_executions(url: str, dataset: Dataset, roster: int) -> dict[str, int]:
    """Reports, their lecturers, events and rosters, by INSERT … SELECT."""
    from models import (
        ExecutionEvent,
        ExecutionLecturer,
        ExecutionReport,
        Lecturer,
        Project,
        RosterEntry,
        User,
        execution_tally,
    )
    from models.execution import plus_days

    tree = dataset.tree
    society_branches = tree.society_branches(tree.demo_unit("society"))
    recent = dataset.years[-2]
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _fast(dbapi_connection, record):
            dbapi_connection.execute("PRAGMA synchronous=OFF")

    p = Project.__table__
    r = ExecutionReport.__table__
    counts = {}
    with engine.begin() as conn:
        # 统计 · 执行情况's triggers off for the load, back on with one recount at the end.
        execution_tally.drop(conn)
    with engine.begin() as conn:
        source = select(p, _state(p, society_branches, recent).label("st")).where(
            p.c.state == "published"
        )
        s = source.subquery()
        stamp = s.c.updated_at
        columns = {
            "id": s.c.id,
            "project_id": s.c.id,
            "name": s.c.name,
            "year": s.c.year,
            "owner_unit_id": s.c.owner_unit_id,
            "society_id": s.c.society_id,
            "committee_id": s.c.committee_id,
            "state": s.c.st,
            "version": literal(3),
            "due_date": plus_days(s.c.end_date, 14),
            "start_date": s.c.start_date,
            "end_date": s.c.end_date,
            "venue": s.c.venue,
            "mode": s.c.mode,
            "theory_hours": s.c.theory_hours,
            "practice_hours": s.c.practice_hours,
            "credits": s.c.credits,
            "learners": literal(roster - roster // 10),
            "summary": case((s.c.st == "draft", null()), else_="项目按计划举办，学员完成学习。"),
            "pass_rate": case((s.c.st == "draft", null()), else_=literal(95.0)),
            "return_reason": case((s.c.st == "returned", "请补充学员名单。"), else_=null()),
            "reported_at": case((s.c.st == "draft", null()), else_=stamp),
            "accepted_at": case((s.c.st == "accepted", stamp), else_=null()),
            "signin_open": false(),
            "signin_nonce": null(),
            "created_at": stamp,
            "updated_at": stamp,
        }
        conn.execute(insert(r).from_select(list(columns), select(*columns.values())))
        counts["execution_reports"] = conn.scalar(select(func.count()).select_from(r))
        log(f"  {counts['execution_reports']:,} reports")

        lec = Lecturer.__table__
        el = ExecutionLecturer.__table__
        keys = ("position", "name", "title", "unit", "topic", "hours")
        conn.execute(
            insert(el).from_select(
                ["report_id", *keys],
                select(lec.c.project_id, *(lec.c[k] for k in keys)).join(
                    r, r.c.id == lec.c.project_id
                ),
            )
        )
        counts["execution_lecturers"] = conn.scalar(select(func.count()).select_from(el))

        ev = ExecutionEvent.__table__
        actor = (
            select(User.__table__.c.unit_id, func.min(User.__table__.c.id).label("uid"))
            .group_by(User.__table__.c.unit_id)
            .subquery()
        )
        committee_actor = select(func.min(User.__table__.c.id)).where(
            User.__table__.c.unit_id == tree.committee
        )
        event_keys = [
            "report_id",
            "project_name",
            "owner_unit_id",
            "actor_id",
            "actor_unit_id",
            "action",
            "from_state",
            "to_state",
            "reason",
            "created_at",
        ]
        first_report = case((r.c.society_id.is_(None), "at_committee"), else_="at_society")
        paths = (
            (true(), "create", null(), literal("draft"), r.c.created_at),
            (r.c.state != "draft", "report", literal("draft"), first_report, r.c.reported_at),
        )

        def events(actor_id, actor_unit_id, action, source_state, target, moment):
            return select(
                r.c.id,
                r.c.name,
                r.c.owner_unit_id,
                actor_id,
                actor_unit_id,
                literal(action),
                source_state,
                target,
                null(),
                moment,
            )

        for where, action, source_state, target, moment in paths:
            conn.execute(
                insert(ev).from_select(
                    event_keys,
                    events(actor.c.uid, r.c.owner_unit_id, action, source_state, target, moment)
                    .join(actor, actor.c.unit_id == r.c.owner_unit_id)
                    .where(where),
                )
            )
        conn.execute(
            insert(ev).from_select(
                event_keys,
                events(
                    committee_actor.scalar_subquery(),
                    literal(tree.committee),
                    "accept",
                    literal("at_committee"),
                    literal("accepted"),
                    r.c.accepted_at,
                ).where(r.c.state == "accepted"),
            )
        )
        counts["execution_events"] = conn.scalar(select(func.count()).select_from(ev))
    log(f"  lecturers and events: {counts}")

    numbers = union_all(*(select(literal(i).label("i")) for i in range(1, roster + 1))).subquery()
    re_ = RosterEntry.__table__
    mix = r.c.id + numbers.c.i
    attended = numbers.c.i % 10 != 0
    roster_columns = {
        "report_id": r.c.id,
        "name": func.substr(literal(SURNAMES), mix % len(SURNAMES) + 1, 1, type_=String)
        + func.substr(literal(GIVEN), (r.c.id * 7 + numbers.c.i) % len(GIVEN) + 1, 1, type_=String)
        + func.substr(
            literal(GIVEN), (r.c.id * 3 + numbers.c.i * 5) % len(GIVEN) + 1, 1, type_=String
        ),
        "id_type": literal("resident"),
        "id_number": cast(
            literal(110105000000000000, BigInteger) + r.c.id * 100 + numbers.c.i, String
        ),
        "workplace": case(
            *((mix % len(HOSPITALS) == i, h) for i, h in enumerate(HOSPITALS)), else_=HOSPITALS[0]
        ),
        "title": case(
            *((mix % len(TITLES) == i, t) for i, t in enumerate(TITLES)), else_=TITLES[0]
        ),
        "attended": case((attended, true()), else_=false()),
        "credits": case((attended, r.c.credits), else_=literal(0.0)),
        "source": literal("import"),
        "created_at": r.c.created_at,
        "updated_at": r.c.created_at,
    }
    with engine.connect() as conn:
        top = conn.scalar(select(func.max(r.c.id))) or 0
    chunk = max(1, top // 10 + 1)
    started = time.perf_counter()
    for low in range(0, top + 1, chunk):
        with engine.begin() as conn:
            conn.execute(
                insert(re_).from_select(
                    list(roster_columns),
                    select(*roster_columns.values())
                    .select_from(r)
                    .join(numbers, true())
                    .where(r.c.id >= low, r.c.id < low + chunk),
                )
            )
            # The reports' own roster figures, as workflow.execution.count_roster keeps them.
            of_report = re_.c.report_id == r.c.id
            conn.execute(
                update(r)
                .where(r.c.id >= low, r.c.id < low + chunk)
                .values(
                    attended_learners=select(func.count())
                    .where(of_report, re_.c.attended)
                    .scalar_subquery(),
                    credits_awarded=select(func.coalesce(func.sum(re_.c.credits), 0.0))
                    .where(of_report)
                    .scalar_subquery(),
                    updated_at=r.c.updated_at,
                )
            )
        log(f"  roster: reports below {low + chunk:,} ({time.perf_counter() - started:.0f} s)")
    with engine.begin() as conn:
        counts["roster_entries"] = conn.scalar(select(func.count()).select_from(re_))
        started = time.perf_counter()
        execution_tally.install(conn)
        counts["execution_tallies"] = conn.scalar(text("SELECT count(*) FROM execution_tallies"))
        counts["execution_owner_tallies"] = conn.scalar(
            text("SELECT count(*) FROM execution_owner_tallies")
        )
        log(f"  execution_tallies recounted in {time.perf_counter() - started:.1f} s")
        if conn.dialect.name == "postgresql":
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('execution_reports', 'id'),"
                    " (SELECT coalesce(max(id), 1) FROM execution_reports))"
                )
            )
    analyze(engine)
    engine.dispose()
    return counts


# -- the pages ---------------------------------------------------------------------------------
def pages(year: int, report_id: int) -> dict[str, tuple[str, str]]:
    """name: (role, URL)."""
    return {
        "执行情况 (branch, default)": ("branch", "/admin/executions/"),
        "执行情况 全部 (branch)": ("branch", "/admin/executions/?status=all"),
        "执行情况 年度 + 全部 (branch)": ("branch", f"/admin/executions/?status=all&year={year}"),
        "执行情况审阅 待审阅 (society)": ("society", "/admin/execution-review/"),
        "执行情况审阅 全部 (society)": ("society", "/admin/execution-review/?status=all"),
        "执行情况审核 待审核 (committee)": ("committee", "/admin/execution-audit/"),
        "执行情况审核 年度 + 已审核 (committee)": (
            "committee",
            f"/admin/execution-audit/?status=accepted&year={year - 1}",
        ),
        "执行情况审核 search 心力衰竭 (committee)": (
            "committee",
            "/admin/execution-audit/?status=all&search=心力衰竭",
        ),
        # A common term (every society's project numbers hold -XH-): the LIKE alone, each
        # tab's capped count on the committee's whole tree.
        "执行情况审核 search -XH- (committee)": (
            "committee",
            "/admin/execution-audit/?status=all&search=-XH-",
        ),
        # The society's and the branch's searches by project number: a page of rows at
        # both sizes (心力衰竭 is 47 of the society's and 35 of the branch's at 2,000).
        "执行情况审阅 search -XH- (society)": (
            "society",
            "/admin/execution-review/?status=all&search=-XH-",
        ),
        "执行情况 search -XH- (branch)": ("branch", "/admin/executions/?status=all&search=-XH-"),
        "one report + its roster page (committee)": ("committee", f"/admin/execution/{report_id}/"),
        "首页 with 执行情况 cards (committee)": ("committee", "/admin/"),
    }


def _slowest(recorder, count: int = 2) -> list:
    ordered = sorted(recorder.statements, key=lambda s: -s[2])[:count]
    return [(round(s[2] * 1000, 1), " ".join(s[0].split())[:160]) for s in ordered]


def _rows(html: str) -> int:
    """Rows of a list page (their tick boxes), or roster rows of a report page."""
    ticked = html.count('name="rowid"')
    return ticked or html.count("<tr") - html.count("<thead")


def _browsers(app) -> dict[str, Browser]:
    by_key = {key: username for username, key in DEMO_ACCOUNTS.items()}
    return {key: Browser(app).login(username) for key, username in by_key.items()}


def _a_report(engine, dataset: Dataset) -> int:
    """A report the committee sees (reported), in the demo society's tree."""
    from models import ExecutionReport

    r = ExecutionReport.__table__
    with engine.connect() as conn:
        return conn.scalar(
            select(r.c.id)
            .where(r.c.state == "at_committee", r.c.society_id.is_not(None))
            .order_by(r.c.id)
            .limit(1)
        )


def measure_lists(app, engine, dataset: Dataset, reps: int) -> dict:
    from extensions import db
    from models import User
    from reports import execution_stats
    from reports.statistics import Filters

    year = dataset.years[-2]
    browsers = _browsers(app)
    results = {}
    report_id = _a_report(engine, dataset)
    with SqlRecorder(engine) as recorder:
        for name, (role, url) in pages(year, report_id).items():
            browser = browsers[role]
            html = browser.text(url)  # warm-up, and the rows it shows
            sample = Sample()
            for _ in range(reps):
                recorder.reset()
                cpu, started = time.process_time(), time.perf_counter()
                browser.get(url)
                sample.add(
                    time.perf_counter() - started,
                    recorder.count,
                    recorder.seconds,
                    time.process_time() - cpu,
                )
            recorder.reset(keep=True)
            browser.get(url)
            results[name] = sample.summary() | {"rows": _rows(html), "slowest": _slowest(recorder)}
            log(
                f"  {name}: {results[name]['median_ms']:.0f} ms, "
                f"{results[name]['statements']} statements, {results[name]['rows']} rows"
            )
        with app.app_context():
            users = {
                key: db.session.scalar(select(User).where(User.username == username))
                for username, key in DEMO_ACCOUNTS.items()
            }
            # What 统计's page builds for its 执行情况 table: its first page (every unit of
            # the account in name order, 50 a page, and the total of every unit), the same
            # units at both sizes (the tree is the same).
            calls = {
                "统计 执行情况 of the year (committee)": lambda: execution_stats.execution(
                    db.session, users["committee"], Filters(year=year), page=0
                ),
                "统计 执行情况 of the year (society)": lambda: execution_stats.execution(
                    db.session, users["society"], Filters(year=year), page=0
                ),
                "统计 执行情况 every year (committee)": lambda: execution_stats.execution(
                    db.session, users["committee"], Filters(year=None), page=0
                ),
            }
            # A call takes a few ms, where one scheduling hiccup of the shared machine moves a
            # median of 5 by half: five times the repetitions (still well under a second).
            for name, call in calls.items():
                table = call()
                sample = Sample()
                for _ in range(reps * 5):
                    db.session.expire_all()
                    recorder.reset()
                    cpu, started = time.process_time(), time.perf_counter()
                    table = call()
                    sample.add(
                        time.perf_counter() - started,
                        recorder.count,
                        recorder.seconds,
                        time.process_time() - cpu,
                    )
                rows = len(getattr(table, "rows", ()) or ())
                db.session.expire_all()
                recorder.reset(keep=True)
                call()
                results[name] = sample.summary() | {"rows": rows, "slowest": _slowest(recorder)}
                log(
                    f"  {name}: {results[name]['median_ms']:.0f} ms, "
                    f"{results[name]['statements']} statements, {rows} rows"
                )
            db.session.remove()
    return results


# -- bulk 审核通过 -----------------------------------------------------------------------------
def _reset(engine, ids: list[int]) -> None:
    from models import ExecutionReport

    r = ExecutionReport.__table__
    with engine.begin() as conn:
        conn.execute(
            update(r)
            .where(r.c.id.in_(ids))
            .values(state="at_committee", accepted_at=None, version=r.c.version + 1)
        )


def _profile(engine, browser, token, candidates, size, rng) -> str:
    """cProfile of one POST of ``size`` reports: the functions with the most own time."""
    import cProfile
    import io
    import pstats

    ids = rng.sample(candidates, size)
    _reset(engine, ids)
    data = {"action": "accept", "rowid": [str(i) for i in ids], "csrf_token": token}
    profiler = cProfile.Profile()
    profiler.enable()
    browser.post("/admin/execution-audit/action/", data)
    profiler.disable()
    browser.text("/admin/execution-audit/")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    import sysconfig

    text = out.getvalue()
    # No machine's paths in a committed result: the repository, the venv, the stdlib.
    for path, short in (
        (sysconfig.get_paths()["purelib"], "site-packages"),
        (sysconfig.get_paths()["stdlib"], "python"),
        (str(Path(__file__).resolve().parent.parent), ""),
    ):
        text = text.replace(path + "/", short + "/" if short else "")
    return text


def measure_bulk(app, engine, reps: int, sizes=BULK_SIZES, profile: bool = False) -> dict:
    from models import ExecutionReport

    r = ExecutionReport.__table__
    with engine.connect() as conn:
        candidates = list(conn.scalars(select(r.c.id).order_by(r.c.id)))
    rng = random.Random(23)
    browser = Browser(app).login(next(u for u, key in DEMO_ACCOUNTS.items() if key == "committee"))
    token = browser.token("/admin/execution-audit/")
    results = {}
    with SqlRecorder(engine) as recorder:
        for size in (s for s in sizes if s <= len(candidates)):
            sample = Sample()
            for index in range(-1, reps):
                ids = rng.sample(candidates, size)
                _reset(engine, ids)
                data = {"action": "accept", "rowid": [str(i) for i in ids], "csrf_token": token}
                recorder.reset()
                cpu, started = time.process_time(), time.perf_counter()
                browser.post("/admin/execution-audit/action/", data)
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
                count, sql = recorder.count, recorder.seconds
                with engine.connect() as conn:
                    moved = conn.scalar(
                        select(func.count())
                        .select_from(r)
                        .where(r.c.id.in_(ids), r.c.state == "accepted")
                    )
                if moved != size:
                    raise RuntimeError(f"bulk accept moved {moved} of {size} reports")
                browser.text("/admin/execution-audit/")  # shows (and drops) the flashed result
                if index >= 0:
                    sample.add(elapsed, count, sql, cpu)
            results[size] = sample.summary()
            if profile and size == max(sizes):
                results[size]["profile"] = _profile(engine, browser, token, candidates, size, rng)
            log(
                f"  accept {size}: {results[size]['median_ms']:.0f} ms, "
                f"{results[size]['statements']} statements"
            )
    return results


# -- a size ------------------------------------------------------------------------------------
def measure_size(
    kind: str,
    size: int,
    reps: int,
    roster: int,
    only: set[str],
    profile: bool = False,
    keep: bool = False,
) -> dict:
    if not keep:
        with fresh_database(kind, f"exec{size}") as url:
            return _measure(url, kind, size, reps, roster, only, profile, None)
    url, facts = kept_database(kind, f"exec{size}_r{roster}")
    return _measure(url, kind, size, reps, roster, only, profile, facts)


def _measure(url, kind, size, reps, roster, only, profile, facts: Path | None) -> dict:
    """Build the data set at ``url`` (or, ``--keep``, reuse the one ``facts`` describes:
    the migrations then bring it to the code's schema, their backfills included), then
    measure it."""
    migrate(url)
    if facts is not None and facts.exists():
        dataset, counts, seconds = pickle.loads(facts.read_bytes())
        log(f"{kind} {size:,}: reusing the kept data set {counts}")
    else:
        log(f"{kind} {size:,}: generating projects")
        dataset = generate(url, size)
        log(f"{kind} {size:,}: projects in {dataset.seconds:.0f} s; reports and rosters")
        started = time.perf_counter()
        counts = add_executions(url, dataset, roster)
        seconds = time.perf_counter() - started
        log(f"{kind} {size:,}: executions in {seconds:.0f} s: {counts}")
        if facts is not None:
            facts.write_bytes(pickle.dumps((dataset, counts, seconds)))
    app = create_bench_app(url)
    from extensions import db

    with app.app_context():
        engine = db.engine
        version = server_version(engine)
    figures = {
        "rows": dataset.rows | counts,
        "generated_s": round(dataset.seconds + seconds, 1),
        "server": version,
    }
    if "lists" in only:
        figures["lists"] = measure_lists(app, engine, dataset, reps)
    if "bulk" in only:
        figures["bulk"] = measure_bulk(app, engine, reps, profile=profile)
    with app.app_context():
        db.engine.dispose()
    return figures


# -- the report --------------------------------------------------------------------------------
def _verdict(per: list[dict]) -> tuple[float, float, str]:
    """(wall ratio, CPU ratio, verdict) of one page between the smallest and largest size."""
    wall = per[-1]["median_ms"] / per[0]["median_ms"]
    cpu = per[-1].get("cpu_ms", 0) / max(per[0].get("cpu_ms", 0), 0.001)
    constant = len({f["statements"] for f in per}) == 1
    if len({f["rows"] for f in per}) != 1:
        return wall, cpu, "unlike pages"
    if min(wall, cpu) <= TARGET_RATIO and constant:
        return wall, cpu, "met" if wall <= TARGET_RATIO else "met on CPU"
    return wall, cpu, "NOT met"


def _lists_table(sizes: list[int], figures: dict[int, dict]) -> list[str]:
    lines = [
        "| page | "
        + " | ".join(f"{s:,} projects" for s in sizes)
        + " | ratio (wall / CPU) | statements | rows shown | target |",
        "|---|" + "---|" * len(sizes) + "---|---|---|---|",
    ]
    for name in figures[sizes[0]]["lists"]:
        per = [figures[s]["lists"][name] for s in sizes]
        cells = [
            f"{f['median_ms']:.0f} ms (p95 {f['p95_ms']:.0f}, CPU {f.get('cpu_ms', 0):.0f},"
            f" SQL {f['sql_ms']:.0f})"
            for f in per
        ]
        wall, cpu, verdict = _verdict(per)
        lines.append(
            f"| {name} | "
            + " | ".join(cells)
            + f" | {wall:.2f} / {cpu:.2f} | {'/'.join(str(f['statements']) for f in per)}"
            + f" | {'/'.join(str(f['rows']) for f in per)} | {verdict} |"
        )
    lines += _per_row_table(sizes, figures)
    large = sizes[-1]
    lines += ["", f"Slowest statements at {large:,} projects (ms, SQL's own time):", ""]
    for name, f in figures[large]["lists"].items():
        for ms, sql in f.get("slowest", ()):
            lines.append(f"- {name}: {ms} ms — `{sql}…`")
    return [*lines, ""]


def _per_row_table(sizes: list[int], figures: dict[int, dict]) -> list[str]:
    """The pages whose rows differ between the sizes (统计's tables: the units with due
    reports), compared per row shown: CPU µs per row at each size and their ratio. A
    ratio ≤ 1 says the time grows with the table shown, not with the projects behind it."""
    small, large = sizes[0], sizes[-1]
    lines = []
    for name in figures[small]["lists"]:
        a, b = figures[small]["lists"][name], figures[large]["lists"][name]
        if a["rows"] == b["rows"] or not a["rows"] or not b["rows"] or "统计" not in name:
            continue
        per = [f.get("cpu_ms", 0) * 1000 / f["rows"] for f in (a, b)]
        lines.append(
            f"| {name} | {a['rows']:,} → {b['rows']:,} | {per[0]:.1f} → {per[1]:.1f} µs"
            f" | {per[1] / max(per[0], 0.001):.2f} |"
        )
    if not lines:
        return []
    head = [
        "",
        "Per row shown (unlike pages: the table grows with the units that have due reports):",
        "",
        "| page | rows | CPU per row | ratio |",
        "|---|---|---|---|",
    ]
    return head + lines


def _bulk_table(size: int, bulk: dict) -> list[str]:
    lines = [
        f"Bulk 审核通过 (POST /admin/execution-audit/action/) at {size:,} projects:",
        "",
        "| ticked reports | median (p95) | CPU | statements | SQL |",
        "|---|---|---|---|---|",
    ]
    for n, f in bulk.items():
        lines.append(
            f"| {n} | {f['median_ms']:.0f} ms ({f['p95_ms']:.0f}) | {f.get('cpu_ms', 0):.0f}"
            f" ms | {f['statements_min']}–{f['statements']} | {f['sql_ms']:.0f} ms |"
        )
    if 50 in bulk and 500 in bulk:
        ratio = bulk[500]["median_ms"] / bulk[50]["median_ms"]
        constant = bulk[500]["statements"] == bulk[50]["statements"]
        lines += [
            "",
            f"500 ÷ 50: time {ratio:.2f}, statements {bulk[50]['statements']} → "
            f"{bulk[500]['statements']} ({'constant' if constant else 'NOT constant'}).",
        ]
    for n, f in bulk.items():
        if f.get("profile"):
            lines += ["", f"cProfile of one POST of {n} (own time):", "", "```"]
            lines += [line for line in f["profile"].splitlines() if line.strip()][:30]
            lines.append("```")
    return [*lines, ""]


def markdown(kind: str, sizes: list[int], figures: dict[int, dict], reps: int, argv) -> str:
    small = sizes[0]
    load = os.getloadavg()
    lines = [
        f"## {kind} {figures[small]['server']}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- command: `python -m bench.execution {' '.join(argv)}`",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other work, "
        f"load average at the end {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}",
        f"- {reps} repetitions after one warm-up; median (p95) wall time, the process's CPU"
        " time, SQL statements (the most in a run) and their own time (a lower bound on"
        " SQLite)",
    ]
    for s in sizes:
        lines.append(
            f"- {s:,} projects: {figures[s]['rows']} (built in {figures[s]['generated_s']} s)"
        )
    lines.append("")
    if all("lists" in figures[s] for s in sizes) and len(sizes) > 1:
        lines += _lists_table(sizes, figures)
    for s in sizes:
        if "bulk" in figures[s]:
            lines += _bulk_table(s, figures[s]["bulk"])
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    import sys

    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 200_000])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--roster", type=int, default=ROSTER, help="learners per report")
    parser.add_argument("--only", choices=["lists", "bulk"], action="append")
    parser.add_argument(
        "--profile-bulk", action="store_true", help="cProfile one POST of 500 (own time)"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="build each size once into a kept database and reuse it in later runs",
    )
    args = parser.parse_args(argv)
    only = set(args.only or ["lists", "bulk"])
    figures = {}
    for index, size in enumerate(args.sizes):
        # Bulk 审核通过 at the small size only: its statements do not depend on the table.
        wanted = only - ({"bulk"} if index else set())
        figures[size] = measure_size(
            args.db, size, args.reps, args.roster, wanted, args.profile_bulk, args.keep
        )
    report = markdown(args.db, args.sizes, figures, args.reps, argv)
    header = (
        ""
        if RESULTS.exists()
        else "# 执行情况 at two sizes (issue 23)\n\nSee bench/execution.py.\n\n"
    )
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(header + report + "\n")
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
