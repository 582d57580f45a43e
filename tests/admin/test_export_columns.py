"""The exports convert a batch of rows a column at a time (one decision per column, not
per cell). Whatever a column mixes, the result must be what the per-cell conversion gives:
CSV as ``_csv_text`` renders each cell, XLSX as ``_xlsx_row`` writes each cell."""

from __future__ import annotations

import io
import random
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from openpyxl import load_workbook

import exports
from models import ProjectLevel

RISKY = ["=1+2", "+86", "-5", "@A", "\t=x", "\r=x", " =1", "\n+1", "\u3000=1", "\u3000北京", " "]
SAFE = ["", "北京", "a=1", "心血管\n内科", "x\x00y", "控制\x07字符"]
OTHER = [
    0, -5, 2.5, 3.0, True, None, Decimal("1.50"), ProjectLevel.NATIONAL,
    date(2026, 1, 2), datetime(2026, 11, 26, 12, 14), datetime(1988, 6, 1, 12, 0),
]  # fmt: skip
# Columns as an export has them: one type (with or without empty cells), or mixed.
KINDS = {
    "text": SAFE,
    "risky text": SAFE + RISKY,
    "numbers": [1, 2, 2.5, 3.0, None],
    "dates": [date(2026, 1, 2), date(1999, 12, 31), None],
    "times": [datetime(2026, 11, 26, 12, 14), datetime(1988, 6, 1, 12, 0), None],
    "empty": [None],
    "mixed": SAFE + RISKY + OTHER,
}


def _rows(seed: int, count: int = 60) -> list[list]:
    rng = random.Random(seed)
    pools = [KINDS[kind] for kind in sorted(KINDS)] * 2
    rng.shuffle(pools)
    return [[rng.choice(pool) for pool in pools] for _ in range(count)]


def test_csv_columns_convert_as_each_cell_would():
    for seed in range(30):
        rows = _rows(seed)
        expected = [[exports._csv_text(v) for v in row] for row in rows]
        assert [list(row) for row in exports._csv_batch(rows)] == expected


def test_csv_ragged_rows_convert_cell_by_cell():
    rows = [["=1", 2.0], ["北京"], [None, date(2026, 1, 2), "-x"]]
    expected = [[exports._csv_text(v) for v in row] for row in rows]
    assert [list(row) for row in exports._csv_batch(rows)] == expected


def _cells(write) -> list[list]:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = workbook.add_worksheet("s")
    writers = exports._xlsx_writers(workbook)
    write(sheet, writers)
    workbook.close()
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    return [[(c.value, c.number_format) for c in row] for row in sheet.iter_rows()]


def test_xlsx_columns_write_what_each_cell_would():
    for seed in range(10):
        rows = _rows(seed)

        def by_column(sheet, writers, rows=rows):
            formats = {"day": writers["day"], "moment": writers["moment"]}
            exports._xlsx_batch(sheet, writers, formats, 0, rows)

        def by_cell(sheet, writers, rows=rows):
            for index, row in enumerate(rows):
                exports._xlsx_row(sheet, writers, index, row)

        assert _cells(by_column) == _cells(by_cell)
