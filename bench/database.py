"""Fresh benchmark databases, built by the Alembic migrations and thrown away afterwards.

SQLite lives in ``bench/results/tmp/`` (git-ignored); PostgreSQL gets a uniquely named
``cme_bench_<random>`` database on the server of ``BENCH_PG_URL``, dropped at the end.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TMP = Path(__file__).resolve().parent / "results" / "tmp"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pg_server_url():
    """The maintenance database URL under which benchmark databases are created."""
    return make_url(os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))


@contextlib.contextmanager
def fresh_database(kind: str, label: str, server: str | None = None) -> Iterator[str]:
    """Yield the URL of a new, empty database of ``kind``; remove it on exit.
    ``server``: the PostgreSQL server's URL (default ``BENCH_PG_URL``)."""
    name = f"cme_bench_{label}_{uuid.uuid4().hex[:8]}"
    if kind == "sqlite":
        TMP.mkdir(parents=True, exist_ok=True)
        path = TMP / f"{name}.sqlite"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with created_database(make_url(server) if server else pg_server_url(), name) as url:
        yield url


def kept_database(kind: str, label: str) -> tuple[str, Path]:
    """The URL of the database ``cme_bench_<label>_kept`` of ``kind``, created when it is
    not there and never dropped, and the path of a file beside it for what built it
    (``bench.execution --keep``: a large data set built once, measured by several runs).
    Remove them by hand: ``rm bench/results/tmp/cme_bench_*_kept*`` and ``DROP DATABASE``."""
    name = f"cme_bench_{label}_kept"
    TMP.mkdir(parents=True, exist_ok=True)
    facts = TMP / f"{name}.{kind}.pickle"
    # Without its facts a kept database was not built to the end: it starts again empty.
    if kind == "sqlite":
        path = TMP / f"{name}.sqlite"
        if not facts.exists():
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}", facts
    server = pg_server_url()
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not facts.exists():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if found.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False), facts


@contextlib.contextmanager
def created_database(server, name: str) -> Iterator[str]:
    """Create the PostgreSQL database ``name`` on ``server`` (a URL: its maintenance
    database), yield its URL, and drop it on exit, however its connections stand (the
    test suite's throwaway databases are made here too)."""
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate(url: str) -> None:
    """Build the schema exactly as production does: through the migrations."""
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        from extensions import db

        db.engine.dispose()


def server_version(engine) -> str:
    """A short description of the database server, for the report header."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return conn.execute(text("SHOW server_version")).scalar_one().split()[0]
        return conn.execute(text("SELECT sqlite_version()")).scalar_one()
