"""Roster import benchmark (issue 23, not a test): a 学员名单 of 1,000 and 5,000 learners
read and checked for the preview, then confirmed, against a plain executemany of the same
rows; time and peak Python memory (tracemalloc), on SQLite and PostgreSQL.

    .venv/bin/python -m bench.roster_import                   # SQLite in a temporary file
    .venv/bin/python -m bench.roster_import --db postgresql   # BENCH_PG_URL
    .venv/bin/python -m bench.roster_import --rows 1000 5000 --reps 3

Each backend gets a fresh database (migrated, the demo seeded); the report is the demo's
published project without one (pumch's), opened by pumch. The file is the real template
(``imports.roster.template_bytes``) filled with openpyxl: valid ID numbers (check
character), a tenth absent with 0 credits. Per repetition the roster is emptied (DELETE, a
benchmark database), then:

- preview: ``imports.roster.preview`` (the reader in its child process, every row judged,
  the batch kept) and commit;
- confirm: ``imports.roster.confirm`` (the preview's judgement written while the report's
  version is unchanged: one INSERT executemany) and commit;
- reference: the roster emptied again, then the same rows (the values the preview judged,
  unpacked from the batch) as a plain Core ``insert(roster_entries)`` executemany and
  commit: the limit of the write.

Time is measured without tracemalloc (which slows Python several times); then one more
preview + confirm under tracemalloc for the peaks, beside the rows themselves, so that
"memory not growing beyond the rows themselves" can be read: the list of dicts alone (its
strings shared with the bench's own copy of the rows), and the rows with their own values
(a JSON round trip of the same rows: every text a string of its own, as a reader or a
driver gives them). The report gives each peak beyond the rows with their values, and how
much that excess grows per learner from one size to the next (0 when the peak is the rows
plus a constant, negative when the step holds less than every row at once). confirm ÷
executemany is given as the ratio of the medians and as the median of each run's own
ratio (a run's confirm and executemany follow each other: the least disturbed by other
work on a shared machine). The reader runs in a child forked from the forkserver
(``imports.isolation``): its memory is outside tracemalloc, capped by
``isolation.Limits.memory_mb``. Results are appended to ``bench/results/execution.md``.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import platform
import statistics
import time
import tracemalloc
from datetime import UTC, datetime

from openpyxl import load_workbook
from sqlalchemy import delete, func, insert, select

from bench import common
from bench.common import log
from bench.database import fresh_database, server_version

RESULTS = common.RESULTS_DIR / "execution.md"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉玲红梅鹏飞宇晨"
HOSPITALS = ("北京协和医院", "北京大学第一医院", "首都医科大学附属北京朝阳医院", "北京天坛医院")
TITLES = ("主治医师", "住院医师", "副主任医师", "主管护师")


def id_number(index: int) -> str:
    from models.rules import id_check_character

    birth = f"19{60 + index % 40:02d}{1 + index % 12:02d}{1 + index % 28:02d}"
    first17 = f"110105{birth}{index % 1000:03d}"
    # One card per row: the sequence's thousands go into the area code's last digits.
    first17 = f"1101{index // 1000 % 100:02d}" + first17[6:]
    return first17 + id_check_character(first17)


def build_file(report, rows: int, tag: str) -> bytes:
    """The report's template with ``rows`` learners (``tag`` in the workplace: each file
    differs, so none is "imported before"). Needs an app context (the Chinese headers)."""
    import imports.roster as roster
    from imports.columns import normalise_header
    from models.vocabulary import chinese

    workbook = load_workbook(io.BytesIO(roster.template_bytes(report)))
    sheet = workbook.worksheets[0]
    field_of = {normalise_header(c.header()): c.field for c in roster.columns()}
    fields = [field_of.get(normalise_header(c.value or "")) for c in sheet[1]]
    yes, no = chinese(roster.YES), chinese(roster.NO)
    for i in range(rows):
        attended = i % 10 != 0
        values = {
            "name": SURNAMES[i % len(SURNAMES)] + GIVEN[i * 7 % len(GIVEN)] + GIVEN[i % len(GIVEN)],
            "id_number": id_number(i),
            "workplace": f"{HOSPITALS[i % len(HOSPITALS)]}{tag}",
            "title": TITLES[i % len(TITLES)],
            "phone": f"139{i:08d}",
            "attended": yes if attended else no,
            "credits": report.credits if attended else 0,
        }
        sheet.append([values.get(field) for field in fields])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _empty(session, report_id: int) -> None:
    from models import RosterEntry

    session.execute(delete(RosterEntry).where(RosterEntry.report_id == report_id))
    session.commit()


def report_and_owner(session):
    """The demo's first published pumch project without a report gets one: (its id, the
    owner account's id). bench.certificates opens its report the same way."""
    from models import ExecutionReport, Project, ProjectState, User
    from workflow import execution

    owner = session.scalar(select(User).where(User.username == "pumch"))
    project = session.scalar(
        select(Project)
        .where(
            Project.owner_unit_id == owner.unit_id,
            Project.state == ProjectState.PUBLISHED,
            ~select(ExecutionReport.id).where(ExecutionReport.project_id == Project.id).exists(),
        )
        .order_by(Project.id)
    )
    if project is None:
        raise RuntimeError("the demo has no published pumch project without a report")
    report = execution.open_report(session, owner, project)
    session.commit()
    return report.id, owner.id


def judged_rows(batch) -> list[dict]:
    """The learners a preview kept in ``batch``, their values by field."""
    import imports.roster as roster
    from workflow import execution

    items = roster.kept_learners(batch.payload[roster.LEARNERS])
    return [
        dict(zip(execution.ROSTER_FIELDS, item[roster.VALUES :], strict=True)) for item in items
    ]


def run_once(app, report_id: int, owner_id: int, data: bytes, filename: str) -> dict:
    """Preview + confirm of ``data`` on the emptied roster, then the reference write of
    the same rows on the emptied roster again: seconds of each, and the rows written."""
    import imports.roster as roster
    from extensions import db
    from models import ExecutionReport, RosterEntry, RosterSource, User, utcnow
    from workflow import execution

    with app.app_context():
        session = db.session
        _empty(session, report_id)
        report = session.get(ExecutionReport, report_id)
        owner = session.get(User, owner_id)
        started = time.perf_counter()
        preview = roster.preview(session, owner, report, filename, data)
        session.commit()
        previewed = time.perf_counter()
        if not preview.plan.ok:
            raise RuntimeError(f"the file has errors: {preview.plan.errors[:3]}")
        report = session.get(ExecutionReport, report_id)
        roster.confirm(session, owner, report, preview.batch.id)
        session.commit()
        confirmed = time.perf_counter()
        written = session.scalar(
            select(func.count()).select_from(RosterEntry).where(RosterEntry.report_id == report_id)
        )
        rows = judged_rows(preview.batch)
        _empty(session, report_id)
        now = utcnow()
        values = [
            {name: row[name] for name in execution.ROSTER_FIELDS}
            | {"report_id": report_id, "source": RosterSource.IMPORT.value}
            | {"created_at": now, "updated_at": now}
            for row in rows
        ]
        referenced = time.perf_counter()
        session.execute(insert(RosterEntry.__table__), values)
        session.commit()
        reference = time.perf_counter() - referenced
        session.remove()
    return {
        "preview": previewed - started,
        "confirm": confirmed - previewed,
        "reference": reference,
        "written": written,
    }


def traced(app, report_id: int, owner_id: int, data: bytes, filename: str) -> dict:
    """Peaks (MB) of the preview, of the confirm, and of holding the rows alone."""
    import imports.roster as roster
    from extensions import db
    from models import ExecutionReport, User

    with app.app_context():
        session = db.session
        _empty(session, report_id)
        report = session.get(ExecutionReport, report_id)
        owner = session.get(User, owner_id)
        tracemalloc.start()
        preview = roster.preview(session, owner, report, filename, data)
        session.commit()
        _, preview_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        batch_id = preview.batch.id
        rows = judged_rows(preview.batch)
        del preview
        report = session.get(ExecutionReport, report_id)
        tracemalloc.start()
        roster.confirm(session, owner, report, batch_id)
        session.commit()
        _, confirm_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        tracemalloc.start()
        held = [dict(row) for row in rows]
        _, rows_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del held
        # The rows with their own values, as a payload or a driver gives them: every text a
        # string of its own (the dicts above share theirs with ``rows``).
        text = json.dumps(rows, ensure_ascii=False)
        tracemalloc.start()
        held = json.loads(text)
        full, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del held, text
        session.remove()
    mb = 2**20
    return {
        "preview_mb": preview_peak / mb,
        "confirm_mb": confirm_peak / mb,
        "rows_mb": rows_peak / mb,
        "values_mb": full / mb,
    }


def measure(app, report_id: int, owner_id: int, rows: int, reps: int) -> dict:
    from extensions import db
    from models import ExecutionReport

    with app.app_context():
        report = db.session.get(ExecutionReport, report_id)
        files = [build_file(report, rows, f"{rows}-{i}") for i in range(reps + 2)]
        db.session.remove()
    runs = []
    for index, data in enumerate(files[:-1]):
        result = run_once(app, report_id, owner_id, data, f"roster-{rows}-{index}.xlsx")
        if result["written"] != rows:
            raise RuntimeError(f"{result['written']} learners written of {rows}")
        if index:  # the first is a warm-up
            runs.append(result)
        log(
            f"  {rows} rows: preview {result['preview']:.2f} s, confirm {result['confirm']:.2f} s,"
            f" executemany {result['reference']:.2f} s"
        )
    peaks = traced(app, report_id, owner_id, files[-1], f"roster-{rows}-traced.xlsx")
    median = {k: statistics.median(r[k] for r in runs) for k in ("preview", "confirm", "reference")}
    # Each run's confirm and executemany follow each other: the ratio of the same run is
    # the least disturbed by the other work of a shared machine.
    paired = statistics.median(r["confirm"] / r["reference"] for r in runs)
    return median | peaks | {"file_mb": len(files[0]) / 2**20, "paired_ratio": paired}


def markdown(kind: str, version: str, figures: dict[int, dict], reps: int, argv) -> str:
    load = os.getloadavg()
    lines = [
        f"## Roster import, {kind} {version}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- command: `python -m bench.roster_import {' '.join(argv)}`",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other work, "
        f"load average at the end {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}",
        f"- median of {reps} repetitions after one warm-up; peaks from one more run under"
        " tracemalloc (this process's Python heap: the reader's child, forked from the"
        " forkserver, is outside it and capped by imports.isolation.Limits)",
        "",
        "| learners | file | preview | confirm | executemany | confirm ÷ executemany"
        " (of the medians; median of each run's) | peak preview | peak confirm | the rows alone"
        " (dicts; with their values) | beyond the rows with values, preview / confirm |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rows, f in figures.items():
        lines.append(
            f"| {rows:,} | {f['file_mb']:.2f} MB | {f['preview'] * 1000:.0f} ms"
            f" | {f['confirm'] * 1000:.0f} ms | {f['reference'] * 1000:.0f} ms"
            f" | {f['confirm'] / f['reference']:.2f}; {f['paired_ratio']:.2f}"
            f" | {f['preview_mb']:.1f} MB | {f['confirm_mb']:.1f} MB"
            f" | {f['rows_mb']:.1f} MB; {f['values_mb']:.1f} MB"
            f" | {f['preview_mb'] - f['values_mb']:.1f}"
            f" / {f['confirm_mb'] - f['values_mb']:.1f} MB |"
        )
    lines += ["", *growth(figures)]
    return "\n".join(lines) + "\n"


def growth(figures: dict[int, dict]) -> list[str]:
    """How the peaks grow beyond the rows from one size to the next, per added learner:
    0 when the peak is the rows plus a constant."""
    sizes = sorted(figures)
    lines = []
    for small, large in itertools.pairwise(sizes):
        a, b, added = figures[small], figures[large], large - small
        per = {
            step: ((b[f"{step}_mb"] - b["values_mb"]) - (a[f"{step}_mb"] - a["values_mb"]))
            * 2**20
            / 1024
            / added
            for step in ("preview", "confirm")
        }
        rows = (b["values_mb"] - a["values_mb"]) * 2**20 / 1024 / added
        lines.append(
            f"- {small:,} → {large:,} learners: beyond the rows with their values"
            f" ({rows:.2f} KB per learner), the peak grows {per['preview']:.2f} KB per"
            f" learner in the preview and {per['confirm']:.2f} KB in the confirmation"
        )
    return lines


def main(argv=None) -> int:
    import sys

    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 5_000])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    with fresh_database(args.db, "roster") as url:
        app = common.demo_app(url)
        from extensions import db

        with app.app_context():
            report_id, owner_id = report_and_owner(db.session)
            version = server_version(db.engine)
            db.session.remove()
        figures = {rows: measure(app, report_id, owner_id, rows, args.reps) for rows in args.rows}
        with app.app_context():
            db.engine.dispose()
    common.append_report(RESULTS, markdown(args.db, version, figures, args.reps, argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
