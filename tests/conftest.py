"""Fixtures: every test that takes ``app`` runs on SQLite, and on PostgreSQL
when ``TEST_DATABASE_URL`` is set (a fresh, uniquely named database per run)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url

from app import create_app
from extensions import db
from models import Base, User


def _postgres_base_url():
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        return None
    url = make_url(raw)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite'}"
        return
    base = _postgres_base_url()
    if base is None:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests not run")
    name = f"cme_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def app(database_url) -> Iterator[Flask]:
    """One app per backend, its schema built by the Alembic migrations."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
        }
    )
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def backend(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def _wipe(connection) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            connection.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def ctx(app) -> Iterator[Flask]:
    """An app context on an empty database, emptied again afterwards."""
    with app.app_context():
        with db.engine.begin() as conn:
            _wipe(conn)
        yield app
        db.session.rollback()
        db.session.remove()
        with db.engine.begin() as conn:
            _wipe(conn)


@pytest.fixture
def session(ctx):
    return db.session


@pytest.fixture
def demo(session) -> dict[str, User]:
    """The demo data of SPEC §6, committed; returns the accounts by username."""
    from demo import seed

    seed(session)
    session.commit()
    return {u.username: u for u in session.scalars(select(User))}


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(session):
    """Context manager counting the SQL statements the session's engine runs."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        counter = StatementCounter()
        engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return counting
