"""The public catalog's option lists and totals, cached until the catalog changes.

Reading the 年度/学科/申报单位 options and a search's total means reading every published
row; done on every visit it made ``/`` grow with the catalog. They are kept in the cache
(``extensions.cache``: in-process, or Redis when ``REDIS_URL`` is set) under a key that
holds the catalog's *version*, a token in the ``settings`` table that the workflow
replaces, in the same transaction, whenever a project enters or leaves the published
state (publish, withdraw, or any other move from or to it). The next request reads the
new token (one primary-key lookup) and so never sees a stale list: nothing has to be
deleted from the cache, and every worker sharing Redis agrees at once.

Renaming a unit or a discipline does not change the token; entries also expire after
``CATALOG_CACHE_SECONDS`` (10 minutes by default), which bounds how long an old name shows.

The cache is an optimisation, never a dependency: when Redis fails (stopped, restarting,
unreachable) the catalog reads the database instead. Redis is given ``REDIS_TIMEOUT_MS``
(300 ms) to connect and to answer, and a circuit breaker (pybreaker) stops asking it for
``CATALOG_CACHE_RETRY_SECONDS`` (5 s) after a failure, so an outage costs at most one short
wait per worker every few seconds; the log gets one line when an outage starts and one when
the cache answers again, not one per request.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable

import pybreaker
from flask import Flask, current_app, g
from markupsafe import Markup, escape
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from extensions import cache
from models import ProjectState, Setting
from public import held, search

log = logging.getLogger(__name__)

VERSION = "catalog_version"
PUBLISHED = ProjectState.PUBLISHED.value
BREAKER = "catalog_cache_breaker"


def init_cache(app: Flask) -> None:
    """Bind the cache: Redis when ``REDIS_URL`` is set (shared by every worker), else
    the process's memory."""
    if app.config["CACHE_TYPE"] == "RedisCache":
        app.config["CACHE_OPTIONS"] = app.config["CACHE_OPTIONS"] or redis_options(app)
    cache.init_app(app)
    app.extensions[BREAKER] = pybreaker.CircuitBreaker(
        fail_max=1,
        reset_timeout=app.config["CATALOG_CACHE_RETRY_SECONDS"],
        listeners=[_OutageLog()],
        name="catalog cache",
    )


def redis_options(app: Flask) -> dict:
    """Short waits: ``REDIS_TIMEOUT_MS`` (300 ms) to connect and to answer, and one retry at
    once, which reconnects a pooled connection that a Redis restart closed (redis-py's default,
    three with back-off, would multiply the wait of a dead Redis)."""
    seconds = app.config["REDIS_TIMEOUT_MS"] / 1000
    return {
        "socket_connect_timeout": seconds,
        "socket_timeout": seconds,
        "retry": Retry(NoBackoff(), 1),
    }


class _OutageLog(pybreaker.CircuitBreakerListener):
    """One warning when the cache starts failing, one when it answers again."""

    def __init__(self) -> None:
        self.error = ""

    def failure(self, cb, exc):
        self.error = f"{type(exc).__name__}: {exc}"

    def state_change(self, cb, old_state, new_state):
        old = old_state.name if old_state is not None else None
        if old == pybreaker.STATE_CLOSED and new_state.name == pybreaker.STATE_OPEN:
            log.warning(
                "the catalog's cache (Redis) failed: reading the database instead (%s)",
                self.error,
            )
        elif old is not None and new_state.name == pybreaker.STATE_CLOSED:
            log.warning("the catalog's cache (Redis) answers again")


def bump(session: Session) -> None:
    """Give the catalog a new version, in the caller's transaction (one statement). A
    random token rather than a counter: two databases sharing one Redis never collide."""
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    token = uuid.uuid4().hex
    stmt = insert(Setting).values(name=VERSION, value=token)
    session.execute(
        stmt.on_conflict_do_update(index_elements=[Setting.name], set_={"value": token})
    )


def on_moved(action, *, session, account, moves, reason):
    if any(PUBLISHED in (move.source, move.target) for move in moves):
        bump(session)


def on_execution_moved(action, *, session, account, moves, reason):
    """An execution report entering or leaving 已审核 changes what the catalog shows of
    its project (已举办, ``public.held``): a new version, so the cached Last-Modified
    is read again."""
    if any(held.ACCEPTED in (move.source, move.target) for move in moves):
        bump(session)


def version(session: Session) -> str:
    """The catalog's current version, read once per request."""
    if "catalog_version" not in g:
        found = session.scalar(select(Setting.value).where(Setting.name == VERSION))
        g.catalog_version = found or "initial"
    return g.catalog_version


def cached(session: Session, name: str, compute: Callable[[], object]):
    """``compute()``, or its value for the current version from the cache; ``compute()``
    alone while the cache fails (see the module docstring)."""
    key = f"catalog:{version(session)}:{name}"
    breaker = current_app.extensions[BREAKER]
    try:
        value = breaker.call(cache.get, key)
    except Exception:  # any failure of the cache: refused, timed out, restarting
        return compute()
    if value is None:
        value = compute()
        # A failure is the breaker's to log; the value is right all the same.
        with contextlib.suppress(Exception):
            breaker.call(cache.set, key, value)
    return value


def options(session: Session) -> dict:
    """The search form's 年度, 学科 and 申报单位 choices (published projects only)."""
    return {
        "years": cached(session, "years", lambda: search.year_options(session)),
        "disciplines": cached(session, "disciplines", lambda: search.discipline_options(session)),
        "units": cached(session, "units", lambda: search.unit_options(session)),
    }


def option_tags(session: Session, name: str, current: str | None) -> Markup:
    """The ``<option>`` tags of the 学科 (``disciplines``) or 申报单位 (``units``) select,
    rendered once per catalog version: about two thousand units are too many to render
    through a template macro on every visit. ``current`` (the request's value) is marked
    selected by its exact ``value`` attribute, as the macro did."""
    html = cached(
        session,
        f"options-html:{name}",
        lambda: "".join(
            f'<option value="{key}">{escape(label)}</option>'
            for key, label in options(session)[name]
        ),
    )
    if current:
        mark = f'<option value="{escape(current)}">'
        html = html.replace(mark, mark[:-1] + " selected>", 1)
    return Markup(html)


def count(session: Session, params: search.SearchParams) -> int:
    """How many published projects match ``params``' filters (paging and sorting aside)."""
    filters = params.query_args(sort=None, page=None, per_page=None)
    key = "count:" + "&".join(f"{k}={v}" for k, v in sorted(filters.items()))
    return cached(session, key, lambda: search.count(session, params))


def changed_at(session: Session):
    """When the catalog last changed (the API list's Last-Modified). Only a move into or
    out of 已公布 changes it (a published project cannot be edited), or a report's into or
    out of 已审核 (the project's 已举办, ``public.held``); every such move gives the catalog
    a new version."""
    return cached(session, "changed_at", lambda: _changed_at(session))


def _changed_at(session: Session):
    stamps = [search.catalog_changed_at(session), held.latest_change(session)]
    found = [stamp for stamp in stamps if stamp is not None]
    return max(found) if found else None
