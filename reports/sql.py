"""Two expressions that SQLite and PostgreSQL spell differently, compiled per dialect.

Times are stored as naive UTC; the users count months in Beijing time (UTC+8, no
daylight saving), so a month is taken after adding eight hours.
"""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

BEIJING_OFFSET_HOURS = 8


class beijing_month(FunctionElement):
    """``'2026-03'``: the Beijing calendar month of a naive-UTC timestamp."""

    type = String()
    inherit_cache = True
    name = "beijing_month"


@compiles(beijing_month, "sqlite")
def _month_sqlite(element, compiler, **kw):
    (value,) = element.clauses
    return f"strftime('%Y-%m', {compiler.process(value, **kw)}, '+{BEIJING_OFFSET_HOURS} hours')"


@compiles(beijing_month, "postgresql")
def _month_postgresql(element, compiler, **kw):
    (value,) = element.clauses
    return (
        f"to_char({compiler.process(value, **kw)} + interval '{BEIJING_OFFSET_HOURS} hours',"
        " 'YYYY-MM')"
    )


class days_between(FunctionElement):
    """Days (fractional) from the first timestamp to the second."""

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({end}) - julianday({start}))"


@compiles(days_between, "postgresql")
def _days_postgresql(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"


def month_of(column) -> ColumnElement[str]:
    return beijing_month(column)


def days(start, end) -> ColumnElement[float]:
    return days_between(start, end)
