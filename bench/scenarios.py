"""The scenarios, run in-process through the real Flask test client after a real login.

Each scenario is warmed up once and then repeated; every repetition records its wall time,
the number of SQL statements and their time. Results are plain dicts keyed by scenario id,
ready for ``bench.report``.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urlencode

from sqlalchemy import Engine, func, select, update

from bench import references
from bench.client import BenchError, Browser
from bench.datagen import DEMO_ACCOUNTS, Dataset
from bench.measure import (
    Sample,
    SqlRecorder,
    peak_rss_bytes,
    reset_peak_rss,
    rss_bytes,
    traced_peak,
)
from models import Project

# The account of each role, its list and the state its filtered list shows.
ROLES = {
    "committee": ("audit", "published"),
    "society": ("review", "at_society"),
    "branch": ("projects", "draft"),
}
# The states of the tab each role's list opens on: 待审核, 待审阅, 待处理.
WORK_TAB = {
    "committee": "at_committee",
    "society": "at_society",
    "branch": ("draft", "returned"),
}
SEARCH_WORD = "心力衰竭"
DEEP_PAGE = 499  # Flask-Admin counts pages from 0: this is page 500
PAGE_SIZE = 50


@dataclass
class Run:
    """One data set on one backend, with its app, engine and signed-in browsers."""

    app: object
    engine: Engine
    dataset: Dataset
    reps: int
    recorder: SqlRecorder
    browsers: dict[str, Browser] = field(default_factory=dict)
    results: dict[str, dict] = field(default_factory=dict)

    def browser(self, role: str) -> Browser:
        """The signed-in browser of ``role`` ("public" is anonymous)."""
        if role not in self.browsers:
            browser = Browser(self.app)
            if role != "public":
                username = next(u for u, key in DEMO_ACCOUNTS.items() if key == role)
                browser.login(username)
            self.browsers[role] = browser
        return self.browsers[role]

    def unit(self, role: str) -> int:
        return self.dataset.tree.demo_unit(role)

    def scope(self, role: str) -> references.Scope:
        return references.Scope(role, self.unit(role))

    @property
    def year(self) -> int:
        """The last complete year: the filtered lists and exports use it."""
        return self.dataset.years[-2]

    def record(self, key: str, sample: Sample, **meta) -> None:
        self.results[key] = {**meta, **sample.summary()}

    def measure(
        self, action: Callable[[], object], reps: int | None = None, warmup=True, pick=None
    ):
        """Warm up once, then time ``action`` ``reps`` times. ``pick(statements)``, when
        given, names the seconds of one statement of each run ([statement, parameters,
        seconds] lists); their median is kept as ``picked_sql_ms``."""
        sample = Sample()
        picked = []
        for index in range(-1 if warmup else 0, reps or self.reps):
            self.recorder.reset(keep=pick is not None)
            cpu, started = time.process_time(), time.perf_counter()
            action()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            if index >= 0:
                sample.add(elapsed, self.recorder.count, self.recorder.seconds, cpu)
                if pick is not None:
                    picked.append(pick(self.recorder.statements))
        if picked:
            sample.extra["picked_sql_ms"] = round(statistics.median(picked) * 1000, 2)
        return sample


# -- list pages ----------------------------------------------------------------------------


# The control of the filtered and searched pages: at 2,000 projects a society's or branch's
# year holds ~20 projects, so its filtered page shows 0-10 rows against 40-50 at 200,000,
# and the page's growth is mostly the rendering of the extra rows. 状态 = 已公布 alone fills
# the page (50 rows) at both sizes for every role: its ratio is the database's share.
FULL_PAGE_STATE = "published"


def list_urls(run: Run, role: str) -> dict[str, str]:
    """The project list pages for ``role``: default, filtered, searched, deep, and the
    full-page control."""
    view, state = ROLES[role]
    base = f"/admin/{view}/"
    return {
        "list": base,
        "filtered": f"{base}?{urlencode({'flt0_year': run.year, 'flt1_state': state})}",
        "search": f"{base}?{urlencode({'search': SEARCH_WORD})}",
        "page500": f"{base}?page={DEEP_PAGE}",
        "full_page": f"{base}?{urlencode({'flt0_state': FULL_PAGE_STATE})}",
    }


def limit_statements(run: Run, role: str, kind: str) -> list[str]:
    """The raw SQL of the same rows as the list page ``kind``."""
    _, state = ROLES[role]
    scope, engine = run.scope(role), run.engine
    # Without a search or a filter a list opens on its work tab (``ProjectView.work_status``).
    tab = {"state": WORK_TAB[role]}
    filters = {
        "list": tab,
        "filtered": {"year": run.year, "state": state},
        "search": {"search": SEARCH_WORD},
        "page500": {"page": DEEP_PAGE} | tab,
        "full_page": {"state": FULL_PAGE_STATE},
    }[kind]
    return [references.page_sql(engine, scope, **filters)]


def page_statement_seconds(statements: list[list]) -> float:
    """The seconds of the statement that reads a list page's rows (the SELECT of projects
    with the list's order), which ``references.page_sql`` writes by hand."""
    return sum(
        seconds
        for sql, _, seconds in statements
        if sql.lstrip().startswith("SELECT projects.id AS projects_id")
        and "ORDER BY projects.updated_at DESC" in sql
    )


def run_lists(run: Run) -> None:
    """Every list page for every role, with its limit (the raw SQL of its rows)."""
    for role in ROLES:
        browser = run.browser(role)
        for kind, url in list_urls(run, role).items():
            sample = run.measure(partial(browser.get, url), pick=page_statement_seconds)
            statements = limit_statements(run, role, kind)
            # The rows the page shows (its row checkboxes): the pages compared between the
            # two sizes may hold different numbers of rows. The raw SQL must read as many.
            rows = browser.text(url).count('name="rowid" form="action_form"')
            _, raw_rows = references.run_sql(run.engine, statements)
            if raw_rows != rows:
                raise BenchError(f"{url}: the page shows {rows} rows, its raw SQL {raw_rows}")
            run.record(f"{kind}/{role}", sample, group=kind, role=role, url=url, rows=rows)
            limit = run.measure(lambda s=statements: references.run_sql(run.engine, s))
            run.record(f"{kind}/{role}/limit", limit, group=kind, role=role, reference="limit")


def visible_id(run: Run, role: str) -> int:
    """A project the role's account may open: the newest one of its list."""
    stmt = select(func.max(Project.__table__.c.id)).where(*run.scope(role).where())
    with run.engine.connect() as conn:
        return conn.scalar(stmt)


def run_details(run: Run) -> None:
    for role in ROLES:
        view, _ = ROLES[role]
        project_id = visible_id(run, role)
        url = f"/admin/{view}/details/?id={project_id}"
        browser = run.browser(role)
        sample = run.measure(partial(browser.get, url))
        run.record(f"details/{role}", sample, group="details", role=role, url=url)
        statements = references.details_sql(run.engine, project_id)
        limit = run.measure(lambda s=statements: references.run_sql(run.engine, s))
        run.record(f"details/{role}/limit", limit, group="details", role=role, reference="limit")


def run_peer(run: Run) -> None:
    """The stock Flask-Admin pages (signed in as the committee, which they do not scope)."""
    browser = run.browser("committee")
    project_id = visible_id(run, "committee")
    pages = {
        "list": "/admin/peer/",
        "page500": f"/admin/peer/?page={DEEP_PAGE}",
        "details": f"/admin/peer/details/?id={project_id}",
    }
    for kind, url in pages.items():
        sample = run.measure(partial(browser.get, url))
        run.record(f"{kind}/peer", sample, group=kind, role="committee", reference="peer", url=url)
    for kind, url in {
        "list": "/admin/peer_sorted/",
        "page500": f"/admin/peer_sorted/?page={DEEP_PAGE}",
    }.items():
        sample = run.measure(partial(browser.get, url))
        run.record(
            f"{kind}/peer_sorted", sample, group=kind, role="committee", reference="peer_sorted"
        )


def run_public(run: Run) -> None:
    """The public catalog and the open-data API, without login."""
    browser = run.browser("public")
    pages = {
        "public_search": "/",
        "public_keyword": f"/?{urlencode({'q': SEARCH_WORD})}",
        "api_list": "/api/v1/projects",
    }
    for kind, url in pages.items():
        sample = run.measure(partial(browser.get, url))
        run.record(f"{kind}/public", sample, group=kind, role="public", url=url)


# -- bulk actions --------------------------------------------------------------------------

# role → (action, state the rows are reset to, state they must reach)
BULK = {
    "branch": ("report", "draft", "at_society"),
    "society": ("report", "at_society", "at_committee"),
    "committee": ("publish", "at_committee", "published"),
}
# role → (time column its move stamps, (column of the unit told, its list)) for the reference
BULK_WRITES = {
    "branch": ("reported_at", (("society_id", "review"),)),
    "society": ("reported_at", (("committee_id", "audit"),)),
    "committee": ("published_at", (("owner_unit_id", "projects"), ("society_id", "review"))),
}


def bulk_reference(run: Run, role: str) -> references.BulkWrite:
    """The hand-written writes of ``role``'s bulk action, by its demo account."""
    action, source, target = BULK[role]
    stamp, receivers = BULK_WRITES[role]
    tree = run.dataset.tree
    unit = run.unit(role)
    return references.BulkWrite(
        action, source, target, stamp, tree.first_account[unit], unit, tree.name[unit], receivers
    )


def _candidates(run: Run, role: str) -> list[int]:
    """Rows the role may act on once reset: the busy branch's own, the society's
    branches', and for the committee its society projects without a number yet."""
    table = Project.__table__
    unit = run.unit(role)
    where = {
        "branch": table.c.owner_unit_id == unit,
        "society": table.c.society_id == unit,
        "committee": (table.c.society_id.is_not(None)) & (table.c.state != "published"),
    }[role]
    with run.engine.connect() as conn:
        return list(conn.scalars(select(table.c.id).where(where).order_by(table.c.id)))


def _reset(run: Run, ids: list[int], state: str) -> None:
    """Put ``ids`` back into ``state`` (benchmark database only: no event, no workflow).
    Rows put back before 公布 lose the 项目编号 an earlier repetition gave them (they are
    society projects, which have none until published), so that every repetition numbers
    all its rows, the engine's and the reference's alike."""
    table = Project.__table__
    values = {"state": state}
    if state != "published":
        values["published_at"] = None
    if state == "at_committee":
        values["project_no"] = None
    with run.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id.in_(ids)).values(values))


def _check_moved(run: Run, ids: list[int], target: str) -> None:
    table = Project.__table__
    with run.engine.connect() as conn:
        moved = conn.scalar(
            select(func.count()).where(table.c.id.in_(ids), table.c.state == target)
        )
    if moved != len(ids):
        raise BenchError(f"bulk action moved {moved} of {len(ids)} rows to {target}")


def _bulk_rep(run: Run, browser: Browser, role: str, ids: list[int], token: str):
    """Reset ``ids``, tick them and post the action; (seconds, statements, SQL seconds)."""
    action, source, target = BULK[role]
    view, _ = ROLES[role]
    _reset(run, ids, source)
    data = {"action": action, "rowid": [str(i) for i in ids], "csrf_token": token}
    run.recorder.reset()
    started = time.perf_counter()
    browser.post(f"/admin/{view}/action/", data)
    elapsed = time.perf_counter() - started
    figures = (elapsed, run.recorder.count, run.recorder.seconds)
    _check_moved(run, ids, target)
    browser.text(f"/admin/{view}/?page_size=20")  # shows (and so drops) the flashed result
    return figures


def _reference_rep(run: Run, role: str, write: references.BulkWrite, ids: list[int]):
    """Reset the same ``ids`` and run the hand-written writes; timed like the POST (from
    the first statement's transaction to its commit)."""
    _reset(run, ids, write.source)
    run.recorder.reset()
    seconds, moved = references.bulk_write(run.engine, write, ids)
    if moved != len(ids):
        raise BenchError(f"the bulk reference moved {moved} of {len(ids)} rows")
    _check_moved(run, ids, write.target)
    return seconds, run.recorder.count, run.recorder.seconds


def run_bulk(run: Run, sizes=(5, 50, 500)) -> None:
    """Bulk actions on n ticked rows, reset to an eligible state before each repetition,
    each repetition followed by the hand-written reference on the same rows."""
    rng = random.Random(6)
    for role, (action, _, _) in BULK.items():
        view, _ = ROLES[role]
        browser = run.browser(role)
        token = browser.token(f"/admin/{view}/")
        candidates = _candidates(run, role)
        write = bulk_reference(run, role)
        for size in (s for s in sizes if s <= len(candidates)):
            sample, reference = Sample(), Sample()
            for index in range(-1, run.reps):
                ids = rng.sample(candidates, size)
                figures = _bulk_rep(run, browser, role, ids, token)
                written = _reference_rep(run, role, write, ids)
                if index >= 0:
                    sample.add(*figures)
                    reference.add(*written)
            key = f"bulk_{action}_{size}/{role}"
            run.record(key, sample, group=f"bulk_{size}", role=role, rows=size)
            run.record(
                f"{key}/reference",
                reference,
                group=f"bulk_{size}",
                role=role,
                rows=size,
                reference="sql",
            )


# -- exports -------------------------------------------------------------------------------


def export_sizes(run: Run) -> dict[str, dict]:
    """Filters giving N/20 rows (one year's published) and N/2 rows (all published)."""
    n = run.dataset.projects
    return {
        f"{n // 20}": {"year": run.year, "state": "published"},
        f"{n // 2}": {"state": "published"},
    }


def _export_url(kind: str, filters: dict) -> str:
    args = {}
    if "year" in filters:
        args["flt0_year"] = filters["year"]
    args["flt1_state"] = filters["state"]
    return f"/admin/audit/export/{kind}/?{urlencode(args)}"


def _memory_run(action) -> dict:
    """One more run, under tracemalloc, for the Python heap's peak, and the peak RSS."""
    reset_peak_rss()
    base_rss = rss_bytes()
    with traced_peak() as traced:
        action()
    return {
        "heap_peak_mb": round(traced["peak"] / 2**20, 1),
        "rss_peak_mb": round(max(0, peak_rss_bytes() - base_rss) / 2**20, 1),
    }


def run_exports(run: Run, reps: int) -> None:
    """CSV and XLSX exports of the committee's audit list, with the plain csv.writer line."""
    browser = run.browser("committee")
    scope = run.scope("committee")
    for rows, filters in export_sizes(run).items():
        sql = references.export_sql(run.engine, scope, **filters)
        plain = Sample()
        references.plain_csv(run.engine, sql)  # warm-up, as for every measured page
        for _ in range(reps):
            seconds, count = references.plain_csv(run.engine, sql)
            plain.add(seconds)
        if count != int(rows):
            raise BenchError(f"the export filter selects {count} rows, not {rows}")
        plain.extra = {"rows": count} | _memory_run(
            lambda s=sql: references.plain_csv(run.engine, s)
        )
        run.record(
            f"export_csv_{rows}/plain",
            plain,
            group=f"export_csv_{rows}",
            role="committee",
            reference="plain_csv",
        )
        for kind in ("csv", "xlsx"):
            url = _export_url(kind, filters)
            # After one warm-up like every page: the first export of a process ran 1.4× its
            # later ones (4.7 s against 3.4 s for 100,000 rows of CSV on SQLite).
            sample = run.measure(partial(browser.get, url), reps=reps)
            sample.extra = {"rows": count} | _memory_run(lambda url=url: browser.get(url))
            run.record(
                f"export_{kind}_{rows}/committee",
                sample,
                group=f"export_{kind}_{rows}",
                role="committee",
                url=url,
            )


def run_all(run: Run, *, export_reps: int, bulk_sizes=(5, 50, 500), large: bool) -> dict:
    """Every scenario of the data set; bulk actions and exports only on the large set."""
    run_lists(run)
    run_details(run)
    run_peer(run)
    run_public(run)
    if large:
        run_bulk(run, bulk_sizes)
        run_exports(run, export_reps)
    return run.results
