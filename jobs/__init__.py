"""Long work off the request: one small wrapper over the job queue.

``submit(func, *args)`` runs ``func(*args)`` outside the request:

- on RQ (Redis) when ``REDIS_URL`` is set (``JOBS_MODE = "rq"``): a separate worker
  process (``python -m worker``) takes it, so a web worker's timeout never cuts it;
- in a thread of the web process otherwise (``"thread"``, so ``make run`` needs no
  Redis), or at once in the request (``"sync"``, for tests and scripts).

``func`` must be a module-level function (RQ names it by its import path) that runs in an
application context; its state lives in the ``jobs`` table (``models.Job``), written by
``run``, so every web worker shows the same progress whatever ran the job. The files are
kept in ``JOBS_DIR`` for ``EXPORT_KEEP_MINUTES`` after the job finished, then removed by
``purge``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Job, utcnow
from models.job import DONE, FAILED, QUEUED, RUNNING
from settings import count_setting

log = logging.getLogger(__name__)

QUEUE = "cme"
# Longest a job may run on the worker before RQ stops it.
JOB_TIMEOUT_SECONDS = 3600
__all__ = ["DONE", "FAILED", "QUEUE", "QUEUED", "RUNNING", "counted", "create", "submit"]


def init_app(app: Flask) -> None:
    """Defaults: exports above ``EXPORT_BACKGROUND_ROWS`` rows run as jobs; their files are
    kept ``EXPORT_KEEP_MINUTES`` in ``JOBS_DIR``; the queue is RQ when Redis is there.

    Each setting comes from the application's configuration, else from the environment
    variable of the same name (how gunicorn and ``python -m worker`` are given them), else
    its default."""
    env = os.environ
    redis_url = app.config.get("REDIS_URL") or env.get("REDIS_URL")
    app.config.setdefault("REDIS_URL", redis_url)
    for key, default in (("EXPORT_BACKGROUND_ROWS", 20_000), ("EXPORT_KEEP_MINUTES", 60)):
        app.config[key] = count_setting(app, key, default)
    app.config.setdefault("JOBS_DIR", env.get("JOBS_DIR") or str(Path(app.instance_path) / "jobs"))
    app.config.setdefault("JOBS_MODE", "rq" if redis_url else "thread")


def directory() -> str:
    path = current_app.config["JOBS_DIR"]
    os.makedirs(path, exist_ok=True)
    return path


def file_path(job: Job) -> str:
    """Where the job's file is: named by the job's random id, never by user input."""
    return os.path.join(directory(), f"{job.id}.{job.kind}")


def create(session: Session, *, user_id: int, view: str, kind: str, filename: str, total: int):
    """A new queued job of ``user_id`` (the caller commits before ``submit``)."""
    job = Job(
        id=secrets.token_hex(16),
        user_id=user_id,
        view=view,
        kind=kind,
        filename=filename,
        status=QUEUED,
        total=total,
        done=0,
    )
    session.add(job)
    return job


def queue():
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE, connection=Redis.from_url(current_app.config["REDIS_URL"]))


def submit(func: Callable, *args) -> None:
    """Run ``func(*args)`` off the request (see the module docstring for the modes)."""
    mode = current_app.config["JOBS_MODE"]
    if mode == "rq":
        keep = int(current_app.config["EXPORT_KEEP_MINUTES"]) * 60
        queue().enqueue(
            func, *args, job_timeout=JOB_TIMEOUT_SECONDS, result_ttl=0, failure_ttl=keep
        )
    elif mode == "thread":
        app = current_app._get_current_object()
        threading.Thread(target=_in_app, args=(app, func, args), daemon=True).start()
    else:
        func(*args)


def _in_app(app: Flask, func: Callable, args) -> None:
    with app.app_context():
        try:
            func(*args)
        except Exception:  # the job's row says it failed; the thread must not die loudly
            log.exception("background job %s failed", func.__name__)


def _set(engine, job_id: str, **values) -> None:
    """Write the job's row in a short transaction of its own (the work's own session may
    be long, and the page reads the row from another process)."""
    with engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(**values))


def run(engine, job_id: str, work: Callable[[Callable[[int], None]], None]) -> None:
    """Run ``work(report)`` as job ``job_id``: ``report(n)`` records n rows done; the job
    ends done (kept ``EXPORT_KEEP_MINUTES``) or failed (the error's type, never its text,
    which may hold data)."""
    _set(engine, job_id, status=RUNNING)

    def report(done: int) -> None:
        _set(engine, job_id, done=done)

    try:
        work(report)
    except Exception as error:
        now = utcnow()
        values = {"error": type(error).__name__, "finished_at": now, "expires_at": now + _keep()}
        _set(engine, job_id, status=FAILED, **values)
        raise
    now = utcnow()
    _set(engine, job_id, status=DONE, finished_at=now, expires_at=now + _keep())


def _keep() -> timedelta:
    return timedelta(minutes=int(current_app.config["EXPORT_KEEP_MINUTES"]))


def counted(rows: Iterable, report: Callable[[int], None], total: int) -> Iterator:
    """``rows``, reporting progress about a hundred times over ``total`` (not per row)."""
    step = max(500, total // 100)
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % step == 0:
            report(done)
    report(done)


def own(session: Session, user_id: int, job_id: str) -> Job | None:
    """The job ``job_id`` if ``user_id`` asked for it and it has not expired; else None
    (another account's job is as absent as one that never existed)."""
    if not (isinstance(job_id, str) and len(job_id) == 32 and job_id.isalnum()):
        return None
    job = session.get(Job, job_id)
    if job is None or job.user_id != user_id:
        return None
    if job.expires_at is not None and job.expires_at <= utcnow():
        return None
    return job


def recent(session: Session, user_id: int, limit: int = 20) -> list[Job]:
    """The account's jobs still kept, newest first."""
    now = utcnow()
    stmt = (
        select(Job)
        .where(Job.user_id == user_id, (Job.expires_at.is_(None)) | (Job.expires_at > now))
        .order_by(Job.created_at.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def purge(session: Session) -> int:
    """Remove the expired jobs and their files; return how many. The caller commits."""
    now = utcnow()
    # A job never finished (its worker was killed) goes once it could no longer be running.
    lost = now - _keep() - timedelta(seconds=JOB_TIMEOUT_SECONDS)
    stmt = select(Job).where((Job.expires_at <= now) | (Job.created_at <= lost))
    expired = list(session.scalars(stmt))
    for job in expired:
        with contextlib.suppress(FileNotFoundError):
            os.remove(file_path(job))
        session.delete(job)
    return len(expired)
