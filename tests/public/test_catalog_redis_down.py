"""The public catalog while its cache (Redis) is down (issue 21, finding 7): every public
page and the API answer 200 with the right data from the database, the outage is logged
once (and its end once), the cache is used again when Redis is back, and a publish shows
at once on two instances sharing Redis, before, during and after the outage.

A redis-server of the test's own is killed and started again on the same port."""

from __future__ import annotations

import logging
import threading
import uuid
from contextlib import contextmanager

import pytest
from public_catalog import FreshClient, publish_in, read_csv, withdraw

from app import create_app
from extensions import db
from tests.hung_server import HungServer
from tests.statements import watching

NEW_YEAR = 2032
PAGES = ("/", "/api/v1/projects", "/export.csv", f"/?year={NEW_YEAR}")


@pytest.fixture
def instances(app, redis_server):
    """Two applications (two gunicorn workers, say) sharing the test's Redis and the
    test's database; the breaker tries Redis again at once (0 s) to keep the test short."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_server.url,
        "CATALOG_CACHE_RETRY_SECONDS": 0,
        "CACHE_KEY_PREFIX": f"cme-test-{uuid.uuid4().hex}:",
    }
    made = [create_app(dict(config)) for _ in range(2)]
    yield made
    for instance in made:
        with instance.app_context():
            db.engine.dispose()


@contextmanager
def scans(instance):
    """The statements of ``instance`` that read every published row (count, DISTINCT, max)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        if any(word in statement.lower() for word in ("count(", "distinct", "max(")):
            seen.append(statement)

    with instance.app_context():
        engine = db.engine
    with watching(engine, record):
        yield seen


def visit(instance) -> dict[str, object]:
    """What each public page shows that the cache feeds: the year options, the API's total,
    the CSV's rows, the new year's search."""
    client = FreshClient(instance.test_client())
    answers = {path: client.get(path) for path in PAGES}
    for path, response in answers.items():
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
    home = answers["/"].get_data(as_text=True)
    new_year = answers[f"/?year={NEW_YEAR}"].get_data(as_text=True)
    return {
        "new year offered": f'value="{NEW_YEAR}"' in home,
        "years": home.count('<option value="20'),
        "api total": answers["/api/v1/projects"].get_json()["total"],
        "csv rows": len(read_csv(answers["/export.csv"])),
        "new year's page": "Redis缓存测试项目" in new_year,
    }


def publish(session, catalog):
    project = publish_in(session, catalog.accounts, NEW_YEAR, "Redis缓存测试项目")
    session.commit()
    return project


def cache_logs(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "public.catalog"]


def test_the_catalog_reads_the_database_while_redis_is_down(
    instances, redis_server, catalog, session, caplog
):
    caplog.set_level(logging.WARNING, logger="public.catalog")
    first, second = instances
    before = visit(first)
    assert before["new year offered"] is False and before["api total"] > 0
    with scans(second) as seen:
        assert visit(second) == before
    assert seen == [], "the second instance read the first's lists from Redis"
    assert redis_server.keys(), "the first instance filled the shared cache"

    redis_server.stop()
    for instance in (first, second):
        for _ in range(3):
            assert visit(instance) == before
    # A publish during the outage shows at once on both.
    project = publish(session, catalog)
    during = {
        **before,
        "new year offered": True,
        "years": before["years"] + 1,
        "api total": before["api total"] + 1,
        "csv rows": before["csv rows"] + 1,
        "new year's page": True,
    }
    for instance in (first, second):
        assert visit(instance) == during
    logged = cache_logs(caplog)
    assert len(logged) == 2, logged  # once per instance (each is its own worker)
    assert all("reading the database instead" in line for line in logged)

    redis_server.start()  # empty: nothing kept from before
    caplog.clear()
    assert visit(first) == during
    with scans(second) as seen:
        assert visit(second) == during
    assert seen == [], "the second instance read the first's lists from Redis again"
    assert redis_server.keys()
    assert [line for line in cache_logs(caplog) if "answers again" in line] != []

    # Invalidation across the instances still works once Redis is back.
    withdraw(session, catalog.accounts, project.id)
    session.commit()
    for instance in (first, second):
        assert visit(instance) == before


def test_a_redis_that_does_not_answer_is_asked_once_per_retry_time(app, catalog):
    """The first request waits REDIS_TIMEOUT_MS (and its one retry), then the breaker stops
    asking Redis until CATALOG_CACHE_RETRY_SECONDS have passed: later requests never touch
    it. Without a timeout the first request would hang (the thread's join catches that)."""
    hung = HungServer()
    instance = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": f"redis://127.0.0.1:{hung.port}/0",
            "REDIS_TIMEOUT_MS": 200,
            "CATALOG_CACHE_RETRY_SECONDS": 600,
        }
    )
    answers: list[int] = []

    def browse() -> None:
        client = FreshClient(instance.test_client())
        for _ in range(5):
            answers.append(client.get("/").status_code)
            answers.append(client.get("/api/v1/projects").status_code)

    worker = threading.Thread(target=browse, daemon=True)
    worker.start()
    worker.join(timeout=30)
    stuck = worker.is_alive()
    connections = len(hung.held)
    hung.close()
    worker.join(timeout=10)
    with instance.app_context():
        db.engine.dispose()
    assert not stuck, "a request waited for the hung Redis"
    assert answers == [200] * 10
    assert 1 <= connections <= 2  # the first get and its one retry; nothing after
    assert instance.extensions["catalog_cache_breaker"].current_state == "open"
