"""What the recommended product changes would buy, measured before the lead applies them.

    .venv/bin/python -m bench.whatif --db postgresql --projects 200000

On one large data set: the list pages and details as measured by ``make bench``, then the same
pages with the candidate changes applied *inside this benchmark process only* (extra indexes
created in the benchmark database, view methods replaced by the versions proposed in the
report). The product code is not touched. Writes ``bench/results/whatif-<backend>.md``.
"""

from __future__ import annotations

import argparse
from datetime import date

from sqlalchemy import exists, false, or_, select, text

from bench import database, datagen, scenarios
from bench.measure import SqlRecorder
from bench.report import RESULTS

INDEXES = (
    "CREATE INDEX ix_projects_committee_updated ON projects (committee_id, updated_at, id)",
    "CREATE INDEX ix_projects_society_updated ON projects (society_id, updated_at, id)",
    "CREATE INDEX ix_projects_owner_updated ON projects (owner_unit_id, updated_at, id)",
    "CREATE INDEX ix_projects_committee_year ON projects (committee_id, year)",
    "CREATE INDEX ix_projects_society_year ON projects (society_id, year)",
    "CREATE INDEX ix_projects_owner_year ON projects (owner_unit_id, year)",
)
TRIGRAM = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_projects_name_trgm ON projects USING gin (name gin_trgm_ops)",
    "CREATE INDEX ix_projects_no_trgm ON projects USING gin (project_no gin_trgm_ops)",
    "CREATE INDEX ix_projects_principal_trgm ON projects USING gin (principal gin_trgm_ops)",
)


def year_options(self):
    """Proposed: the years between the scope's first and last, two index probes."""
    from models import Project

    first = select(Project.year).where(self.scope()).order_by(Project.year).limit(1)
    last = select(Project.year).where(self.scope()).order_by(Project.year.desc()).limit(1)
    low, high = self.db_session.execute(
        select(first.scalar_subquery(), last.scalar_subquery())
    ).one()
    if low is None:
        return []
    return [(y, y) for y in range(max(high, date.today().year), low - 1, -1)]


def unit_options(self):
    """Proposed: the entry units of the account's part of the tree, from the unit table."""
    from admin_views.base import account
    from models import Unit, UnitKind

    unit = account().unit
    if unit.kind is UnitKind.COMMITTEE:
        where = (Unit.root_id == unit.id) & Unit.kind.in_([UnitKind.BRANCH, UnitKind.ISSUER])
    elif unit.kind is UnitKind.SOCIETY:
        where = (Unit.parent_id == unit.id) & (Unit.kind == UnitKind.BRANCH)
    else:
        where = Unit.id == unit.id
    rows = self.db_session.execute(select(Unit.id, Unit.name).where(where).order_by(Unit.name))
    return [(r.id, r.name) for r in rows]


def visible_events(account):
    """Proposed: EXISTS (correlated, index-driven) instead of IN (every visible id)."""
    from models import Project, ProjectEvent
    from permissions.scopes import _usable, project_visibility

    if not _usable(account):
        return select(ProjectEvent).where(false())
    visible = exists().where(Project.id == ProjectEvent.project_id, project_visibility(account))
    condition = visible
    if account.unit.kind.is_entry:
        condition = or_(visible, ProjectEvent.owner_unit_id == account.unit_id)
    return select(ProjectEvent).where(condition)


PAGES = ("list", "filtered", "search")


def measure(run: scenarios.Run) -> dict[str, dict]:
    run.results = {}
    for role in scenarios.ROLES:
        browser = run.browser(role)
        urls = scenarios.list_urls(run, role)
        for kind in PAGES:
            sample = run.measure(lambda u=urls[kind], b=browser: b.get(u))
            run.record(f"{kind}/{role}", sample)
    scenarios.run_details(run)
    return {k: v for k, v in run.results.items() if not k.endswith("/limit")}


def apply_ddl(engine, statements) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for sql in statements:
            conn.execute(text(sql))
        conn.execute(text("ANALYZE"))


def apply_views() -> None:
    """Swap in the proposed methods (this process only). The filters bind their option
    methods when a view is built, so the app must be created again afterwards."""
    import permissions
    from admin_views.projects import ProjectView

    ProjectView._year_options = year_options
    ProjectView._unit_options = unit_options
    permissions.visible_events = visible_events


def skip_count() -> None:
    """Flask-Admin's own switch: no COUNT(*), a previous/next pager."""
    from admin_views.projects import ProjectView

    ProjectView.simple_list_pager = True


def table(steps: dict[str, dict[str, dict]]) -> list[str]:
    names = list(steps)
    lines = [
        "| page | " + " | ".join(f"{n}: median ms (statements, SQL ms)" for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for key in steps[names[0]]:
        cells = []
        for name in names:
            entry = steps[name].get(key, {})
            cells.append(
                f"{entry.get('median_ms')} ({entry.get('statements')}, {entry.get('sql_ms')})"
            )
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.whatif", description=__doc__)
    parser.add_argument("--db", default="postgresql")
    parser.add_argument("--projects", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args(argv)
    from bench.webapp import create_bench_app
    from extensions import db

    steps = {}
    with database.fresh_database(args.db, "whatif") as url:
        database.migrate(url)
        dataset = datagen.generate(url, args.projects)
        app = create_bench_app(url)
        with app.app_context():
            engine = db.engine
        with SqlRecorder(engine) as recorder:
            run = scenarios.Run(app, engine, dataset, args.reps, recorder)
            steps["as is"] = measure(run)
            apply_ddl(engine, INDEXES)
            steps["+ indexes"] = measure(run)
        engine.dispose()
        apply_views()
        app = create_bench_app(url)
        with app.app_context():
            engine = db.engine
        with SqlRecorder(engine) as recorder:
            run = scenarios.Run(app, engine, dataset, args.reps, recorder)
            steps["+ options, EXISTS"] = measure(run)
            skip_count()
            steps["+ no count"] = measure(run)
            if args.db == "postgresql":
                apply_ddl(engine, TRIGRAM)
                steps["+ pg_trgm"] = measure(run)
        engine.dispose()
    lines = [
        f"# What-if, {args.projects:,} projects on {args.db}",
        "",
        "Each column adds one group of the proposed changes to the previous one (bench process"
        " and database only). Median of "
        f"{args.reps} runs after a warm-up.",
        "",
        *table(steps),
    ]
    path = RESULTS / f"whatif-{args.db}.md"
    path.write_text("\n".join(lines) + "\n")
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
