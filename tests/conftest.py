"""Fixtures: every test that takes ``app`` runs on SQLite, and on PostgreSQL
when ``TEST_DATABASE_URL`` is set (a fresh, uniquely named database per run, and so per
pytest-xdist worker: ``make test`` runs ``pytest -n auto``).

Speed without losing isolation: passwords are hashed with argon2 at its lowest
cost (the test app only), and the demo data is built once per backend through
the real seeding code, kept as every table's rows, and put back with bulk
inserts into the emptied database before each test that asks for it.

Fixture names: ``app_on_empty_db``, ``session``, ``demo_accounts``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from bench.database import created_database
from extensions import cache, db
from models import User
from tests.redis_server import RedisServer
from tests.smtp_server import SmtpServer
from tests.snapshot import Snapshot, accounts_by_username, build_once, restore
from tests.snapshot import wipe as _wipe  # the name test_workflow_matrix imports
from tests.statements import watching

# argon2 stays the scheme (tests check the stored hash is argon2), at the
# smallest cost argon2 accepts: a login verifies in microseconds instead of a
# second. Production and ``make run`` keep the library's defaults.
CHEAP_ARGON2 = {"argon2__rounds": 1, "argon2__memory_cost": 8, "argon2__parallelism": 1}


@contextmanager
def throwaway_database(backend: str, sqlite_dir, prefix: str = "cme_test") -> Iterator[str]:
    """The URL of a new, empty database of ``backend`` (a file in ``sqlite_dir``,
    or a uniquely named database on TEST_DATABASE_URL's server, dropped on exit);
    skips the test when no PostgreSQL server is given."""
    if backend == "sqlite":
        yield f"sqlite:///{sqlite_dir / 'test.sqlite'}"
        return
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests not run")
    with created_database(make_url(server), f"{prefix}_{uuid.uuid4().hex[:12]}") as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> Iterator[str]:
    with throwaway_database(request.param, tmp_path_factory.mktemp("sqlite")) as url:
        yield url


def app_config(database_url: str) -> dict:
    """The test apps' configuration on ``database_url``."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": CHEAP_ARGON2,
    }


@pytest.fixture(scope="session")
def app(database_url) -> Iterator[Flask]:
    """One app per backend, its schema built by the Alembic migrations."""
    app = create_app(app_config(database_url))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def app_without_db() -> Flask:
    """An app on an in-memory SQLite database it never opens, for tests of pure
    functions and of the app's structure (rules, labels, registered views): they run
    once, not once per backend, and build no schema."""
    return create_app(
        {"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )


@pytest.fixture
def app_context(app_without_db) -> Iterator[Flask]:
    """``app_without_db`` with an app context pushed (translations, config)."""
    with app_without_db.app_context():
        yield app_without_db


@pytest.fixture
def make_app(database_url, demo_accounts):
    """Further app instances on the test database holding the demo data, with ``config``
    on top: for settings read when an app is made, and for what two instances share (a
    lock, a rate limit through Redis)."""
    made = []

    def make(**config):
        instance = create_app(app_config(database_url) | config)
        made.append(instance)
        return instance

    yield make
    for instance in made:
        with instance.app_context():
            db.engine.dispose()


@pytest.fixture
def backend(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


@pytest.fixture
def app_on_empty_db(app) -> Iterator[Flask]:
    """The app, with an app context pushed, on an empty database (and no rate-limit
    counts); emptied again afterwards."""
    with app.app_context():
        with db.engine.begin() as conn:
            _wipe(conn)
        # The login rate limits count per app, in memory: each test starts afresh.
        for limiter in app.extensions.get("limiter", ()):
            limiter.reset()
        # The catalog's cache is keyed by the version row the snapshot restores: rows
        # a test wrote past the workflow must not leave their lists to the next test.
        cache.clear()
        yield app
        db.session.rollback()
        db.session.remove()
        with db.engine.begin() as conn:
            _wipe(conn)


@pytest.fixture
def session(app_on_empty_db):
    """The app context's database session (Flask-SQLAlchemy's ``db.session``)."""
    return db.session


def _seed_demo(session) -> None:
    from demo import seed

    seed(session)


@pytest.fixture(scope="session")
def demo_rows(app) -> Snapshot:
    """The demo data, seeded once per backend by ``demo.seed``, as rows."""
    snapshot, _ = build_once(app, _seed_demo)
    return snapshot


@pytest.fixture
def demo_accounts(demo_rows, session) -> dict[str, User]:
    """The demo data (units, accounts, projects), committed; returns the accounts by username."""
    restore(session, demo_rows)
    return accounts_by_username(session)


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

    @contextmanager
    def counting():
        counter = StatementCounter()
        with watching(db.engine, counter):
            yield counter

    return counting


def _running(server):
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """An SMTP server (aiosmtpd) of the test's own on localhost, running; ``.inbox``
    holds what it received."""
    yield from _running(SmtpServer())


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of the test's own on a free port, running (skips without one)."""
    yield from _running(RedisServer())
