"""Measuring: wall time, SQL statements and their time, peak memory, and summaries.

Statements are counted with the engine's ``before_cursor_execute`` event and timed up to
``after_cursor_execute``. With psycopg that time includes fetching the rows; with sqlite3
the rows are stepped through later, while Python iterates, so SQLite's SQL time is a lower
bound.
"""

from __future__ import annotations

import contextlib
import math
import statistics
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import event

PAGE = 4096


class SqlRecorder:
    """Counts the statements an engine runs and adds up their execution time."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0
        self.seconds = 0.0
        # (statement, parameters, seconds) of each statement, when ``keep`` is set.
        self.statements: list[list] = []
        self._started: list[float] = []
        self.keep = False

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        if self.keep:
            self.statements.append([statement, parameters, 0.0])
        self._started.append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self._started:
            elapsed = time.perf_counter() - self._started.pop()
            self.seconds += elapsed
            if self.keep and self.statements:
                self.statements[-1][2] = elapsed

    def reset(self, *, keep: bool = False) -> None:
        self.count, self.seconds, self.keep = 0, 0.0, keep
        self.statements.clear()
        self._started.clear()

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def rss_bytes() -> int:
    """The process's resident set size now (Linux /proc, no psutil needed)."""
    fields = Path("/proc/self/statm").read_text().split()
    return int(fields[1]) * PAGE


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_rss() -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so a later read is this run's peak."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_bytes() -> int:
    return _status_kb("VmHWM") * 1024


@contextlib.contextmanager
def traced_peak():
    """Yield a dict whose ``peak`` is the Python heap's peak growth inside the block."""
    result = {"peak": 0}
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        yield result
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["peak"] = peak - base


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p95 of fewer than 20 runs is their maximum)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Sample:
    """Repeated runs of one scenario."""

    seconds: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    sql_seconds: list[float] = field(default_factory=list)
    # This process's CPU time of each run, when measured: less sensitive than the wall
    # time to other work on a shared machine (with SQLite it holds the database's work).
    cpu_seconds: list[float] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def add(self, seconds: float, statements: int = 0, sql_seconds: float = 0.0, cpu=None) -> None:
        self.seconds.append(seconds)
        self.statements.append(statements)
        self.sql_seconds.append(sql_seconds)
        if cpu is not None:
            self.cpu_seconds.append(cpu)

    def _cpu(self) -> dict:
        if not self.cpu_seconds:
            return {}
        return {"cpu_ms": round(statistics.median(self.cpu_seconds) * 1000, 2)}

    def summary(self) -> dict:
        if not self.seconds:
            return {"runs": 0, **self.extra}
        return {
            "runs": len(self.seconds),
            "median_ms": round(statistics.median(self.seconds) * 1000, 2),
            "p95_ms": round(percentile(self.seconds, 0.95) * 1000, 2),
            "statements": max(self.statements),
            "statements_min": min(self.statements),
            "sql_ms": round(statistics.median(self.sql_seconds) * 1000, 2),
            **self._cpu(),
            **self.extra,
        }
