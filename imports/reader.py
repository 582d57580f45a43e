"""Read an uploaded file into rows of cell texts, or refuse it with a Chinese reason.

What a file is comes from its bytes, never its name: an XLSX is a zip holding
``xl/workbook.xml``; an OLE2 compound file is an encrypted workbook (or an old
.xls); anything else must decode as text to be a CSV. Spreadsheets are read by
openpyxl in read-only mode, values only: a formula is refused, never evaluated.
Nothing here touches the database.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from xml.etree.ElementTree import iterparse

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter, range_boundaries

from imports.columns import EXAMPLE, LECTURER_SHEET, PROJECT_SHEET, cell_text
from models.vocabulary import chinese

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# The sum of the uncompressed sizes an XLSX's zip directory announces: a 10 MB
# file of compressed zeros can unpack to gigabytes.
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_ROWS = 5_000
# Lecturer rows: several per project.
MAX_LECTURER_ROWS = 10 * MAX_ROWS
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
MACRO_PARTS = ("xl/vbaProject.bin",)


class FileRefused(Exception):
    """The file as a whole cannot be imported; ``message`` says why, in the user's words."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass
class Table:
    """One sheet: its header texts and its non-blank rows, each with its row number
    in the sheet (as the user sees it in Excel)."""

    sheet: str
    headers: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


@dataclass
class Upload:
    projects: Table
    lecturers: Table | None


def read(filename: str, data: bytes) -> Upload:
    """The file's project sheet (and lecturer sheet, for a workbook)."""
    if not data.strip():
        raise FileRefused(_l("The file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise FileRefused(too_large())
    if data.startswith(OLE2_MAGIC):
        raise FileRefused(
            _l(
                "The file is an encrypted workbook or an old Excel 97-2003 (.xls) file:"
                " save it as an Excel workbook (.xlsx) without a password and upload it again."
            )
        )
    if data.startswith(ZIP_MAGIC):
        return _read_xlsx(data)
    return Upload(_read_csv(data), None)


def too_large():
    return _l(
        "The file is larger than %(size)s MB: split it into several files.",
        size=MAX_UPLOAD_BYTES // (1024 * 1024),
    )


def _not_a_spreadsheet():
    return _l(
        "This is not a spreadsheet we can read: upload the template filled in,"
        " as an Excel workbook (.xlsx) or a CSV file."
    )


# -- XLSX ---------------------------------------------------------------------


def _read_xlsx(data: bytes) -> Upload:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise FileRefused(_not_a_spreadsheet()) from None
    names = {entry.filename for entry in entries}
    if "xl/workbook.xml" not in names:
        raise FileRefused(_not_a_spreadsheet())
    if any(part in names for part in MACRO_PARTS):
        raise FileRefused(
            _l(
                "The workbook contains macros: save it as an Excel workbook (.xlsx)"
                " without macros and upload it again."
            )
        )
    if sum(entry.file_size for entry in entries) > MAX_UNCOMPRESSED_BYTES:
        raise FileRefused(
            _l(
                "The workbook unpacks to more than %(size)s MB: split it into several files.",
                size=MAX_UNCOMPRESSED_BYTES // (1024 * 1024),
            )
        )
    try:
        # Not data_only: a formula cell then shows as one (type "f") and is refused,
        # where data_only would silently take whatever value Excel last cached.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise FileRefused(_not_a_spreadsheet()) from None
    try:
        sheets = {name.strip(): name for name in workbook.sheetnames}
        project_name = sheets.get(chinese(PROJECT_SHEET)) or workbook.sheetnames[0]
        projects = _read_sheet(workbook, archive, project_name, chinese(PROJECT_SHEET), MAX_ROWS)
        lecturers = None
        if (lecturer_name := sheets.get(chinese(LECTURER_SHEET))) is not None:
            lecturers = _read_sheet(
                workbook, archive, lecturer_name, chinese(LECTURER_SHEET), MAX_LECTURER_ROWS
            )
        return Upload(projects, lecturers)
    finally:
        workbook.close()


def _read_sheet(workbook, archive, name: str, title: str, limit: int) -> Table:
    sheet = workbook[name]
    _refuse_merged_header(archive, sheet, title)
    table = None
    for row in sheet.iter_rows():
        cells = [c for c in row if getattr(c, "value", None) is not None]
        for cell in cells:
            if cell.data_type == "f":
                raise FileRefused(
                    _l(
                        "Sheet %(sheet)s, cell %(cell)s holds a formula (%(formula)s):"
                        " enter the value itself (copy the cells, then paste as values).",
                        sheet=title,
                        cell=cell.coordinate,
                        formula=str(cell.value)[:40],
                    )
                )
        if table is None:
            if not cells:
                continue  # blank lines above the header
            table = Table(title, [cell_text(getattr(c, "value", None)) for c in row])
            continue
        texts = [cell_text(getattr(c, "value", None)) for c in row]
        if any(texts):
            _add_row(table, cells[0].row, texts, limit)
    if table is None:
        raise FileRefused(_l("Sheet %(sheet)s is empty.", sheet=title))
    return table


def _refuse_merged_header(archive, sheet, title: str) -> None:
    """A merged cell in the header row: its columns cannot be told apart.

    openpyxl's read-only sheets do not read merges, so the sheet's part is scanned
    for ``mergeCell`` elements with the standard library's XML parser
    (``_worksheet_path`` is openpyxl's, read-only mode's part name)."""
    path = getattr(sheet, "_worksheet_path", None)
    if path is None:
        return
    with archive.open(path) as source:
        for _, element in iterparse(source):
            if element.tag.endswith("}mergeCell"):
                min_col, min_row, max_col, _max_row = range_boundaries(element.get("ref"))
                if min_row == 1:
                    raise FileRefused(
                        _l(
                            "Sheet %(sheet)s: the header cells %(cells)s are merged:"
                            " unmerge them so that each column has its own header.",
                            sheet=title,
                            cells=f"{get_column_letter(min_col)}1:{get_column_letter(max_col)}1",
                        )
                    )
            elif element.tag.endswith("}row"):
                element.clear()  # the rows are read by openpyxl; keep memory flat


def _add_row(table: Table, row_no: int, texts: list[str], limit: int = MAX_ROWS) -> None:
    if texts and texts[0] == chinese(EXAMPLE):
        return  # the template's example row (序号 is its first column): not counted
    if len(table.rows) >= limit:
        raise FileRefused(
            _l(
                "Sheet %(sheet)s has more than %(count)s rows: split the file into several files.",
                sheet=table.sheet,
                count=limit,
            )
        )
    table.rows.append((row_no, texts))


# -- CSV ----------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), else GB18030 (what Chinese
    Excel saves as "CSV"); bytes that are neither are not a CSV."""
    if b"\x00" in data:
        raise FileRefused(_not_a_spreadsheet())
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(_not_a_spreadsheet())


def _read_csv(data: bytes) -> Table:
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    table = None
    try:
        for row_no, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
            texts = [cell.strip() for cell in row]
            if table is None:
                if any(texts):
                    table = Table(chinese(PROJECT_SHEET), texts)
                continue
            if any(texts):
                _add_row(table, row_no, texts)
    except csv.Error:
        raise FileRefused(_not_a_spreadsheet()) from None
    if table is None:
        raise FileRefused(_l("The file is empty."))
    return table
