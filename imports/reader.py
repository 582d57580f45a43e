"""Read an uploaded file into rows of cell texts, or refuse it with a Chinese reason.

What a file is comes from its bytes: an XLSX is a zip holding ``xl/workbook.xml``;
an OLE2 compound file is an encrypted workbook (or an old .xls); anything else must
decode as text, and read as rows of at least two cells, to be a CSV. Its name may
only refuse it: a name ending in another type (``.pdf``, ``.docx``, ``.txt``) is no
workbook, whatever its bytes happen to decode as. A workbook's parts are checked
first (``imports.archive``: real unpacked size, no DTD, each sheet read within bounds),
then read by python-calamine (Rust; about twenty times faster than openpyxl on 5,000
rows), values only; a formula is refused, never evaluated, and openpyxl (read-only) names
its cell. Whatever a parser fails on is "not a spreadsheet". Nothing here touches the
database, nor needs a request: the panel runs ``read`` in a child process
(``imports.isolation``), so the texts that depend on the language come in ``Titles``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter
from python_calamine import CalamineWorkbook

from imports.archive import ROW_MARGIN, Archive, Bound, FileRefused, not_a_spreadsheet
from imports.columns import EXAMPLE, LECTURER_SHEET, PROJECT_SHEET, cell_text
from models.vocabulary import chinese

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_ROWS = 5_000
# Lecturer rows: several per project.
MAX_LECTURER_ROWS = 10 * MAX_ROWS
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# The endings of a file name the import reads (an .xls or .xlsm gets its own reason
# from its bytes); a name with none is judged by its bytes alone.
SPREADSHEET_ENDINGS = frozenset({"xlsx", "xlsm", "xls", "csv"})
# How a text that is no CSV begins: markup (HTML, XML, SVG), a PDF, RTF, JSON.
NOT_CSV_STARTS = ("<", "%PDF", "{\\rtf", "{", "[")


@dataclass
class Table:
    """One sheet: its header texts and its non-blank rows, each with its row number
    in the sheet (as the user sees it in Excel)."""

    sheet: str
    headers: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


@dataclass
class Upload:
    """The file's main sheet (the projects, the roster) and, for a workbook, its second
    sheet when the import has one (the projects' lecturers)."""

    main: Table
    second: Table | None


@dataclass(frozen=True)
class Titles:
    """The Chinese texts the reader looks for: the main sheet's name, the second sheet's
    (None for an import of one sheet) and the word in the first column that marks the
    template's example row."""

    main: str
    second: str | None
    example: str
    # A CSV whose first row has fewer cells is text (a letter, a list), no table: the
    # imports' templates have many columns; the public bulk verification takes one.
    min_columns: int = 2


def titles() -> Titles:
    """The project import's texts, rendered now (it needs the app's translations)."""
    return Titles(chinese(PROJECT_SHEET), chinese(LECTURER_SHEET), chinese(EXAMPLE))


def read(filename: str, data: bytes, words: Titles | None = None) -> Upload:
    """The file's main sheet (and second sheet, for a workbook): the project import's
    unless ``words`` names others."""
    words = words or titles()
    if not named_as_spreadsheet(filename):
        raise FileRefused(not_a_spreadsheet())
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
        return _read_xlsx(data, words)
    return Upload(_read_csv(data, words), None)


def named_as_spreadsheet(filename: str | None) -> bool:
    """Whether the file's name ends in a type the import reads, or in none."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    stem, dot, ending = name.rpartition(".")
    return not (dot and stem) or ending.lower() in SPREADSHEET_ENDINGS


def too_large():
    return _l(
        "The file is larger than %(size)s MB: split it into several files.",
        size=MAX_UPLOAD_BYTES // (1024 * 1024),
    )


# -- XLSX ---------------------------------------------------------------------


def _read_xlsx(data: bytes, words: Titles) -> Upload:
    archive = Archive(data)
    if not archive.sheets:
        raise FileRefused(not_a_spreadsheet())
    wanted = _wanted_sheets(archive, words)
    bounds = _sheet_bounds(archive, wanted)
    sheets = {name: title for title, ((name, _), _) in wanted.items()}
    try:
        if archive.check(bounds):
            _refuse_formulas(data, sheets)
        with CalamineWorkbook.from_filelike(io.BytesIO(data)) as workbook:
            tables = {
                title: _read_sheet(workbook.get_sheet_by_name(name), title, limit, words)
                for title, ((name, _), limit) in wanted.items()
            }
    except (FileRefused, MemoryError):  # out of memory: the child's limit, not the file's fault
        raise
    except Exception:  # calamine and openpyxl raise many kinds (zip, XML, …) for a damaged file
        raise FileRefused(not_a_spreadsheet()) from None
    return Upload(tables[words.main], tables.get(words.second))


def _wanted_sheets(archive: Archive, words: Titles) -> dict:
    """The sheets read, by the title shown: (name, part) and row limit of the main
    sheet (by its title, else the first) and of the second one, if the file has it."""
    names = {name.strip(): (name, part) for name, part in archive.sheets}
    wanted = {words.main: (names.get(words.main) or archive.sheets[0], MAX_ROWS)}
    if words.second and (second := names.get(words.second)) is not None:
        wanted[words.second] = (second, MAX_LECTURER_ROWS)
    return wanted


def _sheet_bounds(archive: Archive, wanted: dict) -> dict:
    """Each wanted sheet's part and the rows it may hold (``Archive.check``); a sheet
    whose part the archive lacks refuses the file."""
    parts = set(archive.zip.namelist())
    bounds = {}
    for title, ((_name, part), limit) in wanted.items():
        if part not in parts:  # calamine would look for it elsewhere, unchecked
            raise FileRefused(not_a_spreadsheet())
        bounds[part] = Bound(title, limit + ROW_MARGIN)
    return bounds


def _refuse_formulas(data: bytes, sheets: dict[str, str]) -> None:
    """A formula in a sheet we read is refused, never evaluated (calamine would give
    the value Excel last cached). Only when some worksheet part has one (``<f>``) is the
    workbook opened with openpyxl, which names the cell (``sheets``: the workbook's sheet
    name → the name shown)."""
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        for name, title in sheets.items():
            for row in workbook[name].iter_rows():
                for cell in row:
                    if getattr(cell, "data_type", None) == "f":
                        raise FileRefused(
                            _l(
                                "Sheet %(sheet)s, cell %(cell)s holds a formula (%(formula)s):"
                                " enter the value itself (copy the cells, then paste as values).",
                                sheet=title,
                                cell=cell.coordinate,
                                formula=str(cell.value)[:40],
                            )
                        )
    finally:
        workbook.close()


def _read_sheet(sheet, title: str, limit: int, words: Titles) -> Table:
    """The sheet's rows as texts, numbered as in Excel; a merged header cell is refused."""
    _refuse_merged_header(sheet, title)
    table = None
    # From A1 (no empty area skipped), so that list positions are Excel's row numbers.
    for row_no, row in enumerate(sheet.to_python(skip_empty_area=False), start=1):
        texts = [cell_text(value) for value in row]
        if table is None:
            if any(texts):
                table = Table(title, texts)
            continue
        # The template's example row (序号, its first column, says 示例) is not counted.
        if any(texts) and texts[0] != words.example:
            _add_row(table, row_no, texts, limit)
    if table is None:
        raise FileRefused(_l("Sheet %(sheet)s is empty.", sheet=title))
    return table


def _refuse_merged_header(sheet, title: str) -> None:
    """A merged cell in the header row refuses the file (a column without its header)."""
    for (first_row, first_col), (_last_row, last_col) in sheet.merged_cell_ranges or ():
        if first_row == 0:
            raise FileRefused(
                _l(
                    "Sheet %(sheet)s: the header cells %(cells)s are merged:"
                    " unmerge them so that each column has its own header.",
                    sheet=title,
                    cells=f"{get_column_letter(first_col + 1)}1:{get_column_letter(last_col + 1)}1",
                )
            )


def _add_row(table: Table, row_no: int, texts: list[str], limit: int = MAX_ROWS) -> None:
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
        raise FileRefused(not_a_spreadsheet())
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(not_a_spreadsheet())


def _dialect(text: str):
    """The CSV's dialect as its start shows it (comma, tab or semicolon), else Excel's."""
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        return csv.excel


def _csv_header(texts: list[str], words: Titles) -> Table | None:
    """The table a CSV's first non-blank line heads; None for a blank line. Too few
    cells (one a line: a letter, a list) are no table of columns."""
    if len(texts) < words.min_columns and any(texts):
        raise FileRefused(not_a_spreadsheet())
    return Table(words.main, texts) if any(texts) else None


def _read_csv(data: bytes, words: Titles) -> Table:
    text = _decode(data)
    if text.lstrip().startswith(NOT_CSV_STARTS):
        raise FileRefused(not_a_spreadsheet())
    dialect = _dialect(text)
    table = None
    try:
        for row_no, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
            texts = [cell.strip() for cell in row]
            if table is None:
                table = _csv_header(texts, words)
                continue
            if any(texts):
                _add_row(table, row_no, texts)
    except csv.Error:
        raise FileRefused(not_a_spreadsheet()) from None
    if table is None:
        raise FileRefused(_l("The file is empty."))
    return table
