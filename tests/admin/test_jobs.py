"""Background exports: above EXPORT_BACKGROUND_ROWS rows a list export runs as a job; its
page shows the progress and then the download; only the requester may fetch the file,
and only until it expires. Run in-process (sync and a thread) and on RQ against the Redis
on 127.0.0.1:6379 (a SimpleWorker in this process, burst mode)."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import openpyxl
import pytest
import redis
from sqlalchemy import select

import jobs
from models import Job, utcnow
from tests.admin.conftest import csv_rows, exports_in_background, wait_for_job
from tests.redis_server import require_shared_redis
from tests.refusals import assert_not_found

# A database of its own per pytest-xdist worker (gw0 → 15, gw1 → 14, …): the test
# empties the queue and counts what is on it, which a second worker would disturb.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = f"redis://127.0.0.1:6379/{15 - _WORKER % 16}"
URL = "/admin/audit/export/{kind}/"

# The 404 of an export the account may not see (admin/job_missing.html).
NO_SUCH_EXPORT = "找不到这个导出"


@pytest.fixture
def background(app, tmp_path, monkeypatch):
    """Every export of more than two rows in the background, files in a scratch folder."""
    return exports_in_background(app, monkeypatch, tmp_path, rows=2)


def _start(browser, kind: str = "csv") -> str:
    response = browser.get(URL.format(kind=kind))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/admin/jobs/" in location
    return location.split("/admin/jobs/")[1].strip("/")


def _foreground_csv(browser, app) -> list[list[str]]:
    app.config["EXPORT_BACKGROUND_ROWS"] = 0
    try:
        response = browser.get(URL.format(kind="csv"))
        body = response.get_data()
        response.close()
    finally:
        app.config["EXPORT_BACKGROUND_ROWS"] = 2
    return csv_rows(body)


def test_a_large_export_runs_as_a_job_with_progress_and_download(background, login_as, session):
    browser = login_as("bjcme")
    job_id = _start(browser)
    page = browser.get(f"/admin/jobs/{job_id}/").get_data(as_text=True)
    assert 'id="job-progress"' in page and 'value="100"' in page
    assert "data-refresh-url" not in page  # done: no more refreshing
    download = browser.get(f"/admin/jobs/{job_id}/download")
    assert download.status_code == 200
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    body = download.get_data()
    download.close()
    rows = csv_rows(body)
    assert len(rows) > 3
    # Exactly the file the request itself would have streamed.
    assert rows == _foreground_csv(browser, background)
    job = session.get(Job, job_id)
    assert job.status == jobs.DONE and job.done == job.total == len(rows) - 1
    listing = browser.get("/admin/jobs/").get_data(as_text=True)
    assert job_id in listing


def test_xlsx_job(background, login_as):
    """Above the XLSX bound of a request too: a job is bounded by EXPORT_MAX_ROWS only."""
    saved = background.config["EXPORT_XLSX_MAX_ROWS"]
    background.config["EXPORT_XLSX_MAX_ROWS"] = 1
    browser = login_as("bjcme")
    try:
        job_id = _start(browser, "xlsx")
    finally:
        background.config["EXPORT_XLSX_MAX_ROWS"] = saved
    download = browser.get(f"/admin/jobs/{job_id}/download")
    book = openpyxl.load_workbook(io.BytesIO(download.get_data()))
    download.close()
    sheet = book.active
    assert sheet.max_row > 3 and sheet.freeze_panes == "A2"


def test_only_the_requester_can_see_or_fetch_it(background, login_as, another_browser):
    browser = login_as("bjcme")
    job_id = _start(browser)
    other = another_browser()
    other.login("bma")
    assert_not_found(other.get(f"/admin/jobs/{job_id}/"), NO_SUCH_EXPORT)
    assert_not_found(other.get(f"/admin/jobs/{job_id}/download"), NO_SUCH_EXPORT)
    assert job_id not in other.get("/admin/jobs/").get_data(as_text=True)
    assert_not_found(other.get("/admin/jobs/not-a-job/"), NO_SUCH_EXPORT)
    anonymous = another_browser()
    response = anonymous.get(f"/admin/jobs/{job_id}/download")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    own = browser.get(f"/admin/jobs/{job_id}/download")
    assert own.status_code == 200
    own.close()


def test_an_expired_job_loses_its_file_then_its_record(background, login_as, session):
    """At EXPORT_KEEP_MINUTES the file goes and the page says so (with 重新导出); the row
    goes RECORD_KEEP later, and then the page is a 404 about the export."""
    browser = login_as("bjcme")
    job_id = _start(browser)
    job = session.get(Job, job_id)
    path = os.path.join(background.config["JOBS_DIR"], f"{job_id}.csv")
    assert os.path.exists(path)
    job.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert browser.get(f"/admin/jobs/{job_id}/download").status_code == 404
    browser.get("/admin/jobs/")  # the list purges expired jobs
    assert not os.path.exists(path)
    session.expire_all()
    assert session.get(Job, job_id).status == jobs.EXPIRED
    page = browser.get(f"/admin/jobs/{job_id}/").get_data(as_text=True)
    assert "文件已过期或已删除" in page and 'id="job-again"' in page
    assert 'id="job-download"' not in page
    job = session.get(Job, job_id)
    job.expires_at = utcnow() - jobs.RECORD_KEEP - timedelta(seconds=1)
    session.commit()
    browser.get("/admin/jobs/")
    session.expire_all()
    assert session.get(Job, job_id) is None
    gone = browser.get(f"/admin/jobs/{job_id}/")
    assert gone.status_code == 404 and "找不到这个导出" in gone.get_data(as_text=True)


def test_a_small_export_still_streams(background, login_as):
    background.config["EXPORT_BACKGROUND_ROWS"] = 100_000
    browser = login_as("bjcme")
    response = browser.get(URL.format(kind="csv"))
    assert response.status_code == 200
    response.close()


def test_in_a_thread_without_redis(background, login_as, session):
    background.config["JOBS_MODE"] = "thread"
    browser = login_as("bjcme")
    job_id = _start(browser)
    assert wait_for_job(session, job_id) == jobs.DONE
    download = browser.get(f"/admin/jobs/{job_id}/download")
    assert download.status_code == 200
    download.close()


def test_on_rq_with_a_worker(background, login_as, session):
    require_shared_redis(REDIS_URL)
    from rq import Queue, SimpleWorker

    background.config.update(JOBS_MODE="rq", REDIS_URL=REDIS_URL)
    connection = redis.Redis.from_url(REDIS_URL)
    queue = Queue(jobs.QUEUE, connection=connection)
    queue.empty()
    try:
        browser = login_as("bjcme")
        job_id = _start(browser)
        page = browser.get(f"/admin/jobs/{job_id}/").get_data(as_text=True)
        assert "data-refresh-url" in page  # queued: the page refreshes itself
        assert browser.get(f"/admin/jobs/{job_id}/download").status_code == 404
        assert len(queue) == 1
        with background.app_context():
            SimpleWorker([queue], connection=connection).work(burst=True)
        session.expire_all()
        assert session.get(Job, job_id).status == jobs.DONE
        download = browser.get(f"/admin/jobs/{job_id}/download")
        assert download.status_code == 200
        rows = csv_rows(download.get_data())
        download.close()
        assert rows == _foreground_csv(browser, background)
    finally:
        queue.empty()
        background.config.update(REDIS_URL=None)


def _body(browser, url: str) -> bytes:
    response = browser.get(url)
    assert response.status_code == 200, response.status_code
    body = response.get_data()
    response.close()
    return body


def _job_file(browser, url: str) -> bytes:
    response = browser.get(url)
    assert response.status_code == 302 and "/admin/jobs/" in response.headers["Location"]
    job_id = response.headers["Location"].split("/admin/jobs/")[1].strip("/")
    return _body(browser, f"/admin/jobs/{job_id}/download")


@pytest.mark.parametrize(
    ("endpoint", "query"),
    [
        # 项目审核 (rows of its own loader): filtered to 已公布, sorted by name, descending.
        ("audit", "flt1_1=published&sort=2&desc=1"),
        ("audit", "flt0_0=2025"),
        # 安全日志 (ORM objects through the stock loader: the list's own query, one SELECT).
        ("security-log", "sort=0"),
    ],
)
def test_a_streamed_job_writes_the_bytes_the_request_streams(background, login_as, endpoint, query):
    """The job reads the list itself (its sort and filters, the requester's scope) from a
    server-side cursor; its file is byte for byte the request's."""
    browser = login_as("bjcme")
    for _ in range(3):  # a few more security-log lines than the two-row threshold
        browser.get("/admin/")
    url = f"/admin/{endpoint}/export/csv/?{query}"
    job = _job_file(browser, url)
    background.config["EXPORT_BACKGROUND_ROWS"] = 0
    streamed = _body(browser, url)
    assert job == streamed
    assert len(csv_rows(job)) > 3
    assert csv_rows(job)[1:] != sorted(csv_rows(job)[1:])  # not in some accidental order


def test_a_job_sees_only_the_requesters_scope(background, login_as, another_browser):
    """A job builds its list as its requester: a society's holds its own projects only."""
    committee = login_as("bjcme")
    everything = csv_rows(_job_file(committee, "/admin/audit/export/csv/?flt1_1=all"))
    society = another_browser()
    society.login("bma")
    own = csv_rows(_job_file(society, "/admin/review/export/csv/?flt1_1=all"))
    background.config["EXPORT_BACKGROUND_ROWS"] = 0
    assert own == csv_rows(_body(society, "/admin/review/export/csv/?flt1_1=all"))
    assert 1 < len(own) < len(everything)


def test_a_long_job_writes_its_progress_while_it_reads(
    background, login_as, session, demo_accounts
):
    """Progress is written (another transaction) while the rows are being read: more rows
    than one progress step (500) and one cursor fetch (STREAM_ROWS). SQLite lets no one
    write during an open read, so there the job must not hold one (it failed with
    "database is locked" when it did)."""
    from sqlalchemy import insert

    from models import Project
    from tests.factories import make_project

    model = make_project(session, demo_accounts["bma_cardio"])
    session.commit()
    table = Project.__table__
    row = dict(session.execute(select(table).where(table.c.id == model.id)).mappings().one())
    del row["id"]
    session.execute(insert(table), [row | {"name": f"进度测试{n}"} for n in range(2600)])
    session.commit()
    browser = login_as("bma_cardio")
    url = "/admin/projects/export/csv/"
    job = _job_file(browser, url)
    session.expire_all()
    done = session.scalars(select(Job.done)).all()
    background.config["EXPORT_BACKGROUND_ROWS"] = 0
    assert job == _body(browser, url)
    assert done == [len(csv_rows(job)) - 1] and done[0] > 2600


def test_the_job_settings_come_from_the_environment(monkeypatch, tmp_path):
    """gunicorn and ``python -m worker`` are configured by their environment: the size above
    which an export runs in the background, how long its file is kept, and the folder
    both read and write (it must be the same for the web workers and the job worker)."""
    from app import create_app

    monkeypatch.setenv("EXPORT_BACKGROUND_ROWS", "5000")
    monkeypatch.setenv("EXPORT_KEEP_MINUTES", "15")
    monkeypatch.setenv("JOBS_DIR", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["EXPORT_BACKGROUND_ROWS"] == 5000
    assert app.config["EXPORT_KEEP_MINUTES"] == 15
    assert app.config["JOBS_DIR"] == str(tmp_path)
    # The application's own configuration still wins (tests, a wsgi file).
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "EXPORT_BACKGROUND_ROWS": 7})
    assert app.config["EXPORT_BACKGROUND_ROWS"] == 7
    # A typo stops the start, naming the variable, instead of keeping the default.
    monkeypatch.setenv("EXPORT_BACKGROUND_ROWS", "2万")
    with pytest.raises(RuntimeError, match="EXPORT_BACKGROUND_ROWS"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_the_heartbeat_settings_come_from_the_environment(monkeypatch):
    """The reaper's bounds are the worker's and gunicorn's environment too; a stale bound
    that a live job's heartbeat could miss stops the start."""
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert (app.config["JOB_HEARTBEAT_SECONDS"], app.config["JOB_STALE_SECONDS"]) == (10, 120)
    for key, value in (
        ("JOB_HEARTBEAT_SECONDS", "5"),
        ("JOB_STALE_SECONDS", "60"),
        ("JOB_QUEUED_SECONDS", "900"),
        ("EXPORT_FALLBACK_ROWS", "1000"),
    ):
        monkeypatch.setenv(key, value)
        assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config[key] == int(value)
    monkeypatch.setenv("JOB_STALE_SECONDS", "12")
    with pytest.raises(RuntimeError, match="JOB_STALE_SECONDS"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
