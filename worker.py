"""The background worker: runs the queued jobs (long exports) when ``REDIS_URL`` is set.

    REDIS_URL=redis://127.0.0.1:6379/0 DATABASE_URL=... SECRET_KEY=... .venv/bin/python -m worker

It builds the application once (same settings as the web workers: database, the jobs'
directory ``JOBS_DIR``, which must be shared with them) and takes jobs from the ``cme``
queue one at a time, in this process (RQ's ``SimpleWorker``: no fork per job, so the
database pool stays valid). Run one or more under the process manager that runs gunicorn.

It outlives Redis: RQ retries a lost connection itself while it waits for a job, but
gives up (the worker returns or raises) when Redis is gone at its start, or vanishes
while a job runs or ends. ``serve`` then builds a new RQ worker on a fresh connection,
after a pause that doubles up to ``MAX_WAIT_SECONDS``, until asked to stop (SIGTERM /
SIGINT). An outage is logged once when it begins and once when it ends (``Outage``), not
at every retry. The job that was running finishes in this process (it needs the database,
not Redis); one whose process died is failed by the reaper, which runs here as RQ's
maintenance step (``ExportWorker.run_maintenance_tasks``, about every
``MAINTENANCE_SECONDS``), besides ``flask --app app periodic`` and the job's page.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested

import jobs
import jobs.reaper
from app import create_app
from extensions import db

log = logging.getLogger("worker")

# How often the reaper (and RQ's own registry clean-up) runs while the worker waits.
MAINTENANCE_SECONDS = 60
# RQ waits for a job this long at a time (its worker_ttl less 15 s): the maintenance step
# is checked between two waits, so this bounds how late it runs.
WORKER_TTL_SECONDS = MAINTENANCE_SECONDS + 15
# Longest pause between two attempts to reach Redis.
MAX_WAIT_SECONDS = 30
# RQ's line for each retry while Redis is down (the dequeue loop and the pubsub thread).
RQ_RETRY_LINE = "could not connect to Redis"


class Outage:
    """Redis out of reach: one log line when it begins, one when it ends, and the pause
    before the next attempt (doubling from one second to ``MAX_WAIT_SECONDS``).

    Also a logging filter for RQ's logger: RQ logs each of its own retries, and a
    traceback when Redis fails under a job; those lines are dropped, and the first one
    (from the worker's main thread) marks the outage."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.wait = 1.0

    def began(self, error: object) -> None:
        if self.since is None:
            self.since = time.monotonic()
            self.wait = 1.0
            log.error("Redis cannot be reached (%s); retrying until it is back", error)

    def ended(self) -> None:
        if self.since is not None:
            log.warning("Redis reachable again after %.0f s", time.monotonic() - self.since)
            self.since = None
            self.wait = 1.0

    def pause(self) -> float:
        wait, self.wait = self.wait, min(self.wait * 2, MAX_WAIT_SECONDS)
        return wait

    def filter(self, record: logging.LogRecord) -> bool:
        error = _redis_error(record)
        if error is None:
            return True
        if threading.current_thread() is threading.main_thread():
            self.began(error)
        return False


def _redis_error(record: logging.LogRecord) -> object | None:
    """The Redis error an RQ log line is about (its exception, or one of its arguments),
    or its retry line's error; None for any other line."""
    if record.exc_info and isinstance(record.exc_info[1], RedisError):
        return record.exc_info[1]
    args = record.args if isinstance(record.args, tuple) else ()
    error = next((arg for arg in args if isinstance(arg, RedisError)), None)
    if error is None and RQ_RETRY_LINE in str(record.msg):
        return args[-2] if len(args) >= 2 else "?"
    return error


class ExportWorker(SimpleWorker):
    """RQ's SimpleWorker with our jobs' reaper in its maintenance step, and a heartbeat
    that tells the outage it is over."""

    outage: Outage
    stopping = False

    def run_maintenance_tasks(self):
        try:
            failed, expired = jobs.reaper.maintain(db.engine, db.session)
            if failed or expired:
                log.info("jobs: %d failed (process gone), %d files expired", failed, expired)
        except Exception:  # a database blip must not stop the worker: next time
            db.session.rollback()
            log.exception("the jobs' maintenance failed")
        super().run_maintenance_tasks()

    def heartbeat(self, timeout=None, pipeline=None):
        super().heartbeat(timeout, pipeline)
        if pipeline is None:  # sent: Redis answers
            self.outage.ended()

    def request_stop(self, signum, frame):
        self.stopping = True
        super().request_stop(signum, frame)


def build_worker(url: str, outage: Outage) -> ExportWorker:
    """A worker on a fresh connection (a pool of the old one may hold dead sockets)."""
    connection = Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
    worker = ExportWorker(
        [Queue(jobs.QUEUE, connection=connection)],
        connection=connection,
        worker_ttl=WORKER_TTL_SECONDS,
        maintenance_interval=MAINTENANCE_SECONDS,
    )
    worker.outage = outage
    return worker


def _dispose(worker: ExportWorker) -> None:
    """Stop what a worker that gave up left running: its pubsub thread (which would retry
    every two seconds for ever) and its connections."""
    thread = getattr(worker, "pubsub_thread", None)
    if thread is not None:
        thread.stop()
    with contextlib.suppress(Exception):
        worker.connection.close()


def serve(url: str) -> None:
    """Run RQ workers one after the other until a stop is asked for (see the module)."""
    outage = Outage()
    logging.getLogger("rq.worker").addFilter(outage.filter)
    while True:
        worker = None
        try:
            worker = build_worker(url, outage)  # it names its connection: Redis already
            worker.work(with_scheduler=False)
        except RedisError as error:
            outage.began(error)
        except StopRequested:
            return
        finally:
            if worker is not None:
                _dispose(worker)
        if worker is not None and worker.stopping:
            return
        try:
            _stop_on_signal()
            time.sleep(outage.pause())
        except StopRequested:
            return


def _raise_stop(signum, frame):
    raise StopRequested


def _stop_on_signal() -> None:
    """Between two workers a SIGTERM or SIGINT stops at once (the next worker installs
    RQ's own handlers: a warm stop after the job)."""
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app()
    url = app.config.get("REDIS_URL")
    if not url:
        raise SystemExit("Set REDIS_URL: without Redis the web process runs the jobs itself.")
    with app.app_context():
        serve(url)


if __name__ == "__main__":
    main()
