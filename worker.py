"""The background worker: runs the queued jobs (long exports) when ``REDIS_URL`` is set.

    REDIS_URL=redis://127.0.0.1:6379/0 DATABASE_URL=... SECRET_KEY=... .venv/bin/python -m worker

It builds the application once (same settings as the web workers: database, the jobs'
directory ``JOBS_DIR``, which must be shared with them) and takes jobs from the ``cme``
queue one at a time, in this process (RQ's ``SimpleWorker``: no fork per job, so the
database pool stays valid). Run one or more under the process manager that runs gunicorn.
"""

from __future__ import annotations

from redis import Redis
from rq import Queue, SimpleWorker

import jobs
from app import create_app


def main() -> None:
    app = create_app()
    url = app.config.get("REDIS_URL")
    if not url:
        raise SystemExit("Set REDIS_URL: without Redis the web process runs the jobs itself.")
    with app.app_context():
        connection = Redis.from_url(url)
        worker = SimpleWorker([Queue(jobs.QUEUE, connection=connection)], connection=connection)
        worker.work(with_scheduler=False)


if __name__ == "__main__":
    main()
