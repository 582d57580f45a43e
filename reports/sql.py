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


class _Spelled(FunctionElement):
    """A function each backend spells its own way: ``spellings`` maps the dialect's name
    to a format string of the function's arguments, compiled in order."""

    inherit_cache = True
    spellings: dict[str, str] = {}


@compiles(_Spelled, "sqlite")
@compiles(_Spelled, "postgresql")
def _spell(element, compiler, **kw):
    args = (compiler.process(c, **kw) for c in element.clauses)
    return element.spellings[compiler.dialect.name].format(*args)


class beijing_month(_Spelled):
    """``'2026-03'``: the Beijing calendar month of a naive-UTC timestamp."""

    type = String()
    inherit_cache = True
    name = "beijing_month"
    spellings = MONTH_SQL


class hours_between(_Spelled):
    """Whole hours (rounded half up) from the first timestamp to the second."""

    type = Integer()
    inherit_cache = True
    name = "hours_between"
    spellings = HOURS_SQL


class beijing_day(_Spelled):
    """The Beijing calendar day (a date) of a naive-UTC timestamp."""

    type = Date()
    inherit_cache = True
    name = "beijing_day"
    spellings = DAY_SQL


def month_of(column) -> ColumnElement[str]:
    return beijing_month(column)


def hours(start, end) -> ColumnElement[int]:
    return hours_between(start, end)


def day_of(column) -> ColumnElement:
    return beijing_day(column)
