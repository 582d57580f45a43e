"""The exports convert a batch of rows a column at a time (one decision per column, not
per cell). Whatever a column mixes, the result must be what the per-cell conversion gives:
CSV as ``_csv_text`` renders each cell, XLSX as ``_xlsx_cell`` converts each cell; and the
workbook holds those values, typed and formatted."""

from __future__ import annotations

import random
import re
from datetime import date, datetime
from decimal import Decimal

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


def _per_cell(column, dated: bool) -> list:
    return [None if v is None else exports._xlsx_cell(v, dated) for v in column]


def test_xlsx_columns_convert_as_each_cell_would():
    for seed in range(30):
        for column in zip(*_rows(seed), strict=True):
            for dated in (False, True):
                converted = exports._xlsx_column(list(column), dated)
                assert list(converted) == _per_cell(column, dated)


def _excel_text(text):
    """A cell's text as Excel reads it: OOXML writes a control character such as a carriage
    return as ``_x000D_``, which Excel decodes (openpyxl leaves it)."""
    if text is None:
        return None
    return re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def test_the_workbook_holds_each_cell_typed_and_formatted(tmp_path):
    """What Excel shows: text as text (never a formula), numbers as numbers, days as
    yyyy-mm-dd and (Beijing) times as yyyy-mm-dd hh:mm; a bold header row that stays in
    view, with filter buttons; text longer than a cell holds cut, not refused; a header
    that repeats keeps its own column."""
    rows = _rows(7, count=300)
    rows[5][0] = "长" * 40_000
    headers = [f"列{index}" for index in range(len(rows[0]))]
    headers[1] = headers[0]
    path = tmp_path / "out.xlsx"
    exports.write_xlsx(str(path), headers, rows, filename="项目审阅_2026-11-30.xlsx")
    sheet = load_workbook(path).active
    assert sheet.title == "项目审阅" and sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref is not None
    header = next(sheet.iter_rows(max_row=1))
    assert [c.value.rstrip("\u200b") for c in header] == headers
    assert all(c.font.b for c in header)
    # The writer formats a column as dates once it holds one: dates only in the columns
    # the sample shows as dates (or empty), numbers only outside them.
    kinds = [set(map(type, column)) - {type(None)} for column in zip(*rows, strict=True)]
    assert {frozenset(k) for k in kinds} >= {frozenset({date}), frozenset({datetime})}
    dated = [kind <= {date, datetime} for kind in kinds]
    expected = [
        _per_cell(column, flag) for column, flag in zip(zip(*rows, strict=True), dated, strict=True)
    ]
    written = list(zip(*sheet.iter_rows(min_row=2), strict=True))
    assert len(written) == len(expected)
    for cells, values in zip(written, expected, strict=True):
        for cell, value in zip(cells, values, strict=True):
            assert cell.data_type != "f"
            if isinstance(value, str):
                assert _excel_text(cell.value) == (value or None)
            elif isinstance(value, datetime):
                assert (cell.value, cell.number_format) == (value, "yyyy-mm-dd hh:mm")
            elif isinstance(value, date):
                assert cell.value == datetime(value.year, value.month, value.day)
                assert cell.number_format in ("yyyy-mm-dd", "yyyy-mm-dd hh:mm")
            else:  # numbers (an int is stored as a number, read back as a float), empty
                assert cell.value == value
                assert cell.number_format == "General"
    assert len(sheet["A7"].value) == exports.EXCEL_MAX_TEXT


def test_an_empty_workbook_still_has_its_header_row(tmp_path):
    path = tmp_path / "empty.xlsx"
    exports.write_xlsx(str(path), ["年度", "项目名称"], [], filename="我的项目.xlsx")
    sheet = load_workbook(path).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["年度", "项目名称"]]
