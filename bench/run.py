"""``python -m bench``: generate, measure, load-test and report, for each backend.

Full run (``make bench``): 2,000 and 200,000 projects on SQLite and PostgreSQL, exports of
10,000 and 100,000 rows, the load test on PostgreSQL. ``--quick`` (``make bench-quick``):
2,000 and 20,000 projects, fewer repetitions, a 15-second load test. ``--only lists``: the
list pages alone (and their query plans), reported as ``<backend>-lists.md``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import dataclass

from bench import database, datagen, report, scenarios
from bench.measure import SqlRecorder


@dataclass(frozen=True)
class Profile:
    small: int
    large: int
    reps: int
    export_reps: int
    bulk_reps: int
    load_seconds: int
    # The load test runs once per number of concurrent visitors (issue 12: 32 and 64).
    load_users: tuple[int, ...] = (32, 64)


FULL = Profile(small=2_000, large=200_000, reps=15, export_reps=2, bulk_reps=7, load_seconds=60)
QUICK = Profile(small=2_000, large=20_000, reps=5, export_reps=2, bulk_reps=3, load_seconds=15)
# The pages whose statements are explained (query plans) on the large set.
EXPLAINED = {
    "list/committee": ("committee", "/admin/audit/"),
    "search/committee": ("committee", f"/admin/audit/?search={scenarios.SEARCH_WORD}"),
    "list/society": ("society", "/admin/review/"),
    "search/society": ("society", f"/admin/review/?search={scenarios.SEARCH_WORD}"),
    "search/branch": ("branch", f"/admin/projects/?search={scenarios.SEARCH_WORD}"),
    "full_page/society": ("society", "/admin/review/?flt0_state=published"),
    "public_search": ("public", "/"),
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _plan(conn, statement: str, parameters) -> str:
    if conn.dialect.name == "postgresql":
        sql = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement
    else:
        sql = "EXPLAIN QUERY PLAN " + statement
    rows = conn.exec_driver_sql(sql, parameters or ()).fetchall()
    return "\n".join(" | ".join(str(c) for c in row) for row in rows)


def explain_pages(run: scenarios.Run) -> dict[str, str]:
    """Each SELECT a page runs, its time in the request and its plan."""
    plans = {}
    details = f"/admin/audit/details/?id={scenarios.visible_id(run, 'committee')}"
    for name, (role, url) in {**EXPLAINED, "details/committee": ("committee", details)}.items():
        run.recorder.reset(keep=True)
        run.browser(role).get(url)
        kept = list(run.recorder.statements)
        run.recorder.reset()
        parts = []
        with run.engine.connect() as conn:
            for statement, parameters, seconds in kept:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                parts.append(f"-- {seconds * 1000:.2f} ms: {' '.join(statement.split())[:400]}")
                parts.append(_plan(conn, statement, parameters))
        plans[name] = "\n".join(parts)
    return plans


def measure_set(
    kind: str, size: int, profile: Profile, *, large: bool, load, only: str | None = None
) -> dict:
    """Build one data set on a fresh database, run its scenarios, drop the database."""
    from bench.webapp import create_bench_app
    from extensions import db

    with database.fresh_database(kind, f"{size}") as url:
        log(f"{kind}: migrating and generating {size:,} projects")
        database.migrate(url)
        dataset = datagen.generate(url, size)
        log(f"{kind}: generated in {dataset.seconds:.1f} s {dataset.rows}")
        app = create_bench_app(url)
        # No app context is held while requesting: each request must get its own (and so
        # its own database session), as under a real server.
        with app.app_context():
            engine = db.engine
        version = database.server_version(engine)
        with SqlRecorder(engine) as recorder:
            run = scenarios.Run(app, engine, dataset, profile.reps, recorder)
            scenarios.run_lists(run)
            if only is None:
                scenarios.run_details(run)
                scenarios.run_peer(run)
                scenarios.run_public(run)
            log(f"{kind}: pages measured")
            explain = explain_pages(run) if (large and only) else {}
            if large and only is None:
                # Exports first: bulk actions change states, and so the exports' row counts.
                scenarios.run_exports(run, profile.export_reps)
                log(f"{kind}: exports measured")
                run.reps = profile.bulk_reps
                scenarios.run_bulk(run)
                log(f"{kind}: bulk actions measured")
                explain = explain_pages(run)
        engine.dispose()
        load_figures = load(url, dataset) if (large and load) else None
    return {
        "projects": size,
        "generate_s": round(dataset.seconds, 1),
        "rows": dataset.rows,
        "version": version,
        "results": run.results,
        "explain": explain,
        "load": load_figures,
    }


def run_backend(kind: str, profile: Profile, args) -> dict:
    started = time.perf_counter()
    machine = report.machine()
    load = None
    if kind == "postgresql" and not args.no_load:
        from bench import loadtest

        def load(url, dataset):
            runs = []
            for users in profile.load_users:
                log(f"{kind}: load test, {users} users, {profile.load_seconds} s each")
                runs.append(loadtest.run(url, dataset, profile.load_seconds, users))
            return runs

    if args.only:
        load = None
    small = measure_set(kind, profile.small, profile, large=False, load=None, only=args.only)
    large = measure_set(kind, profile.large, profile, large=True, load=load, only=args.only)
    n = profile.large
    figures = {
        "quick": args.quick,
        # As typed from the repository, never this machine's absolute path.
        "command": " ".join(["python -m bench", *(shlex.quote(a) for a in sys.argv[1:])]),
        "machine": machine,
        "database": {"backend": kind, "version": large["version"]},
        "reps": profile.reps,
        "export_reps": profile.export_reps,
        "export_sizes": [str(n // 20), str(n // 2)],
        "small": small,
        "large": large,
        "explain": large.pop("explain"),
        "load": large.pop("load"),
        "total_s": round(time.perf_counter() - started, 1),
        "loadavg_end": report.loadavg(),
    }
    stem = f"{kind}{'-quick' if args.quick else ''}{f'-{args.only}' if args.only else ''}"
    _, md_path = report.write(figures, stem)
    log(f"{kind}: done in {figures['total_s']} s → {md_path}")
    return figures


def parse(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repetitions")
    parser.add_argument("--db", default="sqlite,postgresql", help="backends, comma-separated")
    parser.add_argument("--large", type=int, help="projects in the large set")
    parser.add_argument("--no-load", action="store_true", help="skip the load test")
    parser.add_argument(
        "--only", choices=["lists"], help="measure only these pages (no exports, bulk, load)"
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    profile = QUICK if args.quick else FULL
    if args.large:
        profile = Profile(**{**profile.__dict__, "large": args.large})
    summary = {}
    for kind in args.db.split(","):
        figures = run_backend(kind.strip(), profile, args)
        missed = [t["target"] for t in figures["targets"] if t["met"] in (False, "unlike")]
        summary[kind] = {"total_s": figures["total_s"], "missed": missed}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
