"""Background exports that cannot give their file say so and offer 重新导出 (finding 8 of
issue 21): a job whose process stopped (no heartbeat) is failed by the reaper, never left
"正在导出" for ever; Redis down when the export is asked for is never a 500 nor a job left
waiting; a job whose file was deleted says so instead of offering a download that 404s.
The worker process itself (kill -9, Redis restarts) is in tests/test_job_worker.py."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

import jobs
import jobs.reaper
from extensions import db
from models import Job, utcnow
from tests.admin.conftest import (
    audit_csv_job,
    csv_rows,
    download_job,
    exports_in_background,
    job_of,
    streamed_rows,
    wait_for_job,
)
from tests.smtp_server import free_port

LIST_ARGS = "flt1_1=published&sort=2&desc=1"
URL = "/admin/audit/export/csv/?" + LIST_ARGS
INTERRUPTED_TEXT = "导出中断（处理进程已停止），请重新导出。"
UNAVAILABLE_TEXT = "后台导出暂时不可用，请稍后再试"
# The panel's own 404, which speaks of a project.
PROJECT_404 = "该项目不在本单位的列表中"


@pytest.fixture
def background(app, tmp_path, monkeypatch):
    """Every export of more than two rows in the background, run in the request; the
    settings the tests change are put back afterwards too."""
    for key in ("REDIS_URL", "EXPORT_FALLBACK_ROWS", "JOB_STALE_SECONDS", "JOB_HEARTBEAT_SECONDS"):
        monkeypatch.setitem(app.config, key, app.config[key])
    return exports_in_background(app, monkeypatch, tmp_path, rows=2)


def _stuck_job(session, user, **values) -> Job:
    """A job as a killed worker leaves it: running at 4 %, its heartbeat long ago."""
    long_ago = utcnow() - timedelta(minutes=31)
    job = audit_csv_job(session, user.id, 100, filename="项目审核.csv", list_args=LIST_ARGS)
    job.created_at = long_ago
    job.status, job.done, job.heartbeat_at = jobs.RUNNING, 4, long_ago
    for key, value in values.items():
        setattr(job, key, value)
    session.commit()
    return job


def _again(browser, job_id: str):
    """重新导出 as the page's form sends it (with the page's CSRF token)."""
    page = f"/admin/jobs/{job_id}/"
    return browser.post(f"/admin/jobs/{job_id}/again", token_from=page)


def test_a_stuck_job_page_says_interrupted_and_export_again_makes_the_file(
    background, login_as, session, demo_accounts
):
    browser = login_as("bjcme")
    job = _stuck_job(session, demo_accounts["bjcme"])
    page = browser.get(f"/admin/jobs/{job.id}/").get_data(as_text=True)
    assert INTERRUPTED_TEXT in page
    assert "正在导出" not in page and "data-refresh-url" not in page
    assert 'id="job-again"' in page and 'id="job-download"' not in page
    session.expire_all()
    failed = session.get(Job, job.id)
    assert (failed.status, failed.error) == (jobs.FAILED, jobs.INTERRUPTED)
    # The same list (filter, sort) again, as the same account: a new job, its file.
    response = _again(browser, job.id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/audit/export/csv/?" + LIST_ARGS)
    new_id = job_of(browser.get(response.headers["Location"]))
    assert new_id != job.id
    assert csv_rows(download_job(browser, new_id)) == streamed_rows(browser, background, URL)


def test_export_again_needs_the_csrf_token_and_the_requester(
    background, login_as, session, demo_accounts, another_browser
):
    browser = login_as("bjcme")
    job = _stuck_job(session, demo_accounts["bjcme"])
    count = len(session.scalars(select(Job.id)).all())
    assert browser.client.post(f"/admin/jobs/{job.id}/again").status_code == 400
    other = another_browser()
    other.login("bma")
    response = other.post(f"/admin/jobs/{job.id}/again", token_from="/admin/jobs/")
    assert response.status_code == 404
    assert "找不到这个导出" in response.get_data(as_text=True)
    session.expire_all()
    assert len(session.scalars(select(Job.id)).all()) == count


def test_the_reaper_fails_only_jobs_whose_process_is_gone(app_on_empty_db, session, demo_accounts):
    """Running with an old heartbeat, or queued too long: failed, each with its reason. A
    fresh heartbeat, a job just queued, and one that already finished are left alone."""
    now = utcnow()
    stale = now - timedelta(seconds=app_on_empty_db.config["JOB_STALE_SECONDS"] + 5)
    unclaimed = now - timedelta(seconds=app_on_empty_db.config["JOB_QUEUED_SECONDS"] + 5)
    cases = {
        "fresh": (jobs.RUNNING, now - timedelta(seconds=3), now - timedelta(hours=1)),
        "stale": (jobs.RUNNING, stale, now - timedelta(hours=1)),
        "never_beat": (jobs.RUNNING, None, stale),
        "just_queued": (jobs.QUEUED, None, now),
        "waited_too_long": (jobs.QUEUED, None, unclaimed),
        "finished": (jobs.DONE, stale, now - timedelta(hours=1)),
    }
    ids = {}
    for name, (status, heartbeat, created) in cases.items():
        job = audit_csv_job(session, demo_accounts["bjcme"].id, 9)
        job.status, job.heartbeat_at, job.created_at = status, heartbeat, created
        ids[name] = job.id
    session.commit()
    assert jobs.reaper.reap(db.engine) == 3
    session.expire_all()
    found = {
        name: (session.get(Job, i).status, session.get(Job, i).error) for name, i in ids.items()
    }
    assert found == {
        "fresh": (jobs.RUNNING, None),
        "stale": (jobs.FAILED, jobs.INTERRUPTED),
        "never_beat": (jobs.FAILED, jobs.INTERRUPTED),
        "just_queued": (jobs.QUEUED, None),
        "waited_too_long": (jobs.FAILED, jobs.NOT_STARTED),
        "finished": (jobs.DONE, None),
    }
    assert jobs.reaper.reap(db.engine) == 0


def test_a_running_job_beats_while_it_works_and_stops_once_reaped(
    background, session, demo_accounts
):
    """The heartbeat is written with the progress at least every JOB_HEARTBEAT_SECONDS,
    also while too few rows came for a progress step; a job the reaper failed meanwhile
    stops at its next report and stays failed (it never turns "done")."""
    background.config["JOB_HEARTBEAT_SECONDS"] = 1
    job = audit_csv_job(session, demo_accounts["bjcme"].id, 10**6)
    session.commit()
    job_id = job.id
    seen = []

    def heartbeat():
        with db.engine.connect() as connection:
            return connection.scalar(select(Job.heartbeat_at).where(Job.id == job_id))

    def slow_rows():
        for n in range(3):
            seen.append(heartbeat())
            if n == 2:  # its process seems gone: the reaper fails it
                with db.engine.begin() as connection:
                    old = utcnow() - timedelta(hours=1)
                    connection.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=old))
                assert jobs.reaper.reap(db.engine) == 1
            time.sleep(1.05)
            yield n

    def work(report):
        for _ in jobs.counted(slow_rows(), report, 10**6):
            pass

    jobs.run(db.engine, job_id, work)
    assert seen[0] is not None and seen[0] < seen[1] < seen[2]
    session.expire_all()
    job = session.get(Job, job_id)
    assert (job.status, job.error) == (jobs.FAILED, jobs.INTERRUPTED)
    assert job.done == 2  # reported after the first two rows; the third's report failed


def test_a_job_failed_before_any_worker_took_it_is_not_run(
    background, login_as, session, demo_accounts
):
    browser = login_as("bjcme")
    background.config["JOBS_MODE"] = "thread"
    job = _stuck_job(session, demo_accounts["bjcme"], status=jobs.QUEUED, heartbeat_at=None)
    assert jobs.reaper.reap(db.engine) == 1
    from admin_views.exporting import export_job

    # As a worker that takes it from the queue late.
    export_job(job.id, demo_accounts["bjcme"].id, job.view, LIST_ARGS)
    session.expire_all()
    assert session.get(Job, job.id).status == jobs.FAILED
    assert not os.path.exists(os.path.join(background.config["JOBS_DIR"], f"{job.id}.csv"))
    page = browser.get(f"/admin/jobs/{job.id}/").get_data(as_text=True)
    assert "导出没有开始" in page and 'id="job-again"' in page


def _no_queued_rows(session) -> None:
    session.expire_all()
    assert session.scalars(select(Job).where(Job.status == jobs.QUEUED)).all() == []


def test_redis_down_runs_a_moderate_export_in_the_web_process(background, login_as, session):
    """No 500 and no job left waiting: up to EXPORT_FALLBACK_ROWS the export runs in a
    thread of the web process (the same page, the same file)."""
    background.config.update(JOBS_MODE="rq", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    browser = login_as("bjcme")
    job_id = job_of(browser.get(URL))
    assert wait_for_job(session, job_id) == jobs.DONE
    _no_queued_rows(session)
    assert csv_rows(download_job(browser, job_id)) == streamed_rows(browser, background, URL)


def test_redis_down_refuses_a_large_export_on_the_list_page(background, login_as, session):
    """Above EXPORT_FALLBACK_ROWS: back to the list with a Chinese message; the job's row
    is failed at once, not left queued."""
    background.config.update(
        JOBS_MODE="rq", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", EXPORT_FALLBACK_ROWS=2
    )
    browser = login_as("bjcme")
    response = browser.get(URL)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/admin/audit/" in location and "/export/" not in location
    # The list sends its numbered filters on to their named form: the message waits.
    page = browser.get(location, follow_redirects=True)
    assert page.status_code == 200
    assert UNAVAILABLE_TEXT in page.get_data(as_text=True)
    _no_queued_rows(session)
    job = session.scalars(select(Job)).one()
    assert (job.status, job.error) == (jobs.FAILED, jobs.UNAVAILABLE)


def test_a_deleted_file_says_so_and_export_again_makes_a_new_one(background, login_as):
    browser = login_as("bjcme")
    job_id = job_of(browser.get(URL))
    os.remove(os.path.join(background.config["JOBS_DIR"], f"{job_id}.csv"))
    page = browser.get(f"/admin/jobs/{job_id}/").get_data(as_text=True)
    assert "文件已过期或已删除" in page
    assert 'id="job-download"' not in page and 'id="job-again"' in page
    download = browser.get(f"/admin/jobs/{job_id}/download")
    body = download.get_data(as_text=True)
    assert download.status_code == 404
    assert "文件已过期或已删除" in body and PROJECT_404 not in body
    new_id = job_of(browser.get(_again(browser, job_id).headers["Location"]))
    assert csv_rows(download_job(browser, new_id)) == streamed_rows(browser, background, URL)


def test_an_unknown_export_is_a_404_about_the_export(background, login_as):
    browser = login_as("bjcme")
    for url in ("/admin/jobs/" + "0" * 32 + "/", "/admin/jobs/" + "0" * 32 + "/download"):
        response = browser.get(url)
        assert response.status_code == 404
        body = response.get_data(as_text=True)
        assert "找不到这个导出" in body and PROJECT_404 not in body


def test_the_periodic_command_reaps(background, session, demo_accounts):
    job = _stuck_job(session, demo_accounts["bjcme"])
    result = background.test_cli_runner().invoke(args=["periodic"])
    assert result.exit_code == 0, result.output
    assert "1 stopped job(s) marked failed" in result.output
    session.expire_all()
    assert session.get(Job, job.id).status == jobs.FAILED
