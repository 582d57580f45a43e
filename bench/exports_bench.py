"""Exports (issue 12): the panel's CSV against a plain ``csv.writer`` over the same SQL, and
the XLSX writers (openpyxl write-only, XlsxWriter constant_memory, and the product's own:
rustpy-xlsxwriter through ``exports.write_xlsx``) on the same rows.

    .venv/bin/python -m bench.exports_bench                       # SQLite, 20,000 projects
    .venv/bin/python -m bench.exports_bench --db postgresql --projects 200000

The committee's 项目审阅 list filtered to 已公布 (half the projects) is exported through the
app (a signed-in test client, whole body read) and, as the reference, its one SELECT is
written by ``csv.writer`` straight from the driver. Target: reference ÷ export ≥ 0.5.
The XLSX comparison writes the export's own rows (read once, held in memory) with each
writer into a temporary file, so only the writer differs. Results are appended to
bench/results/exports.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime

from bench import common, references
from bench.common import log
from bench.scenarios import _export_url

RESULTS = common.RESULTS_DIR / "exports.md"

CPU: dict[str, float] = {}


def timed(action, reps: int, name: str | None = None) -> float:
    """Median wall seconds of ``reps`` runs; the median CPU seconds of this process go to
    ``CPU[name]`` (on a loaded machine the CPU time is the steadier figure: everything
    measured here runs in this one process, the database engine included for SQLite)."""
    runs, cpu = [], []
    for _ in range(reps):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        runs.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    if name:
        CPU[name] = statistics.median(cpu)
    return statistics.median(runs)


def xlsx_writers(headers, rows) -> dict[str, float]:
    """Seconds to write ``rows`` with each writer, styled like the product's file."""
    import xlsxwriter
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    import exports

    def openpyxl_write(path):
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("项目")
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for h in headers:
            cell = WriteOnlyCell(sheet, value=h)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in rows:
            sheet.append([exports.cell_value(v) for v in row])
        workbook.save(path)

    def xlsxwriter_write(path):
        workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
        sheet = workbook.add_worksheet("项目")
        sheet.freeze_panes(1, 0)
        bold = workbook.add_format({"bold": True})
        sheet.write_row(0, 0, headers, bold)
        for index, row in enumerate(rows, start=1):
            sheet.write_row(index, 0, [exports.cell_value(v) for v in row])
        workbook.close()

    def product_write(path):
        exports.write_xlsx(path, headers, rows, filename="项目.xlsx", max_rows=0)

    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, write in (
            ("openpyxl write-only", openpyxl_write),
            ("XlsxWriter", xlsxwriter_write),
            ("rustpy-xlsxwriter (exports.write_xlsx)", product_write),
        ):
            path = os.path.join(tmp, f"{name}.xlsx")
            figures[name] = timed(lambda w=write, p=path: w(p), 3)
            figures[name + " size MB"] = os.path.getsize(path) / 2**20
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--projects", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    load_start = os.getloadavg()
    label = f"exports{args.projects}"
    with common.generated_app(args.db, label, args.projects) as (app, engine, dataset):
        browser = common.signed_in(app)
        scope = references.Scope("committee", dataset.tree.demo_unit("committee"))
        filters = {"state": "published"}
        sql = references.export_sql(engine, scope, **filters)
        rows = references.plain_csv(engine, sql)[1]
        plain = timed(lambda: references.plain_csv(engine, sql), args.reps, "plain")
        log(f"plain csv.writer: {rows:,} rows in {plain:.2f} s")
        csv_url = _export_url("csv", filters)
        ours = timed(lambda: browser.get(csv_url), args.reps, "csv")
        log(f"our CSV: {ours:.2f} s, ratio {plain / ours:.2f}")
        xlsx_url = _export_url("xlsx", filters)
        ours_xlsx = timed(lambda: browser.get(xlsx_url), 1, "xlsx")
        log(f"our XLSX: {ours_xlsx:.2f} s ({ours_xlsx / ours:.1f}× our CSV)")
        with engine.connect() as conn:
            result = conn.exec_driver_sql(sql)
            headers = list(result.keys())
            data = [tuple(r) for r in result]
        writers = xlsx_writers(headers, data)
        log(f"writers: {writers}")
    load_end = os.getloadavg()
    lines = [
        f"## {args.db}, {args.projects:,} projects ({rows:,} rows exported),"
        f" {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`python -m bench.exports_bench --db {args.db} --projects {args.projects}`;"
        f" {platform.machine()}, {os.cpu_count()} CPUs shared with other work, load average"
        f" {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end; medians of"
        f" {args.reps} runs (the XLSX export: one; each writer alone: three).",
        "",
        "| figure | wall s | CPU s (this process) |",
        "|---|---|---|",
        f"| plain `csv.writer` over the export's SELECT | {plain:.2f} | {CPU['plain']:.2f} |",
        f"| our CSV export (HTTP, whole body) | {ours:.2f} | {CPU['csv']:.2f} |",
        f"| **plain ÷ ours** (target ≥ 0.5) | **{plain / ours:.2f}**"
        f" | **{CPU['plain'] / CPU['csv']:.2f}** |",
        f"| our XLSX export (HTTP, whole body) | {ours_xlsx:.2f} ({ours_xlsx / ours:.1f}× CSV)"
        f" | {CPU['xlsx']:.2f} ({CPU['xlsx'] / CPU['csv']:.1f}× CSV) |",
    ]
    for name, value in writers.items():
        if name.endswith("MB"):
            lines.append(f"| writer only: {name} | {value:.2f} MB | |")
        else:
            lines.append(f"| writer only: {name} | {value:.2f} | |")
    common.append_report(
        RESULTS,
        "\n".join(lines) + "\n",
        header="# Exports (issue 12)\n\nSee bench/exports_bench.py.\n\n",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
