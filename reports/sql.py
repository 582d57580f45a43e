"""Expressions that SQLite and PostgreSQL spell differently, compiled per dialect.

Times are stored as naive UTC; the users count months in Beijing time (UTC+8, no
daylight saving), so a month is taken after adding eight hours. The spellings are those
of ``models.tally``, whose triggers count the same months and hours: one definition.
"""

from __future__ import annotations

from sqlalchemy import Date, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from models.tally import BEIJING_OFFSET_HOURS, HOURS_SQL, MONTH_SQL

# The Beijing calendar day of a naive-UTC timestamp (a date ``days`` days later is
# ``models.execution.plus_days``, which the due-date rule ``due_on_sql`` uses).
DAY_SQL = {
    "sqlite": "date({0}, '+" + str(BEIJING_OFFSET_HOURS) + " hours')",
    "postgresql": "CAST({0} + interval '" + str(BEIJING_OFFSET_HOURS) + " hours' AS DATE)",
}


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


class beijing_day(FunctionElement):
    """The Beijing calendar day (a date) of a naive-UTC timestamp."""

    type = Date()
    inherit_cache = True
    name = "beijing_day"


@compiles(beijing_day, "sqlite")
@compiles(beijing_day, "postgresql")
def _day(element, compiler, **kw):
    (value,) = element.clauses
    return DAY_SQL[compiler.dialect.name].format(compiler.process(value, **kw))


def day_of(column) -> ColumnElement:
    return beijing_day(column)
