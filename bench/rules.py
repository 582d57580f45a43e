"""Filing rules' cost (issue 10): a branch's bulk report of 500 projects with all
five rules on, against the same report with them off; target ≤ 1.5×.

    .venv/bin/python -m bench.rules [--db sqlite|postgresql|both] [--projects 20000]
                                    [--rows 500] [--repeat 7]

The data set is the demo tree (``demo.seed``) with N filed projects over ten
years added to its committee; the branch 心血管病学分会 then gets ``--rows``
new drafts through the workflow engine, half of them breaking three rules
(deadline, credits, untitled lecturer), so that the rules have warnings to
record. Each repetition reports them all through ``workflow.apply_bulk`` in one
transaction, then the drafts are put back (a direct UPDATE: benchmark database
only). Off and on alternate, after one warm-up each; the figure is the median.
Results: ``bench/results/rules.md``.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bench import common, drafts

RESULTS = common.RESULTS_DIR / "rules.md"


def _drafts(session, owner, rows: int, year: int) -> list[int]:
    """Half the drafts break three rules: too soon (deadline), 6 hours for 4 credits,
    a lecturer without a title."""
    from models import Lecturer

    start = date.today() + timedelta(days=60)

    def fields(i: int) -> dict:
        bad = i % 2 == 1
        lecturers = [
            Lecturer(
                position=k,
                name=f"教师{k}",
                title=None if bad and k == 0 else "主任医师",
                topic="专题",
                hours=2,
            )
            for k in range(3)
        ]
        return {
            "name": f"规则测试项目{i:04d}",
            "principal": f"负责人{i % 200:03d}",
            **drafts.two_days(start - timedelta(days=55) if bad else start),
            "theory_hours": 6 if bad else 12,
            "lecturers": lecturers,
        }

    return drafts.create(session, owner, year, rows, fields)


def _set_rules(session, committee_id: int, year: int, active: bool) -> None:
    from models import RuleKind, Severity
    from workflow.filing_rules import set_rule

    for kind in RuleKind:
        set_rule(session, committee_id, year, kind, severity=Severity.WARN, active=active)
    session.commit()


def _filler(session, n_projects: int, year: int) -> None:
    """``n_projects`` filed projects in the demo committee's tree over ten years,
    bulk-inserted from one demo project's row (benchmark database only), so the
    duplicate and quota checks search a committee of realistic size; their
    principals overlap the drafts' (负责人000…), so the quota rule finds some."""
    from models import Project, ProjectState

    table = Project.__table__
    template = session.execute(select(table).where(table.c.state == "published").limit(1)).one()
    base = {c.key: template._mapping[c] for c in table.columns if c.key != "id"}
    states = [ProjectState.PUBLISHED.value] * 3 + [ProjectState.AT_COMMITTEE.value]
    rows = []
    for i in range(n_projects):
        y = year - i % 10
        start = date(y, 1 + i % 12, 1 + i % 27)
        rows.append(
            base
            | {
                "year": y,
                "name": f"已备案项目{i:06d}",
                "principal": f"负责人{i % 2000:03d}",
                "start_date": start,
                "end_date": start + timedelta(days=1),
                "state": states[i % 4],
                "project_no": f"{y}-BENCH-{i:06d}",
            }
        )
        if len(rows) == 5000:
            session.execute(table.insert(), rows)
            rows = []
    if rows:
        session.execute(table.insert(), rows)
    session.commit()


def run_backend(kind: str, n_projects: int, rows: int, repeat: int) -> dict:
    from bench.database import server_version
    from models import User

    with drafts.demo_session(kind, f"rules{n_projects}") as session:
        year = date.today().year
        _filler(session, n_projects, year)
        owner = session.scalar(select(User).where(User.username == "bma_cardio"))
        committee_id = owner.unit.committee_id
        ids = _drafts(session, owner, rows, year)
        reporter = drafts.Reporter(session, owner)
        statements = {"off": 0, "on": 0}

        def report(on: bool) -> float:
            _set_rules(session, committee_id, year, active=on)
            elapsed, statements["on" if on else "off"] = reporter.report(ids)
            return elapsed

        medians = common.on_off(report, repeat, swap=False)
        version = server_version(session.get_bind())
    return {
        "backend": kind,
        "version": version,
        "projects": n_projects,
        "rows": rows,
        **medians,
        "statements": statements,
        "repeat": repeat,
    }


def report(results: list[dict]) -> str:
    lines = [
        "# Filing rules: bulk report with all rules on ÷ off (issue 10)",
        "",
        "`python -m bench.rules`: a branch reports "
        f"{results[0]['rows']} drafts in one bulk action, the five rules off and then on "
        "(severity warn, half the drafts breaking three rules, so warnings are recorded); "
        f"{results[0]['projects']:,} filed projects in the committee's tree "
        "(the demo tree plus bulk-inserted ones); median of the repetitions after one"
        " warm-up. Target: ≤ 1.5×.",
        "",
        "| backend | server | rules off | rules on | on ÷ off | statements off / on | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['version']} | {r['off'] * 1000:.0f} ms | "
            f"{r['on'] * 1000:.0f} ms | {r['ratio']:.2f} | "
            f"{r['statements']['off']} / {r['statements']['on']} | "
            f"{'met' if r['ratio'] <= 1.5 else 'MISSED'} |"
        )
    return "\n".join(lines + common.measured(results[0]["repeat"]))


def main() -> None:
    parser = common.backends_parser(__doc__)
    parser.add_argument("--projects", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    results = [
        run_backend(kind, args.projects, args.rows, args.repeat)
        for kind in common.backends(args.db)
    ]
    common.write_report(RESULTS, report(results))


if __name__ == "__main__":
    main()
