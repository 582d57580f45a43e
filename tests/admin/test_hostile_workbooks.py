"""Crafted workbooks against 批量导入, through the real panel on both databases: each is
refused with a Chinese reason, writes nothing, and leaves the server answering. The files
are built here with zipfile (never committed as binaries)."""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
import zlib

import pytest

import imports
from imports import ImportBatch, isolation
from imports.reader import Table
from models import Project
from tests.admin.test_import import count, download_template, fill, project_row, upload

NOT_A_SPREADSHEET = "所选文件不是 Excel 工作簿（.xlsx）或 CSV 文件"
UNREADABLE = "文件无法读取"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PACKAGE_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
RELS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_TYPE = RELS_NS + "/worksheet"
HEADER_ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>序号</t></is></c></row>'


def content_types() -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    )


def workbook_parts(sheet_xml: str | bytes, *, doctype_in: str | None = None) -> dict:
    """The parts of a one-sheet workbook (项目) whose sheet part is ``sheet_xml``."""
    parts = {
        "[Content_Types].xml": content_types(),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_RELS_NS}">'
            f'<Relationship Id="rId1" Type="{RELS_NS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}"'
            f' xmlns:r="{RELS_NS}"><sheets><sheet name="项目" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE_RELS_NS}">'
            f'<Relationship Id="rId1" Type="{WORKSHEET_TYPE}" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    if doctype_in is not None:
        text = parts[doctype_in]
        declaration, _, rest = text.partition("?>")
        root = rest[1 : rest.index(" ")]
        parts[doctype_in] = f'{declaration}?><!DOCTYPE {root} [<!ENTITY name "x">]>{rest}'.replace(
            ">项目<", ">&name;<"
        )
    return parts


def worksheet(rows: str, dimension: str | None = None) -> str:
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">{declared}'
        f"<sheetData>{rows}</sheetData></worksheet>"
    )


def zipped(parts: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def far_cell() -> bytes:
    """One cell at A1 and one at XFD1048576: calamine allocates the 512 GiB between."""
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return zipped(workbook_parts(worksheet(HEADER_ROW + far)))


def far_dimension() -> bytes:
    return zipped(workbook_parts(worksheet(HEADER_ROW, dimension="A1:XFD1048576")))


def far_row() -> bytes:
    far = '<row r="900000"><c r="A900000" t="inlineStr"><is><t>x</t></is></c></row>'
    return zipped(workbook_parts(worksheet(HEADER_ROW + far)))


def cells_without_references() -> bytes:
    """300 cells in a row, none with a reference: each is placed after the one before."""
    cells = '<c t="inlineStr"><is><t>x</t></is></c>' * 300
    return zipped(workbook_parts(worksheet(HEADER_ROW + f'<row r="2">{cells}</row>')))


def escaped_reference() -> bytes:
    """A far cell whose reference is written with a character reference (&#88; is X)."""
    far = '<row r="2"><c r="&#88;FD2" t="inlineStr"><is><t>x</t></is></c></row>'
    return zipped(workbook_parts(worksheet(HEADER_ROW + far)))


def reordered_attributes() -> bytes:
    far = '<row r="2"><c t="inlineStr" r="XFD2"><is><t>x</t></is></c></row>'
    return zipped(workbook_parts(worksheet(HEADER_ROW + far)))


def prefixed_far_cell() -> bytes:
    """The sheet's elements under a namespace prefix (x:c, x:row)."""
    rows = HEADER_ROW + '<row r="2"><c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>'
    for name in ("row", "c", "is", "t"):
        rows = rows.replace(f"<{name} ", f"<x:{name} ").replace(f"<{name}>", f"<x:{name}>")
        rows = rows.replace(f"</{name}>", f"</x:{name}>")
    return zipped(
        workbook_parts(
            f'<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="{MAIN_NS}">'
            f"<x:sheetData>{rows}</x:sheetData></x:worksheet>"
        )
    )


def utf16_far_cell() -> bytes:
    far = '<row r="2"><c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>'
    text = worksheet(HEADER_ROW + far).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    return zipped(workbook_parts(text.encode("utf-16")))


FAR_REACHING = {
    "far cell": (far_cell, "延伸到第 XFD 列"),
    "far dimension": (far_dimension, "延伸到第 XFD 列"),
    "far row": (far_row, "延伸到第 900000 行"),
    "cells without references": (cells_without_references, "延伸到第 KN 列"),
    "escaped reference": (escaped_reference, "延伸到第 XFD 列"),
    "reordered attributes": (reordered_attributes, "延伸到第 XFD 列"),
    "namespace prefix": (prefixed_far_cell, "延伸到第 XFD 列"),
    "UTF-16 sheet": (utf16_far_cell, "延伸到第 XFD 列"),
}


def refusal(browser) -> str:
    """The flashed reason on the upload page (the page itself answering proves the
    server is still up)."""
    response = browser.get("/admin/import/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "没有导入" in page, page[-2000:]
    return page


def assert_refused(browser, data: bytes, words: str) -> None:
    before = count(Project), count(ImportBatch)
    response = upload(browser, data)
    assert response.status_code == 302, response.status_code
    assert response.headers["Location"].endswith("/admin/import/")
    page = refusal(browser)
    assert words in page, re.findall(r"alert[^>]*>(.*?)</div>", page, re.S)
    assert (count(Project), count(ImportBatch)) == before


@pytest.mark.parametrize("kind", list(FAR_REACHING))
def test_a_sheet_reaching_too_far_is_refused_before_it_is_loaded(branch, kind):
    make, where = FAR_REACHING[kind]
    assert_refused(branch, make(), where)
    # The server process (this one) is alive and still reads a good file.
    data = fill(download_template(branch), [project_row("1")])
    response = upload(branch, data)
    assert "/admin/import/batch/" in response.headers["Location"]


def test_a_child_that_dies_gives_a_refusal_not_a_500(branch, app, monkeypatch):
    """A good file of 2,000 rows read within a 1 MB address space: the child runs out of
    memory (calamine's abort on a huge allocation ends it the same way). The limit stops
    new mappings only: a small file (300 rows) could once be read within the free heap the
    forked child inherited, so the file is made far larger than any such leftover."""
    data = fill(download_template(branch), [project_row(str(n)) for n in range(1, 2001)])
    monkeypatch.setitem(app.config, "IMPORT_READ_MEMORY_MB", 1)
    assert_refused(branch, data, UNREADABLE)
    monkeypatch.setitem(app.config, "IMPORT_READ_MEMORY_MB", 1024)
    response = upload(branch, data)
    assert "/admin/import/batch/" in response.headers["Location"]


def test_a_child_that_aborts_gives_a_refusal(app_without_db):
    """What calamine does when an allocation fails: abort, no exception, no answer."""
    with app_without_db.test_request_context():
        with pytest.raises(imports.FileRefused) as refused:
            isolation.run(os.abort, (), label="abort")
        assert UNREADABLE in str(refused.value.message)


def test_a_child_out_of_time_gives_a_refusal(branch, app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_READ_SECONDS", 0)
    data = fill(download_template(branch), [project_row("1")])
    assert_refused(branch, data, UNREADABLE)


def lying_sizes(real: bytes, told: int) -> bytes:
    """A workbook whose sheet part unpacks to ``real`` while its local header and the
    central directory announce ``told`` bytes, with the check sum of the first ``told``
    bytes (what a reader that trusts the announced size reads and checks)."""
    data = bytearray(zipped(workbook_parts(real)))
    name = b"xl/worksheets/sheet1.xml"
    crc = zlib.crc32(real[:told])
    local = data.index(b"PK\x03\x04")
    while data[local + 30 : local + 30 + len(name)] != name:
        local = data.index(b"PK\x03\x04", local + 4)
    struct.pack_into("<I", data, local + 14, crc)
    struct.pack_into("<I", data, local + 22, told)
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 16, crc)
    struct.pack_into("<I", data, central + 24, told)
    return bytes(data)


def padded_sheet(size: int) -> bytes:
    """A valid sheet part of about ``size`` bytes: the header row, then a long comment."""
    head = worksheet(HEADER_ROW).encode()
    cut = head.index(b"<sheetData>")
    return head[:cut] + b"<!--" + b"0" * size + b"-->" + head[cut:]


def test_a_zip_lying_about_its_sizes_is_refused_by_the_bytes_it_really_holds(branch):
    data = lying_sizes(padded_sheet(60 * 1024 * 1024), 2_000)
    assert len(data) < 200_000
    assert_refused(branch, data, "50 MB")


def test_a_part_unpacking_to_other_than_its_announced_size_is_refused(branch):
    assert_refused(branch, lying_sizes(padded_sheet(100_000), 2_000), NOT_A_SPREADSHEET)


@pytest.mark.parametrize(
    "part", ["xl/workbook.xml", "xl/worksheets/sheet1.xml", "[Content_Types].xml"]
)
def test_a_part_declaring_a_dtd_is_refused(branch, part):
    parts = workbook_parts(worksheet(HEADER_ROW), doctype_in=part)
    assert "<!DOCTYPE" in parts[part]
    assert_refused(branch, zipped(parts), NOT_A_SPREADSHEET)


def test_a_dtd_in_utf16_is_refused(branch):
    text = worksheet(HEADER_ROW).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    text = text.replace("?>", '?><!DOCTYPE worksheet [<!ENTITY a "b">]>', 1)
    assert_refused(branch, zipped(workbook_parts(text.encode("utf-16"))), NOT_A_SPREADSHEET)


def damaged_part() -> bytes:
    """A real workbook whose sheet's compressed bytes are altered: its check sum fails."""
    data = bytearray(zipped(workbook_parts(worksheet(HEADER_ROW + "<row r='2'/>" * 50))))
    name = b"xl/worksheets/sheet1.xml"
    start = data.index(name) + len(name)
    for offset in range(start + 20, start + 40):
        data[offset] ^= 0x55
    return bytes(data)


DAMAGED = {
    "truncated": lambda: zipped(workbook_parts(worksheet(HEADER_ROW)))[:-200],
    "altered bytes": damaged_part,
    "random after the magic": lambda: b"PK\x03\x04" + os.urandom(4000),
    "unsupported compression": lambda: _method(zipped(workbook_parts(worksheet(""))), 99),
}


def _method(data: bytes, method: int) -> bytes:
    """Every part marked with compression ``method`` (one no reader supports)."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = out.find(signature)
        while at != -1:
            struct.pack_into("<H", out, at + offset, method)
            at = out.find(signature, at + 4)
    return bytes(out)


@pytest.mark.parametrize("kind", list(DAMAGED))
def test_a_damaged_zip_is_not_a_spreadsheet(branch, kind):
    assert_refused(branch, DAMAGED[kind](), NOT_A_SPREADSHEET)


def test_tables_come_back_from_the_child_as_they_were_read():
    """The child packs each table into one string and two arrays (far cheaper to pickle
    than a list per row); empty cells, rows of different widths and a header alone too."""
    tables = [
        Table("项目", ["序号", "", "名称"], [(2, ["1", "", "x"]), (5, ["", ""]), (7, ["3"])]),
        Table("授课教师", ["序号"]),
        Table("项目", [""], [(3, [""])]),
    ]
    for table in tables:
        assert isolation._unpack(isolation._pack(table)) == table
    assert isolation._unpack(isolation._pack(None)) is None
    with pytest.raises(imports.FileRefused):
        isolation._pack(Table("项目", ["a\x00b"]))
