"""A background export is built from its arguments, not from a faked request (issue 22,
item 2): the job is given the account's id, the view and the list's query string; it
loads the account and builds the list through the same function as the request
(``ExportMixin.list_query``), with every scope given the account explicitly. Its file has
exactly the rows the list page shows, for each role, with a filter and a search; and no
request context exists while the job runs (``jobs.submit`` runs even "sync" jobs in a
thread of their own)."""

from __future__ import annotations

import re

import pytest
from flask import has_request_context, request
from werkzeug.datastructures import MultiDict

import exports
from models import Project
from models.vocabulary import label
from tests.admin.conftest import audit_csv_job, csv_rows, exports_in_background

# (account, its project list, a filter of the builder and its value, a search): each keeps
# some of the account's rows and leaves others out.
CASES = [
    ("bjcme", "audit", "state", "published", "2025"),
    ("bma", "review", "level", "society_i", "2025"),
    ("bma_cardio", "projects", "year", "2025", "2025"),
]


def _filter_arg(app, endpoint: str, key: str) -> str:
    """The filter's query argument as the list's filter builder writes it."""
    view = app.extensions["admin"][0].panel_views[endpoint]
    index = view.FILTER_KEYS.index(key)
    return f"flt0_{view.get_filter_arg(index, view.filter_list()[index])}"


@pytest.fixture
def background(app, tmp_path, monkeypatch):
    """Every export of more than one row in the background ("sync": the request waits)."""
    return exports_in_background(app, monkeypatch, tmp_path, rows=1)


@pytest.fixture
def job_contexts(monkeypatch):
    """What the job saw while it wrote its file: whether a request context existed."""
    seen: list[bool] = []
    write_csv = exports.write_csv

    def recording(*args, **kwargs):
        seen.append(has_request_context())
        return write_csv(*args, **kwargs)

    monkeypatch.setattr(exports, "write_csv", recording)
    return seen


def _listed_ids(browser, endpoint: str, query: str) -> list[int]:
    page = browser.get(f"/admin/{endpoint}/?{query}&page_size=200")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return [int(key) for key in re.findall(r'name="rowid"[^>]*value="(\d+)"', html)]


def _job_file(browser, url: str) -> list[list[str]]:
    response = browser.get(url)
    assert response.status_code == 302, response.status_code
    assert "/admin/jobs/" in response.headers["Location"]
    job_id = response.headers["Location"].split("/admin/jobs/")[1].strip("/")
    download = browser.get(f"/admin/jobs/{job_id}/download")
    assert download.status_code == 200, download.get_data(as_text=True)[:300]
    body = download.get_data()
    download.close()
    return csv_rows(body)


@pytest.mark.parametrize(("username", "endpoint", "key", "value", "search"), CASES)
def test_the_job_file_has_the_rows_the_list_shows(
    background, login_as, session, job_contexts, username, endpoint, key, value, search
):
    query = f"status=all&{_filter_arg(background, endpoint, key)}={value}&search={search}"
    browser = login_as(username)
    shown = _listed_ids(browser, endpoint, query)
    everything = _listed_ids(browser, endpoint, "status=all")
    assert 1 < len(shown) < len(everything), (len(shown), len(everything))
    rows = _job_file(browser, f"/admin/{endpoint}/export/csv/?{query}")
    header, body = rows[0], rows[1:]
    column = header.index(str(label("project_no")))
    numbers = dict(
        session.execute(
            Project.__table__.select().with_only_columns(Project.id, Project.project_no)
        ).all()
    )
    assert [row[column] for row in body] == [numbers[key] or "" for key in shown]
    assert job_contexts == [False]  # the job wrote its file, with no request around it


def test_the_state_is_read_from_arguments_as_flask_admin_reads_the_request(app, demo_accounts):
    """``list_state_from`` (no request needed) parses sort, search and filters as
    Flask-Admin's own ``_get_list_extra_args`` parses a request's."""
    view = app.extensions["admin"][0].panel_views["security_log"]
    event, unit = (view.get_filter_arg(i, f) for i, f in enumerate(view.filter_list()))
    unit_id = demo_accounts["bma"].unit_id
    query = (
        f"flt1_{unit}={unit_id}&flt0_{event}=login&flt2_{event}=%E2%80%94&sort=1&desc=1&search=x"
    )
    with app.test_request_context(f"/admin/security-log/?{query}"):
        stock = view._get_list_extra_args()
        ours = view.bound_to(demo_accounts["bjcme"]).list_state_from(MultiDict(request.args))
        sort = view._get_column_by_idx(stock.sort)[0]
    assert ours == (sort, stock.sort_desc, stock.search, stock.filters)
    assert len(ours.filters) == 2 and ours.search == "x" and ours.descending == 1


def test_a_job_refuses_to_run_inside_a_request(app, demo_accounts, session):
    """The guard: a job called inside a request is refused before it reads anything."""
    from admin_views.exporting import NoRequestAllowed, export_job

    job = audit_csv_job(session, demo_accounts["bjcme"].id, 3)
    session.commit()
    with app.test_request_context("/"), pytest.raises(NoRequestAllowed):
        export_job(job.id, demo_accounts["bjcme"].id, "audit", "")


@pytest.mark.parametrize("whose", ["deactivated", "another account"])
def test_a_job_of_an_account_gone_or_not_its_own_fails(
    app, demo_accounts, session, tmp_path, monkeypatch, whose
):
    """The job resolves its account from the id it was given: an account deactivated
    since (or an id that is not the job's requester's) gets no file, the job fails."""
    import jobs
    from admin_views.exporting import AccountGone, export_job
    from models import Job

    monkeypatch.setitem(app.config, "JOBS_DIR", str(tmp_path))
    owner = demo_accounts["bjcme"]
    job = audit_csv_job(session, owner.id, 3)
    given = owner.id if whose == "deactivated" else demo_accounts["bma"].id
    if whose == "deactivated":
        owner.active = False
    session.commit()
    job_id = job.id
    with pytest.raises(AccountGone):
        export_job(job_id, given, "audit", "")
    session.expire_all()
    assert (session.get(Job, job_id).status, session.get(Job, job_id).error) == (
        jobs.FAILED,
        "AccountGone",
    )
    assert not (tmp_path / f"{job_id}.csv").exists()
