"""Test data built once and put back per test: ``build_once`` runs a builder
(the demo seed, the public catalog) on an empty database and keeps every
table's rows; ``restore`` writes them back with Core bulk inserts into the
database a test has just emptied. A restore is a few bulk inserts instead of
walking thirty projects through the workflow engine again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import Connection, Integer, insert, select, text

from extensions import db
from models import Base, User

T = TypeVar("T")


def wipe(connection: Connection) -> None:
    """Empty every table; ids start again at 1.

    DELETE, not PostgreSQL's TRUNCATE: on tables this small TRUNCATE costs a
    tenth of a second or more (it replaces each table's files), twice a test."""
    for table in reversed(Base.metadata.sorted_tables):
        connection.execute(table.delete())
    _reset_sequences(connection)


def copied_tables():
    """Every table but those the database's triggers fill (``project_tallies``): restoring
    the projects and events fills them again."""
    return [t for t in Base.metadata.sorted_tables if not t.info.get("kept_by_triggers")]


class Snapshot:
    """Every table's rows, read with Core, by table name."""

    def __init__(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        self.rows = rows

    @classmethod
    def take(cls, connection: Connection) -> Snapshot:
        rows = {}
        for table in copied_tables():
            # In key order: a unit's parent was inserted before it, and is again.
            query = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [
                {column.key: row._mapping[column] for column in table.columns}
                for row in connection.execute(query)
            ]
        return cls(rows)

    def minus(self, base: Snapshot) -> Snapshot:
        """The rows of this snapshot that ``base`` does not hold (by primary key): what a
        builder added on top of ``base``, to restore over it."""
        rows = {}
        for table in copied_tables():
            keys = [column.key for column in table.primary_key.columns]
            known = {tuple(row[k] for k in keys) for row in base.rows.get(table.name, ())}
            rows[table.name] = [
                row for row in self.rows[table.name] if tuple(row[k] for k in keys) not in known
            ]
        return Snapshot(rows)

    def restore(self, connection: Connection) -> None:
        """Into empty tables: the same rows with the same ids, and PostgreSQL's
        sequences moved past them, so the next id is the one a fresh build gives."""
        for table in copied_tables():
            if self.rows[table.name]:
                connection.execute(insert(table), self.rows[table.name])
        _reset_sequences(connection)


def _reset_sequences(connection: Connection) -> None:
    """Move PostgreSQL's id sequences just past the highest id (to 1 in an
    empty table), in one statement. SQLite's integer keys (no AUTOINCREMENT)
    follow the highest id by themselves."""
    if connection.dialect.name != "postgresql":
        return
    moves = [
        f"setval(pg_get_serial_sequence('{table.name}', '{column.name}'),"
        f" COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
        for table in Base.metadata.sorted_tables
        for column in table.primary_key.columns
        if isinstance(column.type, Integer) and column.autoincrement is not False
    ]
    # setval of a NULL sequence (a key without one) is NULL, not an error.
    connection.execute(text("SELECT " + ", ".join(moves)))


def build_once(
    app: Flask, build: Callable[[Any], T], start: Snapshot | None = None
) -> tuple[Snapshot, T]:
    """Run ``build(session)`` on an empty database (holding ``start``'s rows if
    given), commit, and return the rows it left and what it returned. The
    database is emptied again afterwards."""
    with app.app_context():
        with db.engine.begin() as conn:
            wipe(conn)
            if start is not None:
                start.restore(conn)
        try:
            result = build(db.session)
            db.session.commit()
            with db.engine.connect() as conn:
                snapshot = Snapshot.take(conn)
        finally:
            db.session.rollback()
            db.session.remove()
            with db.engine.begin() as conn:
                wipe(conn)
    return snapshot, result


def build_over(app: Flask, build: Callable[[Any], Any], base: Snapshot) -> Snapshot:
    """The rows ``build(session)`` adds on top of ``base`` (the demo data, say), built
    once: a test restores ``base`` and then these, instead of building again."""
    snapshot, _ = build_once(app, build, start=base)
    return snapshot.minus(base)


def restore(session, snapshot: Snapshot) -> None:
    """Put ``snapshot``'s rows into the empty database, committed, on a
    connection of its own (as a live server's thread would see them)."""
    with db.engine.begin() as conn:
        snapshot.restore(conn)
    session.expire_all()


def accounts_by_username(session) -> dict[str, User]:
    return {u.username: u for u in session.scalars(select(User))}
