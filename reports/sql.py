"""Two expressions that SQLite and PostgreSQL spell differently, compiled per dialect.

Times are stored as naive UTC; the users count months in Beijing time (UTC+8, no
daylight saving), so a month is taken after adding eight hours. The spellings are those
of ``models.tally``, whose triggers count the same months and hours: one definition.
"""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from models.tally import HOURS_SQL, MONTH_SQL


class beijing_month(FunctionElement):
    """``'2026-03'``: the Beijing calendar month of a naive-UTC timestamp."""

    type = String()
    inherit_cache = True
    name = "beijing_month"


@compiles(beijing_month, "sqlite")
@compiles(beijing_month, "postgresql")
def _month(element, compiler, **kw):
    (value,) = element.clauses
    return MONTH_SQL[compiler.dialect.name].format(compiler.process(value, **kw))


class hours_between(FunctionElement):
    """Whole hours (rounded half up) from the first timestamp to the second."""

    type = Integer()
    inherit_cache = True
    name = "hours_between"


@compiles(hours_between, "sqlite")
@compiles(hours_between, "postgresql")
def _hours(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return HOURS_SQL[compiler.dialect.name].format(start, end)


def month_of(column) -> ColumnElement[str]:
    return beijing_month(column)


def hours(start, end) -> ColumnElement[int]:
    return hours_between(start, end)
