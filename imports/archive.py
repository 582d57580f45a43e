"""An uploaded workbook as a zip archive, its parts checked before any parser reads them.

python-calamine (Rust) and openpyxl trust what a file says about itself; here nothing
is trusted. Every part is unpacked once, in bounded chunks, counting the bytes it really
holds (the sizes a zip directory announces can lie: a 1 MB file announcing small parts
unpacked to 2 GB inside calamine); a part that declares a DTD (``<!DOCTYPE``) is refused
whatever it declares; and the sheets the import reads are bounded before they are
loaded: calamine allocates every cell of a sheet's extent at once, so one cell at XFD1048576
asks for 512 GiB and the Rust allocator aborts the whole process.
"""

from __future__ import annotations

import copy
import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from xml.parsers import expat

from flask_babel import lazy_gettext as _l
from openpyxl.utils.cell import column_index_from_string, get_column_letter

# The bytes all parts of a workbook may unpack to, counted as they are unpacked: a 10 MB
# file of compressed zeros can unpack to gigabytes.
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
# Unpacked this many bytes at a time.
CHUNK_BYTES = 1024 * 1024
# A sheet may reach this many rows beyond its row limit (headers, the example row and
# blank rows between the data), and this many columns (the template has about 25).
ROW_MARGIN = 1_000
MAX_COLUMNS = 200
MACRO_PARTS = ("xl/vbaProject.bin",)
WORKBOOK_PART = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
WORKSHEETS = "xl/worksheets/"
# A DTD in any part, in UTF-8 or UTF-16, upper or lower case (``<!`` appears in markup
# only: a cell's ``<`` is written ``&lt;``).
DOCTYPES = tuple("<!doctype".encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be"))
OVERLAP = max(len(marker) for marker in DOCTYPES)
RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# A sheet part in the plain form Excel, WPS, LibreOffice and openpyxl write: every cell
# ``<c r="B7"``, every row ``<row r="7"``, no namespace prefix on either. Each expression
# starts with a literal, which Python's engine searches for quickly (5 MB: a few ms each,
# against 100 ms for one expression over every tag).
PLAIN_CELLS = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"')
LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = b"0123456789"
PLAIN_ROWS = re.compile(rb'<row r="([0-9]{1,7})"')
DIMENSION = re.compile(rb'<dimension ref="([A-Z0-9:$]{0,40})"')
# A cell, a row or a dimension in another form: the part is read with an XML parser.
NOT_PLAIN = tuple(
    re.compile(pattern)
    for pattern in (
        rb'<c(?:[\t\n\r/>]| (?!r="[A-Z]{1,3}[0-9]{1,7}"))',
        rb'<row(?:[\t\n\r/>]| (?!r="[0-9]{1,7}"))',
        rb'<dimension(?:[\t\n\r/>]| (?!ref="[A-Z0-9:$]{0,40}"))',
        rb":(?:c|row|dimension)[\s/>]",
    )
)
# A formula element (``<f>``, ``<f t="shared" …>``, ``<x:f>``); not ``<formula1>`` of a
# drop-down, nor ``<filterColumn>``.
FORMULAS = (re.compile(rb"<f[\s/>]"), re.compile(rb":f[\s/>]"))
CELL_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


class FileRefused(Exception):
    """The file as a whole cannot be imported; ``message`` says why, in the user's words."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


def not_a_spreadsheet():
    """The file is no workbook and no CSV (by its name or its bytes): said as such,
    not as the template's columns it lacks."""
    return _l(
        "The file chosen is not an Excel workbook (.xlsx) or a CSV file: download the"
        " template, fill it in and upload it again."
    )


def unpacks_too_large():
    return _l(
        "The workbook unpacks to more than %(size)s MB: split it into several files.",
        size=MAX_UNCOMPRESSED_BYTES // (1024 * 1024),
    )


@dataclass(frozen=True)
class Bound:
    """How far a sheet read by the import may reach; ``title`` names it to the user."""

    title: str
    rows: int
    columns: int = MAX_COLUMNS


@dataclass
class Extent:
    rows: int = 0
    columns: int = 0
    formula: bool = False


class Archive:
    """The zip, refused unless it is a workbook without macros whose parts unpack to a
    bounded size; ``sheets`` lists its sheets as (name, part) in the workbook's order."""

    def __init__(self, data: bytes) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            entries = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, EOFError):
            raise FileRefused(not_a_spreadsheet()) from None
        names = [entry.filename for entry in entries]
        # Two parts of one name: which one a reader takes is its own choice.
        if WORKBOOK_PART not in names or len(set(names)) != len(names):
            raise FileRefused(not_a_spreadsheet())
        if any(part in names for part in MACRO_PARTS):
            raise FileRefused(
                _l(
                    "The workbook contains macros: save it as an Excel workbook (.xlsx)"
                    " without macros and upload it again."
                )
            )
        # The announced sizes first (cheap), then the real ones as each part is read.
        if sum(entry.file_size for entry in entries) > MAX_UNCOMPRESSED_BYTES:
            raise FileRefused(unpacks_too_large())
        self._left = MAX_UNCOMPRESSED_BYTES
        self._read = {WORKBOOK_PART: self.read(WORKBOOK_PART)}
        if WORKBOOK_RELS in names:
            self._read[WORKBOOK_RELS] = self.read(WORKBOOK_RELS)
        self.sheets = _sheets(self._read[WORKBOOK_PART], self._read.get(WORKBOOK_RELS, b""))

    def read(self, name: str) -> bytes:
        return b"".join(self._chunks(self.zip.getinfo(name)))

    def check(self, bounds: dict[str, Bound]) -> bool:
        """Unpack every part not read yet, counting its real bytes and refusing a DTD; a
        sheet part of ``bounds`` (part → its bound) is refused when it reaches too far.
        True when some worksheet part holds a formula."""
        formula = False
        for info in self.zip.infolist():
            if info.filename in self._read:
                continue
            bound = bounds.get(info.filename)
            if bound is None and not info.filename.startswith(WORKSHEETS):
                for _ in self._chunks(info):
                    pass
                continue
            extent = sheet_extent(b"".join(self._chunks(info)))
            formula = formula or extent.formula
            if bound is not None:
                _refuse_beyond(extent, bound)
        return formula

    def _chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The part's bytes as unpacked, whatever its directory entry announces: read up
        to one byte past what the whole workbook may still unpack to, then compared with
        the announced size (a part that unpacks to another size is damaged or forged)."""
        probe = copy.copy(info)
        probe.file_size = self._left + 1
        total = 0
        tail = b""
        try:
            with self.zip.open(probe) as stream:
                while chunk := stream.read(min(CHUNK_BYTES, self._left + 1 - total)):
                    total += len(chunk)
                    if total > self._left:
                        raise FileRefused(unpacks_too_large())
                    _refuse_doctype(tail + chunk)
                    tail = chunk[-OVERLAP:]
                    yield chunk
        except (FileRefused, MemoryError):
            raise
        except zipfile.BadZipFile:
            # The check sum fails when the read stopped at the budget, inside the part.
            raise FileRefused(
                unpacks_too_large() if total + CHUNK_BYTES > self._left else not_a_spreadsheet()
            ) from None
        except Exception:  # damaged or unsupported compression, encryption: zlib, lzma, …
            raise FileRefused(not_a_spreadsheet()) from None
        if total != info.file_size:
            raise FileRefused(not_a_spreadsheet())
        self._left -= total


def _refuse_doctype(data: bytes) -> None:
    lowered = data.lower()
    if any(marker in lowered for marker in DOCTYPES):
        raise FileRefused(not_a_spreadsheet())


def _parser(start) -> expat.XMLParserType:
    """An expat parser calling ``start(local name, attributes)``; a DTD is refused."""

    def refuse(*_args):
        raise FileRefused(not_a_spreadsheet())

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    return parser


def _parse(data: bytes, start) -> None:
    try:
        _parser(start).Parse(data, True)
    except expat.ExpatError:
        raise FileRefused(not_a_spreadsheet()) from None


def _sheets(workbook: bytes, rels: bytes) -> list[tuple[str, str]]:
    """(name, part) of each sheet, in the workbook's order; the part as calamine and
    openpyxl find it, through the workbook's relationships."""
    sheets: list[tuple[str, str]] = []
    targets: dict[str, str] = {}

    def sheet(name, attributes):
        if name.endswith(" sheet") or name == "sheet":
            sheets.append(
                (attributes.get("name", ""), attributes.get(f"{RELATIONSHIPS_NS} id", ""))
            )

    def relationship(name, attributes):
        if name.endswith(" Relationship") or name == "Relationship":
            targets[attributes.get("Id", "")] = attributes.get("Target", "")

    _parse(workbook, sheet)
    _parse(rels, relationship)
    return [(name, _part(targets.get(key, ""))) for name, key in sheets]


def _part(target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join("xl", target)) if target else ""


def sheet_extent(data: bytes) -> Extent:
    """The last row and column a sheet part reaches (its cells, its rows, its declared
    dimension) and whether it holds a formula: read from Excel's plain form with a few
    regular expressions; any other form is read with the XML parser."""
    if b"\x00" in data or any(pattern.search(data) for pattern in NOT_PLAIN):
        return _exact_extent(data)  # UTF-16, prefixes, cells without a plain reference, …
    extent = Extent(formula=any(pattern.search(data) for pattern in FORMULAS))
    # The references' letters and digits apart, with bytes operations (a loop over 100,000
    # references in Python, or unzipping them, took longer than finding them).
    references = b" ".join(PLAIN_CELLS.findall(data))
    if references:
        letters = set(references.translate(None, DIGITS).split())
        extent.columns = column_index_from_string(max(letters, key=lambda c: (len(c), c)).decode())
        extent.rows = max(map(int, set(references.translate(None, LETTERS).split())))
    extent.rows = max([extent.rows, *map(int, set(PLAIN_ROWS.findall(data)))])
    for dimension in set(DIMENSION.findall(data)):
        _widen(extent, dimension.decode())
    return extent


def _widen(extent: Extent, reference: str) -> None:
    """Take in a dimension such as ``A1:XFD1048576`` (one that cannot be read is left out,
    as calamine leaves it)."""
    for match in CELL_REFERENCE.finditer(reference):
        column, row = match.groups()
        try:
            extent.columns = max(extent.columns, column_index_from_string(column.upper()))
        except ValueError:
            continue
        extent.rows = max(extent.rows, int(row))


def _exact_extent(data: bytes) -> Extent:
    """The extent as an XML parser reads it: references with entities or in another
    encoding, cells and rows without a reference (placed after the previous one)."""
    extent = Extent()
    position = {"row": 0, "column": 0}

    def start(name, attributes):
        local = name.rpartition(" ")[2].rpartition(":")[2]
        if local == "row":
            position["row"] = _number(attributes.get("r"), position["row"] + 1)
            position["column"] = 0
        elif local == "c":
            reference = attributes.get("r")
            match = CELL_REFERENCE.fullmatch(reference or "")
            if reference is not None and match is None:
                raise FileRefused(not_a_spreadsheet())
            if match:
                position["column"] = column_index_from_string(match.group(1).upper())
                position["row"] = int(match.group(2))
            else:
                position["column"] += 1
        elif local == "dimension":
            _widen(extent, attributes.get("ref", ""))
        elif local == "f":
            extent.formula = True
        extent.rows = max(extent.rows, position["row"])
        extent.columns = max(extent.columns, position["column"])

    _parse(data, start)
    return extent


def _number(text, default: int) -> int:
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or len(text) > 7:
        raise FileRefused(not_a_spreadsheet())
    return int(text)


def _refuse_beyond(extent: Extent, bound: Bound) -> None:
    if extent.columns > bound.columns:
        raise FileRefused(
            _l(
                "Sheet %(sheet)s has cells as far right as column %(column)s; a sheet may"
                " use at most %(count)s columns: delete the columns to the right of your"
                " data (even those that look empty) and upload the file again.",
                sheet=bound.title,
                column=get_column_letter(min(extent.columns, 18_278)),
                count=bound.columns,
            )
        )
    if extent.rows > bound.rows:
        raise FileRefused(
            _l(
                "Sheet %(sheet)s has cells as far down as row %(row)s; a sheet may use at"
                " most %(count)s rows: delete the rows below your data (even those that"
                " look empty), or split the file into several files, and upload it again.",
                sheet=bound.title,
                row=extent.rows,
                count=bound.rows,
            )
        )
