"""Long work off the request: one small wrapper over the job queue.

``submit(engine, job_id, total, func, *args)`` runs ``func(*args)`` outside the request:

- on RQ (Redis) when ``REDIS_URL`` is set (``JOBS_MODE = "rq"``): a separate worker
  process (``python -m worker``) takes it, so a web worker's timeout never cuts it;
- in a thread of the web process otherwise (``"thread"``, so ``make run`` needs no
  Redis), or at once, the request waiting for it (``"sync"``, for tests and scripts).

Whatever the mode, ``func`` runs in an application context of its own, never inside the
request that asked for it (no request context, no login): it is given what it needs
(e.g. an account's id) in ``args``.

The row and the queue are decided together: when Redis cannot be reached, a job of up to
``EXPORT_FALLBACK_ROWS`` rows runs in a thread of the web process instead, and a larger
one is failed at once (``UNAVAILABLE``), so no row waits for a queue that never got it.

``func`` must be a module-level function (RQ names it by its import path) that runs in an
application context; its state lives in the ``jobs`` table (``models.Job``), written by
``run``, so every web worker shows the same progress whatever ran the job. A running job
writes ``heartbeat_at`` with its progress, at least every ``JOB_HEARTBEAT_SECONDS``; one
whose process died is failed by ``jobs.reaper``. The files are kept in ``JOBS_DIR`` for
``EXPORT_KEEP_MINUTES`` after the job finished, then removed by ``purge``, which keeps
the row (``EXPIRED``) a while longer for its page.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Job, utcnow
from models.job import (
    DONE,
    EXPIRED,
    FAILED,
    INTERRUPTED,
    NOT_STARTED,
    QUEUED,
    RUNNING,
    UNAVAILABLE,
)

log = logging.getLogger(__name__)

QUEUE = "cme"
# Longest a job may run on the worker before RQ stops it.
JOB_TIMEOUT_SECONDS = 3600
# A finished job's row (not its file) stays this long, so its page can offer 重新导出.
RECORD_KEEP = timedelta(days=7)
# Seconds the web process waits for Redis before it decides the queue is unavailable.
REDIS_TIMEOUT_SECONDS = 3
# Whole-number settings: configuration, else the environment, else the default.
__all__ = [
    "DONE",
    "EXPIRED",
    "FAILED",
    "INTERRUPTED",
    "NOT_STARTED",
    "QUEUE",
    "QUEUED",
    "RUNNING",
    "UNAVAILABLE",
    "counted",
    "create",
    "submit",
]


class Lost(Exception):
    """The job's row is no longer running (the reaper failed it): the work stops."""


def directory() -> str:
    path = current_app.config["JOBS_DIR"]
    os.makedirs(path, exist_ok=True)
    return path


def file_path(job: Job) -> str:
    """Where the job's file is: named by the job's random id, never by user input."""
    return os.path.join(directory(), f"{job.id}.{job.kind}")


def create(
    session: Session,
    *,
    user_id: int,
    view: str,
    kind: str,
    filename: str,
    total: int,
    list_args: str = "",
):
    """A new queued job of ``user_id`` (the caller commits before ``submit``)."""
    job = Job(
        id=secrets.token_hex(16),
        user_id=user_id,
        view=view,
        kind=kind,
        filename=filename,
        list_args=list_args,
        status=QUEUED,
        total=total,
        done=0,
    )
    session.add(job)
    return job


def queue():
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(
        current_app.config["REDIS_URL"],
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    return Queue(QUEUE, connection=connection)


def submit(engine, job_id: str, total: int, func: Callable, *args) -> str | None:
    """Run ``func(*args)``, the work of the committed, queued job ``job_id`` of ``total``
    rows, off the request (see the module docstring for the modes). Returns the mode it
    runs in, or None when it cannot run now: Redis is down and the job is larger than
    ``EXPORT_FALLBACK_ROWS``; the row is then failed (``UNAVAILABLE``) at once."""
    from redis.exceptions import RedisError

    config = current_app.config
    mode = config["JOBS_MODE"]
    if mode == "rq":
        keep = int(config["EXPORT_KEEP_MINUTES"]) * 60
        try:
            queue().enqueue(
                func, *args, job_timeout=JOB_TIMEOUT_SECONDS, result_ttl=0, failure_ttl=keep
            )
            return mode
        except RedisError as error:
            log.warning("job queue unavailable (%s): job %s", type(error).__name__, job_id)
        if total > int(config["EXPORT_FALLBACK_ROWS"]):
            _finish(engine, job_id, QUEUED, status=FAILED, error=UNAVAILABLE)
            return None
        mode = "thread"
    app = current_app._get_current_object()
    worker = threading.Thread(target=_in_app, args=(app, func, args), daemon=True)
    worker.start()
    if mode != "thread":
        # "sync" waits for it, but still runs it in a thread of its own: a job never sees
        # the request it was asked from (its login, its arguments), as on the worker.
        worker.join()
    return mode


def _in_app(app: Flask, func: Callable, args) -> None:
    with app.app_context():
        try:
            func(*args)
        except Exception:  # the job's row says it failed; the thread must not die loudly
            log.exception("background job %s failed", func.__name__)


def _change(engine, job_id: str, expected: str, **values) -> bool:
    """Write the job's row if its status is still ``expected`` (compare and set), in a
    short transaction of its own (the work's own session may be long, and the page reads
    the row from another process); whether it was."""
    stmt = update(Job).where(Job.id == job_id, Job.status == expected).values(**values)
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def _finish(engine, job_id: str, expected: str, **values) -> bool:
    now = utcnow()
    return _change(
        engine, job_id, expected, finished_at=now, expires_at=now + keep_time(), **values
    )


def run(engine, job_id: str, work: Callable[[Callable[[int], None]], None]) -> None:
    """Run ``work(report)`` as job ``job_id``: ``report(n)`` records n rows done and the
    job's heartbeat; the job ends done (kept ``EXPORT_KEEP_MINUTES``) or failed (the
    error's type, never its text, which may hold data).

    Every write is a compare and set: a job no longer queued (the reaper failed it, or
    another process took it) is not run; a job failed by the reaper while it ran stops at
    its next report and stays failed."""
    if not _change(engine, job_id, QUEUED, status=RUNNING, heartbeat_at=utcnow()):
        log.warning("job %s is no longer queued (failed or taken): not run", job_id)
        return
    pause = int(current_app.config.get("JOBS_TEST_PAUSE_SECONDS") or 0)
    if pause:
        time.sleep(pause)

    def report(done: int) -> None:
        if not _change(engine, job_id, RUNNING, done=done, heartbeat_at=utcnow()):
            raise Lost(job_id)

    try:
        work(report)
    except Lost:
        log.warning("job %s was marked failed while it ran: stopped", job_id)
        return
    except Exception as error:
        try:
            _finish(engine, job_id, RUNNING, status=FAILED, error=type(error).__name__)
        except Exception:  # the database is gone too: the reaper fails the job later
            log.exception("job %s: its failure could not be recorded", job_id)
        raise
    if not _finish(engine, job_id, RUNNING, status=DONE):
        log.warning("job %s was marked failed before it finished: its file is not offered", job_id)


def keep_time() -> timedelta:
    return timedelta(minutes=int(current_app.config["EXPORT_KEEP_MINUTES"]))


def counted(rows: Iterable, report: Callable[[int], None], total: int) -> Iterator:
    """``rows``, reporting progress about a hundred times over ``total`` (not per row), and
    at least every ``JOB_HEARTBEAT_SECONDS`` while rows come (the job's heartbeat)."""
    step = max(500, total // 100)
    every = int(current_app.config["JOB_HEARTBEAT_SECONDS"])
    last = time.monotonic()
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % step == 0 or time.monotonic() - last >= every:
            report(done)
            last = time.monotonic()
    report(done)


def own(session: Session, user_id: int, job_id: str) -> Job | None:
    """The job ``job_id`` if ``user_id`` asked for it; else None (another account's job is
    as absent as one that never existed). An expired job is still its requester's: its
    page says so and offers the export again."""
    if not (isinstance(job_id, str) and len(job_id) == 32 and job_id.isalnum()):
        return None
    job = session.get(Job, job_id)
    if job is None or job.user_id != user_id:
        return None
    return job


def file_ready(job: Job) -> bool:
    """Whether the job's file can be downloaded: done, not expired, and still on disk
    (a shared ``JOBS_DIR`` that is not shared, or a clean-up, loses it)."""
    if job.status != DONE or job.expires_at is None or job.expires_at <= utcnow():
        return False
    return os.path.exists(file_path(job))


def recent(session: Session, user_id: int, limit: int = 20) -> list[Job]:
    """The account's jobs still recorded, newest first."""
    stmt = select(Job).where(Job.user_id == user_id).order_by(Job.created_at.desc()).limit(limit)
    return list(session.scalars(stmt))


def purge(session: Session) -> int:
    """Remove the files of the jobs whose time is over (their rows become ``EXPIRED``) and,
    ``RECORD_KEEP`` later, the rows; return how many files' jobs expired. The caller
    commits."""
    now = utcnow()
    ended = select(Job).where(Job.status != EXPIRED, Job.expires_at <= now)
    expired = list(session.scalars(ended))
    for job in expired:
        _remove_file(job)
        job.status = EXPIRED
    # A job never finished (nothing reaped it) goes once it could no longer be running.
    lost = now - RECORD_KEEP - keep_time() - timedelta(seconds=JOB_TIMEOUT_SECONDS)
    old = select(Job).where((Job.expires_at <= now - RECORD_KEEP) | (Job.created_at <= lost))
    for job in session.scalars(old):
        _remove_file(job)
        session.delete(job)
    return len(expired)


def _remove_file(job: Job) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(file_path(job))
