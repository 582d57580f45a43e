"""Read an upload in a child process, so that a file no check foresaw costs a child, never
the server.

python-calamine is Rust: a workbook that makes it ask for more memory than there is
aborts the process it runs in, with no Python exception to catch (one 1.6 KB file took
``make run`` down, and under gunicorn each upload killed a worker). ``read`` runs
``reader.read`` in a child forked from a multiprocessing *forkserver* (started on the first
upload, with the reader's modules already imported, so each upload costs a fork rather
than a fresh interpreter), under an address-space limit (``RLIMIT_AS``) and a time limit.
The child sends back the ``Upload`` (plain dataclasses) or the refusal's message; a child
that dies, runs out of memory or time, or fails in any other way gives the user "the file
could not be read", and the details go to the log.

The forkserver is safe under gunicorn's threads and Flask's development server: the child
is forked from the server process, never from the threaded web process.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import traceback
from array import array
from dataclasses import dataclass
from itertools import chain
from multiprocessing.connection import wait

from flask_babel import lazy_gettext as _l

from imports import reader
from imports.archive import FileRefused, not_a_spreadsheet

MB = 1024 * 1024
# Far above what reading the largest file allowed takes (about 300 MB of address space,
# most of it the libraries themselves), far below what would hurt the server.
DEFAULT_MEMORY_MB = 1024
DEFAULT_SECONDS = 60
# How long a child that has answered may take to exit before it is killed.
EXIT_SECONDS = 5
SEPARATOR = "\x00"

CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(["imports.reader"])

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """The child's address space (0: no limit) and the seconds it may take."""

    memory_mb: int = DEFAULT_MEMORY_MB
    seconds: float = DEFAULT_SECONDS


def unreadable():
    return _l(
        "The file could not be read: it may be damaged, or too large or too complex to"
        " open safely. Open it in Excel, save it as an Excel workbook (.xlsx), or split it"
        " into several files, and upload it again."
    )


def read(
    filename: str, data: bytes, limits: Limits | None = None, words: reader.Titles | None = None
) -> reader.Upload:
    """``reader.read(filename, data, words)`` in a child process; raises ``FileRefused``.
    ``words``: the sheets to read (default: the project import's, ``reader.titles()``)."""
    # The texts need the app's translations: rendered here, not in the child.
    words = words or reader.titles()
    main, second = run(_read_packed, (filename, data, words), limits, label=filename)
    return reader.Upload(_unpack(main), _unpack(second))


def _read_packed(filename: str, data: bytes, words: reader.Titles) -> tuple:
    """In the child: the upload's tables, packed for the way back."""
    upload = reader.read(filename, data, words)
    return _pack(upload.main), _pack(upload.second)


def _pack(table: reader.Table | None) -> tuple | None:
    """A table as its name, its row numbers, each row's cell count and every cell in one
    string, cut by NUL (which no cell holds: XML has no NUL and a CSV with one is refused):
    a few objects to pickle instead of one per cell (5,000 rows: 2.4 MB of pickled lists,
    about 0.3 s each way on a loaded machine)."""
    if table is None:
        return None
    rows = [table.headers, *(texts for _, texts in table.rows)]
    cells = SEPARATOR.join(chain.from_iterable(rows))
    if cells.count(SEPARATOR) != max(sum(map(len, rows)) - 1, 0):
        raise FileRefused(not_a_spreadsheet())  # a NUL in a cell after all
    numbers = array("l", (number for number, _ in table.rows))
    return table.sheet, numbers, array("l", map(len, rows)), cells


def _unpack(packed: tuple | None) -> reader.Table | None:
    if packed is None:
        return None
    sheet, numbers, lengths, cells = packed
    flat = cells.split(SEPARATOR) if sum(lengths) else []
    rows, start = [], 0
    for length in lengths:
        rows.append(flat[start : start + length])
        start += length
    return reader.Table(sheet, rows[0], list(zip(numbers, rows[1:], strict=True)))


def run(function, args: tuple, limits: Limits | None = None, *, label: str = ""):
    """``function(*args)`` (both picklable) in a child process within ``limits``: its
    result, or ``FileRefused`` with its refusal, or with "could not be read" when the child
    fails, dies or runs out of time (the details logged)."""
    limits = limits or Limits()
    receive, send = CONTEXT.Pipe(duplex=False)
    child = CONTEXT.Process(
        target=_child,
        args=(send, function, args, limits.memory_mb),
        name="import-reader",
        daemon=True,
    )
    try:
        child.start()
        send.close()  # the child's end: the parent sees EOF once the child is gone
        outcome = _outcome(receive, child, limits.seconds)
    except OSError:  # no process could be started (the forkserver failed, no memory left)
        log.exception("the import reader could not be started for %r", label)
        outcome = None
    finally:
        send.close()
        receive.close()
        exitcode = _stop(child)
    match outcome:
        case ("done", result):
            return result
        case ("refused", message):
            raise FileRefused(message)
        case ("failed", details):
            log.warning("the import reader failed on %r:\n%s", label, details)
        case _:
            log.warning(
                "the import reader gave no answer on %r (exit code %s; memory limit %s MB,"
                " time limit %s s)",
                label,
                exitcode,
                limits.memory_mb,
                limits.seconds,
            )
    raise FileRefused(unreadable())


def _outcome(receive, child, seconds: float):
    """What the child sent, or None when it died or ran out of time without an answer."""
    ready = wait([receive, child.sentinel], timeout=seconds)
    if receive not in ready:
        return None
    try:
        return receive.recv()
    except Exception:  # EOF (it died while sending), a truncated message, …
        return None


def _stop(child) -> int | None:
    """End the child (killed if it has not exited) and give its exit code."""
    if child.pid is None:  # never started
        return None
    child.join(EXIT_SECONDS)
    if child.exitcode is None:
        child.kill()
        child.join()
    exitcode = child.exitcode
    child.close()
    return exitcode


def _child(send, function, args: tuple, memory_mb: int) -> None:
    """In the child: run under the memory limit, send the outcome."""
    if memory_mb:
        limit = memory_mb * MB
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        outcome = ("done", function(*args))
    except FileRefused as refused:
        outcome = ("refused", refused.message)
    except BaseException:  # MemoryError, pyo3's PanicException (a BaseException), anything
        outcome = ("failed", traceback.format_exc())
    send.send(outcome)
    send.close()
