"""An uploaded workbook as a zip archive, its parts unpacked and counted before any parser
reads them.

python-calamine (Rust) and openpyxl trust what a file says about itself; here nothing
is trusted. Every part is unpacked once, in bounded chunks, counting the bytes it really
holds: the sizes a zip directory announces can lie (a 1 MB file announcing small parts
unpacked to 2 GB inside calamine). A part that declares a DTD (``<!DOCTYPE``) is refused
whatever it declares: no workbook needs one, and entities are how XML parsers are
attacked.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from collections.abc import Iterator

from flask_babel import lazy_gettext as _l

# The bytes all parts of a workbook may unpack to, counted as they are unpacked: a 10 MB
# file of compressed zeros can unpack to gigabytes.
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
# Unpacked this many bytes at a time.
CHUNK_BYTES = 1024 * 1024
MACRO_PARTS = ("xl/vbaProject.bin",)
WORKBOOK_PART = "xl/workbook.xml"
WORKSHEETS = "xl/worksheets/"
# A formula element (``<f>``, ``<f t="shared" …>``, ``<x:f>``) in a worksheet part; not
# ``<formula1>`` of a drop-down, nor ``<filterColumn>``.
FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s>/]")
# A DTD in any part, in UTF-8 or UTF-16, upper or lower case (``<!`` appears in markup
# only: a cell's ``<`` is written ``&lt;``).
DOCTYPES = tuple("<!doctype".encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be"))
OVERLAP = max(len(marker) for marker in DOCTYPES)


class FileRefused(Exception):
    """The file as a whole cannot be imported; ``message`` says why, in the user's words."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


def not_a_spreadsheet():
    return _l(
        "This is not a spreadsheet we can read: upload the template filled in,"
        " as an Excel workbook (.xlsx) or a CSV file."
    )


def unpacks_too_large():
    return _l(
        "The workbook unpacks to more than %(size)s MB: split it into several files.",
        size=MAX_UNCOMPRESSED_BYTES // (1024 * 1024),
    )


class Archive:
    """The zip, refused unless it is a workbook without macros whose parts unpack to a
    bounded size."""

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

    def check(self) -> bool:
        """Unpack every part, counting its real bytes; True when some worksheet part
        holds a formula."""
        formula = False
        for info in self.zip.infolist():
            if not info.filename.startswith(WORKSHEETS):
                for _ in self._chunks(info):
                    pass
                continue
            part = b"".join(self._chunks(info))
            formula = formula or FORMULA_ELEMENT.search(part) is not None
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
