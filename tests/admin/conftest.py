"""Fixtures for the admin panel: a real test client, CSRF tokens taken from
the pages as a browser would, and ``login_as`` for the demo accounts."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

import jobs
from demo import DEMO_PASSWORD
from models import ProjectState
from tests.factories import make_project
from workflow import execution

# Any <input> named csrf_token, whatever the order of its attributes.
TOKEN_INPUT = re.compile(r"<input[^>]*name=\"csrf_token\"[^>]*>")
VALUE = re.compile(r'value="([^"]+)"')


def csrf_from(html: str) -> str:
    tag = TOKEN_INPUT.search(html)
    assert tag, "the page carries no CSRF token"
    return VALUE.search(tag.group(0)).group(1)


class Browser:
    """A test client that logs in through the real login form."""

    def __init__(self, client):
        self.client = client

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def token(self, url: str = "/login") -> str:
        return csrf_from(self.client.get(url).get_data(as_text=True))

    def post(self, url, data=None, *, token_from: str | None = None, **kwargs):
        """POST with the CSRF token of the page at ``token_from`` (default: ``url``)."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.token(token_from or url))
        return self.client.post(url, data=data, **kwargs)

    def login(self, username: str, password: str = DEMO_PASSWORD):
        response = self.post("/login", {"username": username, "password": password})
        return response

    def logout(self):
        return self.post("/logout", token_from="/admin/")


def exports_in_background(app, monkeypatch, folder, rows: int = 2):
    """Every export of more than ``rows`` rows becomes a background job, run within the
    request ("sync"), its file in ``folder``; ``monkeypatch`` puts the settings back."""
    settings = {"EXPORT_BACKGROUND_ROWS": rows, "JOBS_DIR": str(folder), "JOBS_MODE": "sync"}
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    return app


def csv_rows(body: bytes) -> list[list[str]]:
    """A CSV export's rows (Excel's BOM dropped)."""
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def job_of(response) -> str:
    """The id of the job a list's export redirected to."""
    assert response.status_code == 302, response.status_code
    assert "/admin/jobs/" in response.headers["Location"]
    return response.headers["Location"].split("/admin/jobs/")[1].strip("/")


def download_job(browser, job_id: str) -> bytes:
    response = browser.get(f"/admin/jobs/{job_id}/download")
    assert response.status_code == 200, response.status_code
    body = response.get_data()
    response.close()
    return body


def streamed_rows(browser, app, url: str) -> list[list[str]]:
    """The rows of ``url``'s export streamed in the request (no background job), to
    compare a job's file with."""
    kept = app.config["EXPORT_BACKGROUND_ROWS"]
    app.config["EXPORT_BACKGROUND_ROWS"] = 0
    try:
        response = browser.get(url)
        body = response.get_data()
        response.close()
    finally:
        app.config["EXPORT_BACKGROUND_ROWS"] = kept
    return csv_rows(body)


def audit_csv_job(session, user_id: int, total: int, **fields):
    """A queued CSV export job of 项目审核 (the committee's list) for ``user_id``, as the
    list's export creates it; ``fields`` as ``jobs.create`` takes them."""
    fields = {"filename": "x.csv"} | fields
    return jobs.create(session, user_id=user_id, view="audit", kind="csv", total=total, **fields)


def wait_for_job(session, job_id: str, seconds: float = 30) -> str:
    """The job's status once it is done or failed (or when ``seconds`` have passed)."""
    from models import Job

    deadline = time.monotonic() + seconds
    while True:
        session.expire_all()
        status = session.scalar(select(Job.status).where(Job.id == job_id))
        if status in (jobs.DONE, jobs.FAILED) or time.monotonic() >= deadline:
            return status
        time.sleep(0.1)


@pytest.fixture
def browser(app, demo_accounts) -> Browser:
    """A signed-out ``Browser`` on the demo data; ``login_as`` signs it in."""
    return own_context_browser(app)


@pytest.fixture
def login_as(browser):
    def login(username: str) -> Browser:
        response = browser.login(username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return browser

    return login


class OwnContextClient(FlaskClient):
    """A test client whose every request gets its own app context (``g``,
    Flask-Login's user, Flask-Babel's locale, the database session), as a real
    request does. Flask reuses an app context that is already active, and the
    ``app_on_empty_db`` fixture keeps one active, so with the plain client every request
    of a test (of every client) shares one ``g``."""

    def open(self, *args, **kwargs):
        # A new app context on top of the test's: the request uses it instead
        # of the test's. (Running the request in a copied contextvars.Context
        # would break streamed responses, read after ``open`` returns.)
        with self.application.app_context():
            return super().open(*args, **kwargs)


def own_context_browser(app) -> Browser:
    return Browser(OwnContextClient(app, app.response_class, use_cookies=True))


@pytest.fixture
def another_browser(app, demo_accounts):
    """A factory of further ``Browser``s, each with its own cookies: a second
    person signed in at the same time. Each request has its own app context:
    commit before a request; ``expire_all`` before reading what it changed."""

    def make() -> Browser:
        return own_context_browser(app)

    return make


@pytest.fixture
def signed_in(another_browser):
    """Each account its own browser (its own cookies), signed in through the login form."""

    def sign_in(username: str) -> Browser:
        browser = another_browser()
        response = browser.login(username)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return browser

    return sign_in


@pytest.fixture
def branch(login_as) -> Browser:
    """``browser`` signed in as bma_cardio, a branch (an entry unit)."""
    return login_as("bma_cardio")


def post_new_account(browser, unit_id: int, username: str = "new_member", **fields):
    """Post the 账号 form (添加) for a new member of ``unit_id``; ``fields`` on top."""
    data = {
        "username": username,
        "display_name": "新成员",
        "unit": str(unit_id),
        "phone": "",
        "email": "",
        "password": "given-by-boss-1",
        "password_confirm": "given-by-boss-1",
    } | fields
    return browser.post("/admin/users/new/", data)


@pytest.fixture
def report(demo_accounts, session):
    """A draft execution report of bma_cardio's published project (4 credits), committed."""
    owner = demo_accounts["bma_cardio"]
    project = make_project(session, owner, ProjectState.PUBLISHED, credits=4)
    opened = execution.open_report(session, owner, project)
    session.commit()
    return opened
