"""The catalog's option lists and totals come from the cache, and a publish or a
withdrawal shows at once (the version row changes in the move's transaction)."""

from __future__ import annotations

import uuid
from contextlib import contextmanager

from public_catalog import add_project, publish_in, withdraw
from sqlalchemy import event, select

from app import create_app
from extensions import db
from models import Project, ProjectState, Setting, Unit
from public import catalog as public_catalog
from tests.redis_server import SHARED_REDIS, require_shared_redis

REDIS_URL = SHARED_REDIS
NEW_YEAR = 2031


@contextmanager
def statements(engine):
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _scans(seen: list[str]) -> list[str]:
    """Statements that read every published row: a count, a DISTINCT or a max."""
    return [s for s in seen if any(word in s.lower() for word in ("count(", "distinct", "max("))]


def _total(client, query: str = "") -> int:
    body = client.get(f"/api/v1/projects{query}").get_json()
    return body["total"]


def _publish_new(session, catalog) -> Project:
    return publish_in(session, catalog.accounts, NEW_YEAR, "缓存测试新公布项目")


def test_second_visit_reads_no_published_rows(client, catalog):
    client.get("/")
    client.get("/api/v1/projects")
    with statements(db.engine) as seen:
        assert client.get("/").status_code == 200
        assert client.get("/api/v1/projects").status_code == 200
    assert _scans(seen) == []


def test_publish_and_withdraw_show_at_once(client, catalog, session):
    page = client.get("/").get_data(as_text=True)
    total = _total(client)
    assert f'value="{NEW_YEAR}"' not in page
    before = session.scalar(select(Setting.value).where(Setting.name == public_catalog.VERSION))

    project = _publish_new(session, catalog)
    session.commit()
    after = session.scalar(select(Setting.value).where(Setting.name == public_catalog.VERSION))
    assert after != before
    page = client.get("/").get_data(as_text=True)
    assert f'value="{NEW_YEAR}"' in page
    assert "缓存测试新公布项目" in client.get(f"/?year={NEW_YEAR}").get_data(as_text=True)
    assert _total(client) == total + 1
    assert _total(client, f"?year={NEW_YEAR}") == 1

    withdraw(session, catalog.accounts, project.id)
    session.commit()
    assert f'value="{NEW_YEAR}"' not in client.get("/").get_data(as_text=True)
    assert _total(client) == total
    assert _total(client, f"?year={NEW_YEAR}") == 0


def test_a_move_that_does_not_touch_the_catalog_keeps_the_version(client, catalog, session):
    client.get("/")
    before = session.scalar(select(Setting.value).where(Setting.name == public_catalog.VERSION))
    add_project(session, catalog.accounts, "pumch", ProjectState.AT_COMMITTEE, name="未公布")
    session.commit()
    after = session.scalar(select(Setting.value).where(Setting.name == public_catalog.VERSION))
    assert after == before


def test_two_instances_share_the_cache_through_redis(app, catalog, session):
    require_shared_redis()
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": REDIS_URL,
        # Apart from any other run sharing this Redis.
        "CACHE_KEY_PREFIX": f"cme-test-{uuid.uuid4().hex}:",
    }
    first, second = create_app(dict(config)), create_app(dict(config))
    try:
        assert first.config["CACHE_TYPE"] == "RedisCache"
        with first.app_context():
            first.test_client().get("/")
        with second.app_context(), statements(db.engine) as seen:
            assert second.test_client().get("/").status_code == 200
        assert _scans(seen) == []  # the first instance's lists and total, from Redis

        project = _publish_new(session, catalog)
        session.commit()
        for instance in (first, second):
            with instance.app_context():
                page = instance.test_client().get("/").get_data(as_text=True)
                assert f'value="{NEW_YEAR}"' in page
        withdraw(session, catalog.accounts, project.id)
        session.commit()
        with second.app_context():
            page = second.test_client().get("/").get_data(as_text=True)
            assert f'value="{NEW_YEAR}"' not in page
    finally:
        for instance in (first, second):
            with instance.app_context():
                public_catalog.cache.clear()
                db.engine.dispose()


def test_cached_option_tags_mark_the_chosen_unit(client, catalog, session):
    unit_id = session.scalar(select(Unit.id).where(Unit.name == "北京协和医院"))
    page = client.get(f"/?unit={unit_id}").get_data(as_text=True)
    assert f'<option value="{unit_id}" selected>北京协和医院</option>' in page
    assert page.count(" selected>") >= 1
    other = client.get('/?unit="><b>x').get_data(as_text=True)
    assert "<b>x" not in other and f'<option value="{unit_id}">北京协和医院</option>' in other
