"""Streaming CSV and XLSX downloads, shared by the public catalog and the admin panel.

Both writers take ``rows`` as any iterable of sequences, consumed lazily. A download of
database rows should take them from ``batched_rows``: the ids are read in the view, the rows a
batch at a time, each batch in a short transaction of its own, so that no connection waits
on a slow or vanished client::

    ids = list(db.session.scalars(stmt.with_only_columns(Project.id)))
    db.session.rollback()  # the request's own transaction ends before the download
    rows = exports.batched_rows(
        db.engine,
        ids,
        lambda session, chunk: session.scalars(select(Project).where(Project.id.in_(chunk))),
        lambda projects: [(p.project_no, p.name, p.credits) for p in projects],
    )
    return exports.csv_response("已公布项目.csv", ["项目编号", "项目名称", "学分"], rows)

Cell values are converted the same way in both formats (see ``plain_value``): numbers stay
numbers, dates stay dates, times (stored as naive UTC) are written in Beijing time, ``None``
is an empty cell, anything else becomes text, which a spreadsheet must never evaluate as a
formula. A CSV file has no types: text that starts like a formula (``=``, ``+``, ``-``,
``@``) gets a leading ``'`` there (``cell_value``, OWASP's advice for CSV). An XLSX cell of
text is a string cell, which Excel shows and keeps as text as it is: its text is written
unchanged, with no visible ``'`` (``=1+2`` reads ``=1+2``, not ``'=1+2``).

An XLSX file opens ready to read in Excel: a named sheet, a bold header row that stays in
view while scrolling, and columns wide enough for Chinese text. File names carry the day of
the export (``dated_filename``), so repeated downloads do not overwrite one another.

``max_rows`` bounds the number of data rows written. Left as ``None`` it is taken from the
application's ``EXPORT_MAX_ROWS`` setting when there is one; pass ``0`` for no bound. Rows past
the bound are not read from the iterator at all: a caller that must tell the user about
truncation counts first (the public catalog does, and refuses exports over the bound).
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import json
import logging
import operator
import os
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, current_app, has_app_context, stream_with_context
from sqlalchemy import ARRAY, ColumnElement, Integer, Row, Select, any_, bindparam, func, select
from sqlalchemy import column as sql_column
from sqlalchemy.orm import Session
from werkzeug.wsgi import FileWrapper

__all__ = [
    "CSV_MIMETYPE",
    "XLSX_MIMETYPE",
    "batched_rows",
    "cell_value",
    "content_disposition",
    "csv_response",
    "dated_filename",
    "neutralise",
    "plain_value",
    "remove_leftover_workdirs",
    "row_limit",
    "rows_by_ids",
    "text_cells",
    "too_many_rows_message",
    "write_csv",
    "write_xlsx",
    "xlsx_response",
]

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Characters with which Excel, LibreOffice and Google Sheets start a formula or a DDE
# call; a leading tab or carriage return can hide one of them (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Control characters that XML 1.0 (and so an .xlsx file) cannot hold at all.
ILLEGAL_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# How many CSV rows are buffered into one chunk of the streamed body: one write per row
# would make the WSGI server flush tiny pieces.
CSV_ROWS_PER_CHUNK = 500
FILE_CHUNK_SIZE = 64 * 1024
# Rows converted together, a column at a time, before they go to the XLSX writer.
XLSX_ROWS_PER_BATCH = 500
# The most characters Excel keeps in a cell: longer text is cut (the writer would refuse
# it and fail the whole export).
EXCEL_MAX_TEXT = 32_767
# The users' time zone: times are stored as naive UTC and shown in Beijing time.
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
# Column widths are estimated from the header and the first rows: the file is written as
# the rows arrive, and widths must be set before the first row is written.
WIDTH_SAMPLE_ROWS = 200
MIN_COLUMN_WIDTH, MAX_COLUMN_WIDTH = 6, 60
# Characters Excel does not allow in a sheet's name; a name holds at most 31 characters.
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# Rows read per short transaction by ``batched_rows``.
EXPORT_BATCH_ROWS = 2000
# Each XLSX export writes its sheet in a directory of its own, named with this prefix and
# the worker's process id, so that one left by a killed worker can be told from one in use.
WORKDIR_PREFIX = "cme-export-"
# A work directory older than this is a leftover even if its process id is in use again.
WORKDIR_MAX_AGE_SECONDS = 3600

log = logging.getLogger(__name__)


def local_time(value: datetime) -> datetime:
    """A stored time (naive UTC, or aware) as naive Beijing time: a spreadsheet cell has no
    time zone, and its reader expects the clock on the wall."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL_ZONE).replace(tzinfo=None)


def dated_filename(stem: str, extension: str, today: date | None = None) -> str:
    """``项目_2026-11-30.xlsx``: the stem, the day of the export in Beijing, the extension."""
    day = today or datetime.now(LOCAL_ZONE).date()
    return f"{stem}_{day.isoformat()}.{extension}"


def neutralise(value: Any) -> Any:
    """Return ``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    Only strings are touched: a number such as ``-5`` stays a number (callers keep numbers
    numeric), while the text ``"-5"`` or ``"=HYPERLINK(...)"`` becomes ``"'-5"`` and
    ``"'=HYPERLINK(...)"``, which spreadsheets display as plain text.
    """
    # Spreadsheets skip leading blanks and line breaks before reading "=" (" =1+1",
    # "\n=cmd|..."): the first visible character decides too.
    if isinstance(value, str) and (
        value.startswith(FORMULA_PREFIXES) or value.lstrip().startswith(FORMULA_PREFIXES[:4])
    ):
        return "'" + value
    return value


def cell_value(value: Any) -> Any:
    """Normalise one value for a CSV cell: ``plain_value``, its text neutralised."""
    value = plain_value(value)
    return neutralise(value) if isinstance(value, str) else value


def plain_value(value: Any) -> Any:
    """Normalise one value for a spreadsheet cell.

    ``None`` → ``None`` (empty); ``bool``, ``int``, ``float`` stay; ``Decimal`` → ``float``;
    ``date`` stays; ``datetime`` becomes Beijing time (``local_time``); everything else
    (including lazy translated strings and enums) becomes text, as it is: an XLSX writer
    stores it as a string cell (see ``text_cells`` for openpyxl), a CSV one neutralises it
    (``cell_value``).
    """
    if isinstance(value, datetime):
        return local_time(value)
    if value is None or isinstance(value, bool | int | float | date):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def text_cells(cells: Iterable[Any]) -> None:
    """Make openpyxl cells holding text string cells: openpyxl takes a text that starts
    with ``=`` for a formula, which Excel would run. A string cell shows the text as it is,
    with no ``'`` in front."""
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A ``Content-Disposition`` value that keeps a non-ASCII (Chinese) file name.

    RFC 6266 / RFC 5987: ``filename="..."`` carries an ASCII fallback for old clients, and
    ``filename*=UTF-8''...`` the percent-encoded real name, which every current browser uses.
    """
    fallback = _ascii_fallback(filename)
    encoded = quote(filename, safe="")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def _ascii_fallback(filename: str) -> str:
    """An ASCII-only, quote-safe version of ``filename`` that keeps its extension."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    decomposed = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    safe_stem = re.sub(r"[^A-Za-z0-9._-]+", "_", decomposed).strip("._") or "export"
    safe_ext = re.sub(r"[^A-Za-z0-9]+", "", ext)
    return f"{safe_stem}.{safe_ext}" if safe_ext else safe_stem


def _bounded(rows: Iterable[Sequence[Any]], max_rows: int | None) -> Iterator[Sequence[Any]]:
    """``rows`` cut at ``max_rows`` (``None``: the app's EXPORT_MAX_ROWS; ``0``: unbounded)."""
    if max_rows is None and has_app_context():
        max_rows = current_app.config.get("EXPORT_MAX_ROWS")
    iterator = iter(rows)
    return itertools.islice(iterator, max_rows) if max_rows else iterator


def _download_headers(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": content_disposition(filename),
        # A download of live data: never reuse a stored copy without asking.
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def _csv_text(value: Any) -> Any:
    """CSV has no types: render dates as ISO text, keep numbers as their plain digits."""
    value = cell_value(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _neutral_text(value: str) -> str:
    """``neutralise`` for a plain ``str`` (the common cell), without its type checks."""
    if value and (
        value[0] in FORMULA_PREFIXES
        or (value[0].isspace() and value.lstrip()[:1] in FORMULA_PREFIXES[:4] and value.strip())
    ):
        return "'" + value
    return value


def _same(value: Any) -> Any:
    return value


# Beijing has kept UTC+8 without daylight saving since 1992: a time after that moves by
# a fixed offset, an older one through the zone database (``local_time``).
_FIXED_OFFSET_SINCE = datetime(1992, 1, 1)
_BEIJING_OFFSET = timedelta(hours=8)


def _csv_datetime(value: datetime) -> str:
    if value >= _FIXED_OFFSET_SINCE:
        return (value + _BEIJING_OFFSET).isoformat(sep=" ", timespec="minutes")
    return _csv_text(value)


def _csv_float(value: float) -> Any:
    return int(value) if value.is_integer() else value


# The converter of each common cell type, looked up by the value's exact type (an enum, a
# lazy string or any subclass takes the general path, ``_csv_text``): an export converts
# millions of cells, and one dictionary lookup is what ``_csv_text``'s chain of isinstance
# checks costs in a tenth of the time.
_CSV_BY_TYPE: dict[type, Callable[[Any], Any]] = {
    str: _neutral_text,
    int: _same,
    bool: _same,
    type(None): _same,
    float: _csv_float,
    date: date.isoformat,
    datetime: _csv_datetime,
}


# A text cell starting with none of these needs no look at all (``_neutral_text``): the
# formula characters and every character Python counts as white space.
_RISKY_FIRST = frozenset(FORMULA_PREFIXES) | {chr(c) for c in range(0x3001) if chr(c).isspace()}
# A column of text is joined with this separator (in C) and searched once for a cell that
# starts with a risky character (CSV) or for a character XML cannot hold (XLSX): a private
# use character, neither risky nor illegal in XML; one inside a cell can only cause a false
# alarm, which converts that column of that batch cell by cell.
_JOIN = "\ue000"
_RISKY_START = re.compile(
    re.escape(_JOIN) + "[" + "".join(re.escape(c) for c in sorted(_RISKY_FIRST)) + "]"
)
_NONE = type(None)
# Columns whose cells are all of these types are written as they are (csv writes None as "").
_AS_IS = frozenset({int, bool, _NONE})
_TEXT = frozenset({str, _NONE})


def _csv_column(column: Sequence[Any]) -> Sequence[Any]:
    """One column of a batch of rows, converted as ``_csv_text`` converts each cell.

    The set of the cells' exact types decides, once per column: numbers and empty cells pass
    untouched, text is searched in one pass for a risky first character, a column of one
    other type (dates, times, decimals) goes through that type's converter; anything mixed
    (an enum, a lazy string, a subclass) through ``_csv_text`` cell by cell.
    """
    kinds = set(map(type, column))
    if kinds <= _AS_IS:
        return column
    if kinds <= _TEXT:
        return _csv_text_column(column)
    return _csv_typed_column(column, kinds)


def _csv_text_column(column: Sequence[Any]) -> Sequence[Any]:
    """A column of text (and empty cells): searched in one pass for a risky first
    character, and passed untouched unless one has it."""
    # filter(None, …) drops None and "", neither of which needs a look.
    if _RISKY_START.search(_JOIN + _JOIN.join(filter(None, column))) is None:
        return column
    return [_neutral_text(v) if v else v for v in column]


def _csv_typed_column(column: Sequence[Any], kinds: set[type]) -> Sequence[Any]:
    """A column of other cells (``kinds``: their exact types): one type's converter for a
    column of one type, ``_csv_text`` cell by cell for a mixed one."""
    empty = _NONE in kinds
    kinds.discard(_NONE)
    if kinds == {datetime}:  # Beijing time (``_csv_datetime``): the costliest cells
        return _csv_times(column, empty)
    if kinds == {float}:
        return [None if v is None else int(v) if v.is_integer() else v for v in column]
    if len(kinds) == 1 and (convert := _CSV_BY_TYPE.get(kinds.pop())) is not None:
        return _csv_converted(column, convert, empty)
    by_type = _CSV_BY_TYPE
    return [by_type.get(type(v), _csv_text)(v) for v in column]


def _csv_converted(column: Sequence[Any], convert, empty: bool) -> list[Any]:
    """A column of one type through its converter, empty cells left empty."""
    if not empty:  # ``map`` calls a C converter (date.isoformat) without a Python loop
        return list(map(convert, column))
    return [None if v is None else convert(v) for v in column]


_MINUTES = operator.methodcaller("isoformat", " ", "minutes")
_SHIFT = functools.partial(operator.add, _BEIJING_OFFSET)  # 8 hours + value


def _csv_times(column: Sequence[Any], empty: bool) -> Sequence[Any]:
    """A column of stored times (and empty cells) as Beijing-time text, the same as
    ``_csv_datetime`` cell by cell. When every time is naive and after 1992 (the usual
    column: a minimum, in C, tells) they are shifted and written by ``map`` in C, with no
    Python step per cell; otherwise cell by cell."""
    times = list(filter(None, column)) if empty else column  # a datetime is never false
    try:
        # Naive and aware times cannot be compared: mixed or aware ones raise here.
        fixed = min(times) >= _FIXED_OFFSET_SINCE
    except TypeError:
        fixed = False
    if not fixed:
        return _csv_times_by_cell(column)
    texts = map(_MINUTES, map(_SHIFT, times))
    if not empty:
        return list(texts)
    return [None if v is None else next(texts) for v in column]


def _csv_times_by_cell(column: Sequence[Any]) -> list[Any]:
    """``_csv_times`` for a column of mixed, aware or old times: a cell at a time."""
    since, offset = _FIXED_OFFSET_SINCE, _BEIJING_OFFSET
    return [
        None
        if v is None
        else (v + offset).isoformat(" ", "minutes")
        if v.tzinfo is None and v >= since
        else _csv_text(v)
        for v in column
    ]


def _csv_batch(rows: Sequence[Sequence[Any]]) -> Iterable[Sequence[Any]]:
    """A batch of rows converted for ``csv.writer.writerows``, a column at a time: a few
    calls per column instead of several per cell (an export converts millions of cells)."""
    if not rows:
        return rows
    width = len(rows[0])
    if set(map(len, rows)) != {width}:  # ragged rows: cell by cell, as they are
        return [[_CSV_BY_TYPE.get(type(v), _csv_text)(v) for v in row] for row in rows]
    return zip(*map(_csv_column, zip(*rows, strict=True)), strict=True)


def _csv_row(row: Sequence[Any]) -> list[Any]:
    """One row converted as ``_csv_batch`` converts it."""
    return next(list(converted) for converted in _csv_batch([row]))


def _csv_chunks(headers: Sequence[Any], rows: Iterator[Sequence[Any]]) -> Iterator[bytes]:
    # The BOM makes Excel on a Chinese Windows machine read the file as UTF-8, not GBK.
    yield codecs.BOM_UTF8
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_text(h) for h in headers])
    rows = iter(rows)
    while batch := list(itertools.islice(rows, CSV_ROWS_PER_CHUNK)):
        writer.writerows(_csv_batch(batch))
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def write_csv(
    path: str,
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    max_rows: int | None = None,
) -> None:
    """The same CSV as ``csv_response``, written to the file ``path`` (a background export)."""
    with open(path, "wb") as out:
        for chunk in _csv_chunks(headers, _bounded(rows, max_rows)):
            out.write(chunk)


def write_xlsx(
    path: str,
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    filename: str,
    max_rows: int | None = None,
) -> None:
    """The same workbook as ``xlsx_response``, written to the file ``path``."""
    _write_xlsx(path, filename, headers, rows, max_rows, None)


def csv_response(
    filename: str,
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    max_rows: int | None = None,
) -> Response:
    """A streamed CSV download: UTF-8 BOM, a header row, then ``rows`` as they are read.

    The body is generated while it is sent (inside the request context, so a database
    session stays usable); memory stays flat whatever the number of rows. See the module
    docstring for cell conversion and ``max_rows``.
    """
    chunks = _csv_chunks(headers, _bounded(rows, max_rows))
    return Response(
        stream_with_context(chunks),
        content_type=CSV_MIMETYPE,
        headers=_download_headers(filename),
    )


def _xlsx_text(value: str) -> str:
    """Text for a cell (a string cell: never a formula, so not neutralised), without the
    characters XML cannot hold, cut to the most Excel keeps in a cell."""
    return ILLEGAL_XML_CHARS.sub("", value)[:EXCEL_MAX_TEXT]


def _local_times(column: Sequence[Any]) -> list[Any]:
    """Stored (naive UTC) times as Beijing wall-clock times, by the fixed offset where it
    holds (``_csv_datetime``), else through the zone database."""
    since, offset = _FIXED_OFFSET_SINCE, _BEIJING_OFFSET
    return [
        None if v is None else v + offset if v.tzinfo is None and v >= since else local_time(v)
        for v in column
    ]


def _xlsx_cell(value: Any, dated: bool) -> Any:
    """One cell of a column whose cells differ in type: the common conversion
    (``plain_value``: times in Beijing, enums and lazy strings as text), then
    made fit for its column. The writer formats a whole column as dates once it holds a
    date, so a ``dated`` column (see ``_write_xlsx``) holds dates and text only (a number
    in it is written as its digits) and any other column no dates (a date is written as
    its text, ``2026-11-30`` or ``2026-11-30 14:05``)."""
    value = plain_value(value)
    if isinstance(value, str):
        return _xlsx_text(value)
    if isinstance(value, datetime):
        return value if dated else value.isoformat(" ", "minutes")
    if isinstance(value, date):
        return value if dated else value.isoformat()
    if dated and value is not None:
        return str(_csv_float(value) if isinstance(value, float) else value)
    return value


def _sample_kinds(sample: Sequence[Sequence[Any]], width: int) -> list[set[type]]:
    """The types of each column's non-empty cells in the sample."""
    kinds: list[set[type]] = [set() for _ in range(width)]
    for row in sample:
        for kind, value in zip(kinds, row, strict=False):
            kind.add(type(value))
    for kind in kinds:
        kind.discard(_NONE)
    return kinds


# Cells of a column without dates written as they are: numbers as numbers.
_XLSX_AS_IS = frozenset({int, float, bool})


def _xlsx_column(column: Sequence[Any], dated: bool) -> Sequence[Any]:
    """One column of a batch of rows, converted as ``_xlsx_cell`` converts each cell,
    the choice made once per column as in ``_csv_column``."""
    kinds = set(map(type, column))
    kinds.discard(_NONE)
    if dated:
        if kinds <= {date}:
            return column
        if kinds == {datetime}:
            return _local_times(column)
    elif kinds <= _XLSX_AS_IS:
        return column
    elif kinds == {str}:
        return _xlsx_text_column(column)
    return [None if v is None else _xlsx_cell(v, dated) for v in column]


def _xlsx_text_column(column: Sequence[Any]) -> Sequence[Any]:
    """A column of text (and empty cells): passed untouched unless a cell holds a
    character XML cannot, or is longer than Excel keeps (one pass tells). Text that
    starts like a formula stays as it is: the writer stores text as string cells."""
    texts = list(filter(None, column))
    joined = _JOIN + _JOIN.join(texts)
    if ILLEGAL_XML_CHARS.search(joined) or (
        len(joined) > EXCEL_MAX_TEXT and max(map(len, texts)) > EXCEL_MAX_TEXT
    ):
        return [_xlsx_text(v) if v else v for v in column]
    return column


def _xlsx_records(
    keys: list[str], dated: list[bool], rows: Iterator[Sequence[Any]]
) -> Iterator[dict]:
    """The rows as the writer takes them (a dict per row, by header), converted a batch
    and a column at a time. A short row is padded with empty cells. Without rows, one
    empty row: the writer takes the header row from the first row's keys (an empty
    row writes nothing)."""
    width = len(keys)
    first = next(rows, None)
    if first is None:
        yield dict.fromkeys(keys)
        return
    rows = itertools.chain([first], rows)
    while batch := list(itertools.islice(rows, XLSX_ROWS_PER_BATCH)):
        if any(len(row) != width for row in batch):
            batch = [(*row, *([None] * (width - len(row))))[:width] for row in batch]
        columns = [
            _xlsx_column(column, flag)
            for column, flag in zip(zip(*batch, strict=True), dated, strict=True)
        ]
        yield from (dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True))


def _xlsx_keys(headers: Sequence[Any]) -> list[str]:
    """The header texts, each one different (the writer names a row's cells by them): a
    repeated header gets an invisible suffix."""
    keys: list[str] = []
    for header in headers:
        key = ILLEGAL_XML_CHARS.sub("", str(plain_value(header)))[:EXCEL_MAX_TEXT]
        while key in keys:
            key += "\u200b"  # a zero-width space: the same text on screen
        keys.append(key)
    return keys


def display_width(value: Any) -> int:
    """How many character cells ``value`` takes in a spreadsheet column: a Chinese (wide)
    character takes two, a Latin letter or digit one."""
    value = plain_value(value)
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = str(value)
    longest_line = max(text.splitlines() or [""], key=len)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in longest_line)


def _column_widths(headers: Sequence[Any], sample: Sequence[Sequence[Any]]) -> list[float]:
    widths = []
    for index, header in enumerate(headers):
        longest = max(
            [display_width(header)]
            + [display_width(row[index]) for row in sample if index < len(row)]
        )
        # Two extra for the cell's padding and the filter arrow Excel may draw.
        widths.append(min(max(longest + 2, MIN_COLUMN_WIDTH), MAX_COLUMN_WIDTH))
    return widths


def sheet_name_for(filename: str) -> str:
    """The sheet's name from the file's: ``项目审阅_2026-11-30.xlsx`` → ``项目审阅``."""
    stem = filename.rpartition(".")[0] or filename
    stem = re.sub(r"_\d{4}-\d{2}-\d{2}$", "", stem)
    return (SHEET_NAME_FORBIDDEN.sub("", stem).strip("' ") or "项目")[:31]


def row_limit(export_type: str) -> int:
    """The most rows an export of this type may hold (0: no bound).

    ``EXPORT_MAX_ROWS`` bounds every export; an XLSX file is also bounded by
    ``EXPORT_XLSX_MAX_ROWS``: it is built whole before its first byte is sent, so it must be
    finished well inside the worker's timeout (see docs/operations.md for the measurement).
    """
    if not has_app_context():
        return 0
    limits = [int(current_app.config.get("EXPORT_MAX_ROWS") or 0)]
    if export_type == "xlsx":
        limits.append(int(current_app.config.get("EXPORT_XLSX_MAX_ROWS") or 0))
    bounded = [limit for limit in limits if limit > 0]
    return min(bounded) if bounded else 0


def too_many_rows_message(export_type: str, count: int, limit: int) -> str:
    """Why an export of ``count`` rows is refused, in the user's language, and what to do."""
    from flask_babel import gettext

    if export_type == "xlsx" and count <= int(current_app.config.get("EXPORT_MAX_ROWS") or 0):
        return gettext(
            "The list has %(count)s rows, more than the %(limit)s an Excel (XLSX) export may"
            " hold. Export it as CSV (which Excel opens too), or narrow it with a filter first.",
            count=count,
            limit=limit,
        )
    return gettext(
        "The list has %(count)s rows, more than the %(limit)s an export may hold;"
        " narrow it with a filter first.",
        count=count,
        limit=limit,
    )


_ID = operator.attrgetter("id")


def batched_rows(
    bind,
    ids: Iterable[int],
    load: Callable[[Session, Sequence[int]], Iterable[Any]],
    convert: Callable[[Iterable[Any]], Iterable[Sequence[Any]]],
    *,
    batch: int | None = None,
) -> Iterator[Sequence[Any]]:
    """The rows of the objects with ``ids``, in that order, read ``batch`` ids at a time
    (default ``EXPORT_BATCH_ROWS``).

    Each batch is read in a session of its own, on a connection taken from the pool for
    that batch only, and the session is closed (its transaction ended, the connection given
    back) before the batch's rows are handed on. So a streamed download holds no transaction
    and no connection while it waits for its client: not after the last row, not when the
    client went away (the rows stop between batches: no batch is begun unread), and not while a
    client that stopped reading blocks the write. A download reading from one long cursor
    would hold its connection (and, on PostgreSQL, an open transaction with its locks) for
    as long as the client takes.

    ``load(session, chunk)`` returns the objects of a chunk of ids in any order; ids not
    found any more (deleted since the list was taken) are skipped. ``convert(objects)``
    turns them into rows while their session is still open, so lazy attributes load.
    """
    # A list, a compact ``array`` of ids (kept as it is: a list would take four times its
    # memory) or ids streamed from a cursor (never held whole); each chunk becomes a list
    # for the IN clause.
    # The rows are handed on from each batch's list (``chain``, in C), not one by one
    # through a generator: an export's millions of cells pass here.
    return itertools.chain.from_iterable(
        _batches(bind, iter(ids), load, convert, batch or EXPORT_BATCH_ROWS)
    )


def _batches(bind, ids: Iterator[int], load, convert, batch: int) -> Iterator[list[Any]]:
    """``batched_rows``' batches: a list of rows per short session."""
    while chunk := list(itertools.islice(ids, batch)):
        with Session(bind) as session:
            loaded = load(session, chunk)
            # ``all()`` fetches the batch in one call where the result has it (a Core
            # result, a Query); iterating would fetch row by row.
            objects = loaded.all() if hasattr(loaded, "all") else list(loaded)
            key = _ID
            if objects and isinstance(objects[0], Row):  # by position: 6× faster than by name
                key = operator.itemgetter(objects[0]._fields.index("id"))
            found = dict(zip(map(key, objects), objects, strict=True))
            if len(found) == len(chunk):
                ordered = map(found.__getitem__, chunk)
            else:  # some were deleted since the ids were read
                ordered = (found[key] for key in chunk if key in found)
            rows = list(convert(ordered))
        yield rows


def rows_by_ids(
    stmt: Select, column: ColumnElement[int]
) -> Callable[[Session, Sequence[int]], Any]:
    """``load(session, chunk)`` for ``batched_rows``: the Core rows of ``stmt`` whose
    ``column`` (the id, which ``stmt`` must select as ``id``) is in the chunk.

    The chunk is one bound parameter, not one per id: the SQL text is the same for every
    batch and nothing is expanded into thousands of placeholders. Reading the committee's
    10,000 published projects in batches of 2,000 took 0.11 s of CPU with SQLAlchemy's
    expanding IN and 0.09 s so on SQLite, 0.11 s and 0.07 s on PostgreSQL. SQLite reads
    the ids from a JSON array (``json_each``), PostgreSQL as an integer array (``= ANY``);
    another database gets the expanding IN."""
    ids = bindparam("export_ids")
    json_ids = select(sql_column("value")).select_from(func.json_each(ids))
    by_dialect = {
        "sqlite": (stmt.where(column.in_(json_ids)), json.dumps),
        "postgresql": (
            stmt.where(column == any_(bindparam("export_ids", type_=ARRAY(Integer)))),
            list,
        ),
    }
    fallback = (stmt.where(column.in_(bindparam("export_ids", expanding=True))), list)

    def load(session: Session, chunk: Sequence[int]):
        # On the session's connection: Core rows, without the ORM's result processing.
        connection = session.connection()
        batch, parameter = by_dialect.get(connection.dialect.name, fallback)
        return connection.execute(batch, {"export_ids": parameter(chunk)})

    return load


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftover_workdirs(directory: str | None = None) -> int:
    """Remove the XLSX work directories that a killed worker left behind; return how many.

    A directory is a leftover when the process named in it is gone, or when it is older
    than ``WORKDIR_MAX_AGE_SECONDS`` (no export lives that long; the process id may have
    been reused). Directories of live workers (an export in progress) are kept. Called at
    application start.
    """
    base = directory or tempfile.gettempdir()
    removed = 0
    try:
        entries = list(os.scandir(base))
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        if _is_leftover(entry, now):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
    if removed:
        log.info("removed %d leftover export work directories from %s", removed, base)
    return removed


def _is_leftover(entry: os.DirEntry, now: float) -> bool:
    """``entry`` is an export work directory whose worker is gone, or one too old to be
    in use; anything else (another program's file, one that vanished) is not."""
    if not entry.name.startswith(WORKDIR_PREFIX):
        return False
    try:
        if not entry.is_dir(follow_symlinks=False):
            return False
        age = now - entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return False
    pid_text = entry.name[len(WORKDIR_PREFIX) :].partition("-")[0]
    live = pid_text.isdigit() and _process_alive(int(pid_text))
    return not (live and age < WORKDIR_MAX_AGE_SECONDS)


def _write_xlsx(path: str, filename, headers, rows, max_rows, sheet_title) -> None:
    """Write the workbook to the file ``path`` with rustpy-xlsxwriter (Rust's
    rust_xlsxwriter, by XlsxWriter's author): it takes the rows as they come (memory
    stays flat: only the width sample is held) and writes them ~4× faster than XlsxWriter's
    per-cell Python calls did (bench/results/exports.md). Text is only ever text (no
    formulas, no links), numbers numbers, dates and (Beijing) times dates with their
    formats; the bold header row stays in view and has Excel's filter buttons. The writer
    stores every ``str`` as an inline string cell, never as a formula, whatever its first
    character, so text is written as it is (``_xlsx_text``)."""
    import rustpy_xlsxwriter

    iterator = iter(_bounded(rows, max_rows))
    sample = list(itertools.islice(iterator, WIDTH_SAMPLE_ROWS))
    keys = _xlsx_keys(headers)
    kinds = _sample_kinds(sample, len(keys))
    # The columns that hold dates: those whose sampled cells are days or times, and those
    # the sample leaves empty (a list of projects not yet published starts with empty
    # 公布时间). A column of days is shown as a day; times as day and minute.
    dated = [kind <= {date, datetime} for kind in kinds]
    day = rustpy_xlsxwriter.Format().set_num_format("yyyy-mm-dd")
    formats = {key: day for key, kind in zip(keys, kinds, strict=True) if kind == {date}}
    rustpy_xlsxwriter.write_worksheet(
        _xlsx_records(keys, dated, itertools.chain(sample, iterator)),
        path,
        sheet_name=sheet_title or sheet_name_for(filename),
        freeze_row=1,
        bold_headers=True,
        autofilter=True,
        column_widths=_column_widths(headers, sample),
        column_formats=formats,
        datetime_format="yyyy-mm-dd hh:mm",
    )


def xlsx_response(
    filename: str,
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    max_rows: int | None = None,
    sheet_title: str | None = None,
) -> Response:
    """An XLSX download with typed cells: numbers numeric, dates as dates, text as text.

    The sheet is named ``sheet_title`` (default: the file name without its date), its bold
    header row is frozen, and each column is as wide as the header and the first
    ``WIDTH_SAMPLE_ROWS`` rows need (a Chinese character counts double).

    An .xlsx file is a zip whose directory comes last, so it cannot be sent before it is
    complete. The workbook is written by ``_write_xlsx`` (rows go straight to a file,
    memory stays flat: only the width sample is held) into a work directory of this
    export's own (``WORKDIR_PREFIX``), removed as soon as the file is built and opened, or
    the build fails; one a killed worker leaves is removed at the next start
    (``remove_leftover_workdirs``). The open file is streamed from disk. See the module
    docstring for cell conversion and ``max_rows``.
    """
    workdir = tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-")
    try:
        path = os.path.join(workdir, "export.xlsx")
        _write_xlsx(path, filename, headers, rows, max_rows, sheet_title)
        # Not a with-block: the file must outlive this function. The WSGI server closes the
        # response body, and so the file, once sent (even unread). Its directory goes now:
        # the open file stays readable, and the system frees it when it is closed, even
        # when the worker is killed.
        handle = open(path, "rb")  # noqa: SIM115
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    size = os.fstat(handle.fileno()).st_size
    response = Response(
        FileWrapper(handle, FILE_CHUNK_SIZE),
        mimetype=XLSX_MIMETYPE,
        headers=_download_headers(filename),
        direct_passthrough=True,
    )
    response.content_length = size
    return response
