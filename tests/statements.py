"""Watching the SQL an engine runs: a listener on ``before_cursor_execute`` for the
span of a ``with`` block."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def watching(engine, listener: Callable) -> Iterator[None]:
    """``listener(conn, cursor, statement, parameters, context, executemany)`` is called
    before each statement ``engine`` runs inside the block."""
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", listener)
