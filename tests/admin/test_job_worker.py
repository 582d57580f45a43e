"""The job worker as it runs in production: ``python -m worker`` in a process of its own,
against a redis-server of the test's own on a free port (the shared one on 6379 is never
stopped), on the test's database (both backends).

- A worker killed (``kill -9``) while it runs an export leaves the job ``running``: the
  reaper fails it with its reason, and 重新导出 makes the file on a new worker.
- A worker started while Redis is down, and one whose Redis vanishes while a job runs,
  keeps trying instead of exiting: the job finishes (it needs the database, not Redis)
  and a job asked for after Redis is back is done; each outage is logged once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

import jobs
from extensions import db
from models import Job
from tests.admin.conftest import csv_rows, download_job, job_of, streamed_rows
from tests.smtp_server import free_port

ROOT = Path(__file__).resolve().parents[2]
LIST_ARGS = "flt1_1=published&sort=2&desc=1"
URL = "/admin/audit/export/csv/?" + LIST_ARGS


class RedisServer:
    """``redis-server --port <free> --save ''``: killed as a crash would, started again
    empty on the same port."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            if os.environ.get("CI"):
                pytest.fail("redis-server is not installed (CI installs it)")
            pytest.skip("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        _wait(lambda: _pings(client), 10, "redis-server to start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.1)


@pytest.fixture
def redis_server():
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def on_rq(app, tmp_path, redis_server):
    """Every export of more than two rows a job on the test's Redis."""
    keys = ("EXPORT_BACKGROUND_ROWS", "JOBS_DIR", "JOBS_MODE", "REDIS_URL", "JOB_STALE_SECONDS")
    saved = {k: app.config[k] for k in keys}
    app.config.update(
        EXPORT_BACKGROUND_ROWS=2,
        JOBS_DIR=str(tmp_path / "jobs"),
        JOBS_MODE="rq",
        REDIS_URL=redis_server.url,
    )
    yield app
    app.config.update(saved)


class Worker:
    """``python -m worker`` with the test's database, Redis and jobs' folder."""

    def __init__(self, app, log: Path, **environment: str) -> None:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
            REDIS_URL=app.config["REDIS_URL"],
            JOBS_DIR=app.config["JOBS_DIR"],
            PYTHONUNBUFFERED="1",
            **environment,
        )
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "worker"], cwd=ROOT, env=env, stdout=out, stderr=out
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.process.kill()  # SIGKILL: no clean-up of any kind
        self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start(app, **environment) -> Worker:
        worker = Worker(app, tmp_path / f"worker{len(started)}.log", **environment)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


def _status(job_id: str) -> str | None:
    with db.engine.connect() as connection:
        return connection.scalar(select(Job.status).where(Job.id == job_id))


def _wait_status(job_id: str, wanted: str, worker: Worker, seconds: float = 90) -> None:
    def reached() -> bool:
        assert worker.alive(), worker.output()[-3000:]
        return _status(job_id) == wanted

    _wait(reached, seconds, f"job {job_id} {wanted}; worker log:\n{worker.output()[-3000:]}")


def test_a_worker_killed_mid_job_is_reaped_and_export_again_works(
    on_rq, login_as, redis_server, workers
):
    redis_server.start()
    browser = login_as("bjcme")
    # The job pauses once started (JOBS_TEST_PAUSE_SECONDS): it is killed while it runs.
    first = workers(on_rq, JOBS_TEST_PAUSE_SECONDS="600")
    job_id = job_of(browser.get(URL))
    _wait_status(job_id, jobs.RUNNING, first)
    first.kill()
    page = browser.get(f"/admin/jobs/{job_id}/").get_data(as_text=True)
    assert "正在导出" in page  # its heartbeat is still recent
    on_rq.config["JOB_STALE_SECONDS"] = 1
    time.sleep(1.5)
    page = browser.get(f"/admin/jobs/{job_id}/").get_data(as_text=True)
    assert "导出中断（处理进程已停止），请重新导出。" in page
    assert "正在导出" not in page and 'id="job-again"' in page
    again = browser.post(f"/admin/jobs/{job_id}/again", token_from=f"/admin/jobs/{job_id}/")
    new_id = job_of(browser.get(again.headers["Location"]))
    second = workers(on_rq)
    _wait_status(new_id, jobs.DONE, second)
    assert csv_rows(download_job(browser, new_id)) == streamed_rows(browser, on_rq, URL)
    assert _status(job_id) == jobs.FAILED  # the new worker did not revive the old job


def test_the_worker_outlives_redis_at_its_start_and_during_a_job(
    on_rq, login_as, redis_server, workers
):
    browser = login_as("bjcme")
    # Each job pauses 3 s once started, so that Redis can vanish while it runs.
    worker = workers(on_rq, JOBS_TEST_PAUSE_SECONDS="3")
    _wait(lambda: "Redis cannot be reached" in worker.output(), 60, "the worker to start")
    time.sleep(2)  # it keeps trying
    assert worker.alive(), worker.output()
    redis_server.start()
    during = job_of(browser.get(URL))
    _wait_status(during, jobs.RUNNING, worker)
    redis_server.stop()  # while the job runs
    _wait_status(during, jobs.DONE, worker)
    time.sleep(2)
    assert worker.alive(), worker.output()
    redis_server.start()  # empty, on the same port
    after = job_of(browser.get(URL))
    _wait_status(after, jobs.DONE, worker)
    expected = streamed_rows(browser, on_rq, URL)
    assert csv_rows(download_job(browser, during)) == expected
    assert csv_rows(download_job(browser, after)) == expected
    log = worker.output()
    # Once per outage (at its start, during the job), not once per retry.
    assert log.count("Redis cannot be reached") == 2, log
    assert log.count("Redis reachable again") == 2, log
    assert "could not connect to Redis" not in log and "Traceback" not in log, log
    worker.process.terminate()  # SIGTERM (the process manager's stop): it ends, cleanly
    assert worker.process.wait(timeout=15) == 0, worker.output()
