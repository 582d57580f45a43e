"""CSV and XLSX exports: the reusable module, and the catalog's downloads through it."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from urllib.parse import unquote

import pytest
from flask import Flask
from openpyxl import load_workbook
from public_catalog import FORMULA_NAME, expected, read_csv

import exports
from models import ProjectLevel

# --- the module -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "result"),
    [
        ("=1+2", "'=1+2"),
        ("+86 10", "'+86 10"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("a=1", "a=1"),
        ("北京", "北京"),
        ("", ""),
        (-5, -5),
        (2.5, 2.5),
        (None, None),
    ],
)
def test_neutralise(value, result):
    assert exports.neutralise(value) == result


def test_csv_fast_path_converts_as_the_general_one():
    """The CSV writer's per-type shortcuts give what ``_csv_text`` gives for every cell."""
    values = [
        "=1+2", "+86", "-5", "@A", "\t=x", "\r=x", " =1", "\n+1", "\u3000=1", "\u3000北京",
        " ", "", "a=1", "北京", 0, -5, 2.5, 3.0, True, None,
        date(2026, 1, 2), datetime(2026, 11, 26, 12, 14), datetime(1988, 6, 1, 12, 0),
        ProjectLevel.NATIONAL,
    ]  # fmt: skip
    assert exports._csv_row(values) == [exports._csv_text(v) for v in values]


def test_content_disposition_keeps_a_chinese_name():
    header = exports.content_disposition("已公布项目_2026.csv")
    assert header.startswith('attachment; filename="')
    fallback = header.split('filename="')[1].split('"')[0]
    assert fallback.isascii() and fallback.endswith(".csv")
    encoded = header.split("filename*=UTF-8''")[1]
    assert encoded.isascii() and unquote(encoded) == "已公布项目_2026.csv"
    quoted = exports.content_disposition('a"b\\c.xlsx')
    assert quoted.split('filename="')[1].split('"')[0] == "a_b_c.xlsx"


@pytest.fixture
def bare_app():
    """No database needed: the module only turns rows into a response."""
    return Flask(__name__)


def _rows(n: int):
    for i in range(n):
        yield (i, f"=项目{i}", 2.5, date(2026, 1, 1), None)


def test_csv_response_streams_typed_rows(bare_app):
    with bare_app.test_request_context():
        response = exports.csv_response(
            "导出.csv", ["序号", "名称", "学分", "日期", "空"], _rows(450)
        )
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    body = b"".join(response.response)
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == "序号,名称,学分,日期,空"
    assert lines[1] == "0,'=项目0,2.5,2026-01-01,"
    assert len(lines) == 451


def test_csv_max_rows(bare_app):
    bare_app.config["EXPORT_MAX_ROWS"] = 10
    with bare_app.test_request_context():
        bounded = exports.csv_response("a.csv", ["n"], _rows(50))
        explicit = exports.csv_response("a.csv", ["n"], _rows(50), max_rows=3)
        unbounded = exports.csv_response("a.csv", ["n"], _rows(50), max_rows=0)
        sizes = [len(b"".join(r.response).splitlines()) for r in (bounded, explicit, unbounded)]
    assert sizes == [11, 4, 51]


def test_xlsx_response_types_cells(bare_app):
    rows = [(1, "=1+2", 2.5, date(2026, 3, 4), datetime(2026, 3, 4, 5, 6), "a\x00b", None)]
    with bare_app.test_request_context():
        response = exports.xlsx_response("导出.xlsx", ["n", "t", "f", "d", "dt", "c", "e"], rows)
        body = b"".join(response.response)
        response.close()
    sheet = load_workbook(io.BytesIO(body)).active
    values = [c.value for c in sheet[2]]
    # The stored time is naive UTC; the sheet shows Beijing time (UTC+8).
    assert values == [
        1,
        "=1+2",  # a string cell: shown as typed, no ' in front, never run
        2.5,
        datetime(2026, 3, 4),
        datetime(2026, 3, 4, 13, 6),
        "ab",
        None,
    ]
    assert sheet["B2"].data_type == "s"
    assert sheet["D2"].is_date and sheet["D2"].number_format == "yyyy-mm-dd"


FORMULA_LIKE = ["=1+2", "+86 10", "-5", "@SUM(A1)", '=HYPERLINK("http://x","点我")', " =1", "\t=1"]


def test_xlsx_writes_formula_like_text_as_text_without_an_apostrophe(bare_app):
    """Text starting with = + - @ (behind blanks too) is a string cell holding the text as it
    is: Excel shows it and never evaluates it, and no ' shows in front. The headers too.
    CSV keeps its ' (it has no cell types)."""
    rows = [[text, text] for text in FORMULA_LIKE]
    with bare_app.test_request_context():
        response = exports.xlsx_response("导出.xlsx", ["=标题", "备注"], rows)
        body = b"".join(response.response)
        response.close()
        csv_rows = read_csv(exports.csv_response("导出.csv", ["=标题", "备注"], rows))
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet["A1"].value == "=标题" and sheet["A1"].data_type == "s"
    cells = list(sheet.iter_rows(min_row=2))
    assert [[c.value for c in row] for row in cells] == rows
    assert {c.data_type for row in cells for c in row} == {"s"}
    with zipfile.ZipFile(io.BytesIO(body)) as package:
        assert "<f>" not in package.read("xl/worksheets/sheet1.xml").decode()
    assert csv_rows[0][0] == "'=标题"
    assert [row[0] for row in csv_rows[1:]] == ["'" + text for text in FORMULA_LIKE]


def test_xlsx_opens_ready_to_read(bare_app):
    rows = [(2026, "心血管疾病诊疗进展学习班（第十二期）", "abc")] * 3
    with bare_app.test_request_context():
        response = exports.xlsx_response("项目_2026-11-30.xlsx", ["年度", "项目名称", "x"], rows)
        body = b"".join(response.response)
        response.close()
    book = load_workbook(io.BytesIO(body))
    sheet = book.active
    assert book.sheetnames == ["项目"]
    assert sheet.freeze_panes == "A2"
    assert [c.font.b for c in sheet[1]] == [True, True, True]
    assert not sheet["B2"].font.b
    widths = {col: sheet.column_dimensions[col].width for col in "ABC"}
    # 16 Chinese characters and two full-width brackets: 36 cells, plus 2 of padding
    # (XlsxWriter stores a width with Excel's own cell padding, under one more character).
    assert 38 <= widths["B"] < 39
    assert widths["A"] < 10 and widths["C"] < 10


def test_dated_filename_and_beijing_times_in_csv(bare_app):
    assert exports.dated_filename("项目", "csv", date(2026, 11, 30)) == "项目_2026-11-30.csv"
    assert exports.sheet_name_for("项目审阅_2026-11-30.xlsx") == "项目审阅"
    with bare_app.test_request_context():
        response = exports.csv_response("a.csv", ["t"], [(datetime(2026, 11, 26, 12, 14),)])
        body = b"".join(response.response).decode("utf-8-sig")
    assert body.splitlines()[1] == "2026-11-26 20:14"


# --- the catalog's exports ------------------------------------------------------------------


def test_csv_export(client, catalog, session):
    response = client.get("/export.csv")
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(
        r"已公布继续医学教育项目_\d{4}-\d{2}-\d{2}\.csv",
        unquote(disposition.split("filename*=UTF-8''")[1]),
    )

    rows = read_csv(response)
    assert rows[0][:3] == ["项目编号", "学科", "项目名称"]
    want = expected(session, {})
    assert [r[0] for r in rows[1:]] == [exports.neutralise(p.project_no) for p in want]
    formula = next(r for r in rows if FORMULA_NAME in r[2])
    assert formula[2] == "'" + FORMULA_NAME
    assert formula[0] == "'=1+2"  # 项目编号
    assert formula[5] == "'@SUM(A1:A9)"  # 主办单位
    assert formula[9].startswith("'\t")  # 举办地点
    assert formula[10] == "2.5"  # 学分 stays a plain number
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_csv_export_follows_the_search(client, catalog, session):
    rows = read_csv(client.get("/export.csv", query_string={"year": "2025", "per_page": "5"}))
    want = expected(session, {"year": "2025"})
    assert len(want) > 5  # the export holds the whole search, not one page
    assert [r[2] for r in rows[1:]] == [p.name for p in want]


def test_xlsx_export(client, catalog, session):
    response = client.get("/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert response.headers["Content-Disposition"].endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "已公布继续医学教育项目"
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(min_row=2))
    want = expected(session, {})
    assert len(rows) == len(want)
    header = [c.value for c in sheet[1]]
    year, credits, start = header.index("年度"), header.index("学分"), header.index("开始日期")
    participants = header.index("拟招生人数")
    for row, project in zip(rows, want, strict=True):
        assert row[year].data_type == "n" and row[year].value == project.year
        assert row[credits].data_type == "n" and row[credits].value == project.credits
        assert row[participants].value == project.planned_participants
        assert row[start].is_date and row[start].value.date() == project.start_date
    formula = next(r for r in rows if r[2].value == FORMULA_NAME)  # as typed, no '
    assert formula[0].value == "=1+2" and formula[5].value == "@SUM(A1:A9)"  # 项目编号, 主办单位
    assert {formula[i].data_type for i in (0, 2, 5)} == {"s"}
    assert not any(cell.data_type == "f" for row in rows for cell in row)


def test_export_refuses_more_than_the_limit(client, catalog, session, app_on_empty_db, monkeypatch):
    monkeypatch.setitem(app_on_empty_db.config, "EXPORT_MAX_ROWS", 3)
    response = client.get("/export.csv")
    assert response.status_code == 400
    assert "缩小查询范围" in response.get_data(as_text=True)


def test_english_export_headers(client, catalog):
    client.get("/lang/en")
    rows = read_csv(client.get("/export.csv"))
    assert rows[0][:3] == ["Project number", "Discipline", "Project name"]
