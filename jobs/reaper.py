"""The reaper: a job whose process is gone is failed, not left "正在导出 4%" for ever.

A worker killed mid-job (``kill -9``, out of memory, a deploy), a gunicorn reload that
takes a job's thread with it, or a database blip during the job's last write leaves its
row ``running``; a web process that died between the row and the queue leaves it
``queued``. Nothing would ever change such a row again. So:

- a ``running`` job whose heartbeat (written with its progress, at least every
  ``JOB_HEARTBEAT_SECONDS``) is older than ``JOB_STALE_SECONDS`` is failed, ``INTERRUPTED``;
- a ``queued`` job that no process took within ``JOB_QUEUED_SECONDS`` is failed,
  ``NOT_STARTED`` (should a worker take it later, ``jobs.run`` skips it).

Each is one UPDATE whose WHERE is the whole condition (compare and set): a job that
finished a moment before is no longer ``running`` and is left alone, and a job the reaper
failed stops at its next progress report. It runs from ``flask --app app periodic``, in
the worker between jobs (RQ's maintenance step, ``worker.py``), and for one job when its
page is shown (``is_stale`` first, so a page that refreshes itself writes nothing while
the job is alive).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, update

from jobs import keep_time, purge
from models import Job, utcnow
from models.job import FAILED, INTERRUPTED, NOT_STARTED, QUEUED, RUNNING

log = logging.getLogger(__name__)


def _bounds(now: datetime) -> tuple[datetime, datetime]:
    """The oldest heartbeat of a live running job, the oldest start of a waiting one."""
    config = current_app.config
    stale = now - timedelta(seconds=int(config["JOB_STALE_SECONDS"]))
    unclaimed = now - timedelta(seconds=int(config["JOB_QUEUED_SECONDS"]))
    return stale, unclaimed


def is_stale(job: Job, now: datetime | None = None) -> bool:
    """Whether ``reap`` would fail ``job`` as it was read."""
    stale, unclaimed = _bounds(now or utcnow())
    if job.status == RUNNING:
        return (job.heartbeat_at or job.created_at) < stale
    return job.status == QUEUED and job.created_at < unclaimed


def reap(engine, job_id: str | None = None) -> int:
    """Fail every job (or only ``job_id``) whose process is gone; return how many."""
    now = utcnow()
    stale, unclaimed = _bounds(now)
    lost = {
        INTERRUPTED: and_(
            Job.status == RUNNING, func.coalesce(Job.heartbeat_at, Job.created_at) < stale
        ),
        NOT_STARTED: and_(Job.status == QUEUED, Job.created_at < unclaimed),
    }
    failed = 0
    with engine.begin() as conn:
        for reason, condition in lost.items():
            stmt = update(Job).where(condition)
            if job_id is not None:
                stmt = stmt.where(Job.id == job_id)
            values = {"status": FAILED, "error": reason, "finished_at": now}
            result = conn.execute(stmt.values(expires_at=now + keep_time(), **values))
            if result.rowcount:
                log.warning("%d background job(s) failed: %s", result.rowcount, reason)
            failed += result.rowcount
    return failed


def maintain(engine, session) -> tuple[int, int]:
    """One pass of the jobs' periodic work, each step committed on its own: fail the jobs
    whose process is gone, then remove the files whose time is over; how many of each."""
    failed = reap(engine)
    expired = purge(session)
    session.commit()
    return failed, expired
