"""Counters per committee and year that only ever go up (项目编号, certificate
numbers): a number handed out is never handed out again, and, because a counter
moves in the transaction that uses its numbers, a rolled-back transaction gives
its numbers back (the series has no gaps)."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

Key = tuple[int, int]  # (committee_id, year)


def advance(session: Session, counters: Table, needed: dict[Key, int]) -> dict[Key, range]:
    """Advance each (committee, year) counter of ``counters`` by the count
    ``needed`` of it (creating it at that count) in one statement; the values
    each one handed out.

    The counters are listed in key order: an upsert locks its rows in the order
    of its VALUES, so two transactions advancing overlapping counters lock them
    in the same order and cannot deadlock (the second waits for the first)."""
    if not needed:
        return {}
    dialect_insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
    stmt = dialect_insert[session.get_bind().dialect.name](counters).values(
        [
            {"committee_id": committee_id, "year": year, "last_value": needed[(committee_id, year)]}
            for committee_id, year in sorted(needed)
        ]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[counters.c.committee_id, counters.c.year],
        set_={"last_value": counters.c.last_value + stmt.excluded.last_value},
    ).returning(counters.c.committee_id, counters.c.year, counters.c.last_value)
    handed = {}
    for committee_id, year, last in session.execute(stmt):
        count = needed[(committee_id, year)]
        handed[(committee_id, year)] = range(last - count + 1, last + 1)
    return handed
