"""申报时间's cost (issue 25): a branch's bulk 上报 of 500 projects with the filing
windows on (every row checked against its window, and moving late under a named
exception, so that its history note is written too) ÷ the same with no window set;
target ≤ 1.2×, statements constant in the rows (20 vs 500).

    .venv/bin/python -m bench.calendar [--db sqlite|postgresql|both] [--rows 500]
                                       [--small 20] [--repeat 7]

The data set is the demo tree (``demo.seed``, its own windows removed); the branch
心血管病学分会 gets ``--rows`` drafts of next year through the workflow engine. "On":
the committee's windows of next year, 北京医学会's cut-off yesterday and an exception
for the branch until five days from now (each row passes the check as late and its
REPORT event gets the exception's note); "off": no window of that year (the check
still reads the calendar: one statement). Each repetition reports them all through
``workflow.apply_bulk`` in one transaction, then the drafts are put back (a direct
UPDATE: benchmark database only). Off and on alternate after one warm-up each; the
figure is the median. Results: ``bench/results/calendar.md``.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, select

from bench import common, drafts

RESULTS = common.RESULTS_DIR / "calendar.md"


def _drafts(session, owner, rows: int, year: int) -> list[int]:
    from models import Lecturer

    def fields(i: int) -> dict:
        return {
            "name": f"申报时间测试项目{i:04d}",
            "principal": f"负责人{i:04d}",  # distinct: no quota warnings at 500 rows
            **drafts.two_days(date(year, 5, 10)),
            "lecturers": [
                Lecturer(position=0, name="教师", title="主任医师", topic="专题", hours=2)
            ],
        }

    return drafts.create(session, owner, year, rows, fields)


def _windows(session, accounts: dict, year: int, on: bool) -> None:
    """Next year's windows with a late branch under an exception (on), or none (off)."""
    from models import FilingWindow, WindowException, WindowStep
    from models.base import beijing_today
    from workflow import calendar

    session.execute(delete(WindowException))
    session.execute(delete(FilingWindow))
    if on:
        today = beijing_today()
        committee, society = accounts["bjcme"], accounts["bma"]
        opens = date(year - 1, 1, 1)
        for step, days in (
            (WindowStep.ENTRY_REPORT, 10),
            (WindowStep.SOCIETY_REPORT, 20),
            (WindowStep.AUDIT, 30),
        ):
            calendar.set_window(session, committee, year, step, opens, today + timedelta(days))
        cut_off = today - timedelta(days=1)
        calendar.set_window(session, society, year, WindowStep.ENTRY_REPORT, None, cut_off)
        calendar.grant_exception(
            session,
            society,
            accounts["bma_cardio"].unit,
            year,
            WindowStep.ENTRY_REPORT,
            today + timedelta(days=5),
            "基准测试",
        )
    session.commit()


def run_backend(kind: str, rows: int, small: int, repeat: int) -> dict:
    from bench.database import server_version
    from models import ProjectEvent, User
    from models.base import beijing_today

    with drafts.demo_session(kind, "calendar") as session:
        accounts = {u.username: u for u in session.scalars(select(User))}
        owner = accounts["bma_cardio"]
        year = beijing_today().year + 1
        ids = _drafts(session, owner, rows, year)
        reporter = drafts.Reporter(session, owner)

        def report(on: bool, wanted: list[int]) -> tuple[float, int]:
            _windows(session, accounts, year, on=on)
            return reporter.report(wanted)

        statements = {}
        for label, on in (("off", False), ("on", True)):
            statements[label] = (report(on, ids[:small])[1], report(on, ids)[1])
        # The late rows' REPORT events carry the exception's note.
        report(True, ids)
        noted = session.scalar(
            select(ProjectEvent.reason)
            .where(ProjectEvent.project_id == ids[-1], ProjectEvent.action == "report")
            .order_by(ProjectEvent.id.desc())
            .limit(1)
        )
        medians = common.on_off(lambda on: report(on, ids)[0], repeat)
        version = server_version(session.get_bind())
    return {
        "backend": kind,
        "version": version,
        "rows": rows,
        "small": small,
        **medians,
        "statements": statements,
        "noted": noted,
        "repeat": repeat,
    }


def report(results: list[dict]) -> str:
    first = results[0]
    lines = [
        "# Filing windows: bulk 上报 with the windows on ÷ off (issue 25)",
        "",
        f"`python -m bench.calendar`: a branch reports {first['rows']} drafts of next year in"
        " one bulk action, with no window set (off) and with the committee's windows, its"
        " society's cut-off passed yesterday and an exception for the branch (on: every row"
        " is checked and moves late, its REPORT event noted with the exception); median of"
        " the repetitions after one warm-up, off and on alternating. Targets: on ÷ off"
        f" ≤ 1.2×; statements the same for {first['small']} and {first['rows']} rows.",
        "",
        f"| backend | server | off | on | on ÷ off | statements off {first['small']} / "
        f"{first['rows']} rows | statements on {first['small']} / {first['rows']} rows | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        off_small, off_all = r["statements"]["off"]
        on_small, on_all = r["statements"]["on"]
        met = r["ratio"] <= 1.2 and off_small == off_all and on_small == on_all
        lines.append(
            f"| {r['backend']} | {r['version']} | {r['off'] * 1000:.0f} ms | "
            f"{r['on'] * 1000:.0f} ms | {r['ratio']:.2f} | {off_small} / {off_all} | "
            f"{on_small} / {on_all} | {'met' if met else 'MISSED'} |"
        )
    lines += [
        "",
        "The calendar's check is one read (the windows and the valid exceptions in one"
        " `UNION ALL`), which off runs too (it finds no window); the exception's note is"
        " written by the engine with the REPORT events it inserts anyway (e.g. "
        f"“{first['noted']}”), so on and off run the same statements.",
    ]
    return "\n".join(lines + common.measured(first["repeat"]))


def main() -> None:
    parser = common.backends_parser(__doc__)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--small", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    results = [
        run_backend(kind, args.rows, args.small, args.repeat) for kind in common.backends(args.db)
    ]
    common.write_report(RESULTS, report(results))


if __name__ == "__main__":
    main()
