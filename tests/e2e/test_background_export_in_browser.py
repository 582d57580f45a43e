"""A long export as the committee's secretary meets it: the list's 导出 menu takes her to
the job's page, which shows its progress, refreshes itself and then offers the file; the
file holds every project of the list; nobody else reaches the page or the file.

The job runs in a thread of the web process, as under ``make run`` (no Redis); the size
above which an export goes to the background is lowered to two rows for the test."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from models import Project
from permissions import project_visibility

BACKGROUND_SETTINGS = ("EXPORT_BACKGROUND_ROWS", "JOBS_DIR", "JOBS_MODE")


@pytest.fixture
def background(app, tmp_path):
    saved = {key: app.config[key] for key in BACKGROUND_SETTINGS}
    app.config.update(EXPORT_BACKGROUND_ROWS=2, JOBS_DIR=str(tmp_path / "jobs"), JOBS_MODE="thread")
    yield app
    app.config.update(saved)


def test_a_large_export_shows_its_progress_then_its_download(
    background, people, demo_accounts, session
):
    expected = session.scalar(
        select(func.count(Project.id)).where(project_visibility(demo_accounts["bjcme"]))
    )
    assert expected > 2

    committee = people()
    page = committee.page
    committee.login("bjcme")
    committee.go("/admin/audit/?status=all")
    page.locator("button.dropdown-toggle", has_text="导出").click()
    page.locator("a.dropdown-item", has_text="导出 Excel").click()
    page.wait_for_url("**/admin/jobs/*/")
    job_url = page.url
    assert f"共 {expected} 行：导出在后台进行" in page.content()
    assert page.locator("progress#job-progress").count() == 1
    committee.shot("background-export-started")

    # The page reloads itself (static/admin/cme-job.js) until the job is done.
    page.locator("#job-download").wait_for(timeout=30_000)
    assert page.locator("#job-status").inner_text() == f"已完成：共 {expected} 行。"
    assert page.locator("progress#job-progress").get_attribute("value") == "100"
    assert "仅限您本人下载" in page.content()
    committee.shot("background-export-done")
    with page.expect_download() as download:
        page.locator("#job-download").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "项目名称" in rows[0]
    assert len(rows) - 1 == expected

    # Another account, even the society of some of these projects, finds nothing there.
    society = people()
    society.login("bma")
    path = job_url.removeprefix(committee.base)
    assert society.go(path).status == 404
    assert society.go(path + "download").status == 404
    society.shot("background-export-not-yours")
    society.errors = [e for e in society.errors if "404" not in e]
