"""导出任务 (/admin/jobs/): exports too large for one request, run as background jobs.

A list export above ``EXPORT_BACKGROUND_ROWS`` rows does not stream: a job is queued
(``jobs.submit``) with the list's arguments (its sort, search and filters), builds the
list as its requester (the account's scope, as for any export) and reads it from a
server-side cursor (``export_job``); the account is sent to the job's page: a progress
bar that refreshes itself, then the download link. Only the account that asked
sees the page or the file (any other: 404), until ``EXPORT_KEEP_MINUTES`` after the end.

A job that cannot give its file says why in words and offers 重新导出 (a POST that asks
for the same list export again, as the same account): its process stopped (the reaper
failed it; shown at once when the page finds it stale), the queue was down, the file
expired or was lost. When Redis is down at the request a larger export is refused on the
list page with a message, never a 500 or a job left waiting.
"""

from __future__ import annotations

from array import array
from collections.abc import Sized
from urllib.parse import urlencode

from flask import current_app, flash, g, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

import exports
import jobs
import jobs.reaper
from admin_views.base import ScopedModelView, account
from extensions import db
from models import Job, User

# Seconds between two refreshes of a running job's page.
REFRESH_SECONDS = 2
# Rows (or ids) a job's server-side cursor hands over at a time.
STREAM_ROWS = 2000


def wants_background(count: int) -> bool:
    limit = int(current_app.config.get("EXPORT_BACKGROUND_ROWS") or 0)
    return bool(limit) and count > limit


def start_export(view, export_type: str, rows: int | Sized):
    """Queue the export of the current list (``rows``: its count, or its ids) and send the
    account to the job's page. The job is given the list's arguments (its sort, search and
    filters), not its ids: it reads the rows itself, streamed, within the requester's
    scope. When the job cannot run now (Redis down, too large for the web process), the
    account stays on its list with a message."""
    user = account()
    total = rows if isinstance(rows, int) else len(rows)
    list_args = urlencode(list(request.args.items(multi=True)))
    job = jobs.create(
        db.session,
        user_id=user.id,
        view=view.endpoint,
        kind=export_type,
        filename=view.export_filename(export_type),
        total=total,
        list_args=list_args,
    )
    jobs.purge(db.session)
    db.session.commit()
    job_id = job.id
    if jobs.submit(db.engine, job_id, total, export_job, job_id, list_args) is None:
        flash(
            gettext(
                "Background exports are unavailable at the moment, please try again later;"
                " or narrow the list with a filter to at most %(rows)s rows and export again.",
                rows=current_app.config["EXPORT_FALLBACK_ROWS"],
            ),
            "error",
        )
        return redirect(view.get_url(".index_view", **request.args))
    flash(
        gettext(
            "%(count)s rows: the export runs in the background; download it here when it is done.",
            count=total,
        ),
        "info",
    )
    return redirect(url_for("jobs.status", job_id=job_id))


def _view(endpoint: str):
    admin = current_app.extensions["admin"][0]
    return next(v for v in admin._views if v.endpoint == endpoint)


def _reads_objects(view) -> bool:
    """Whether the view exports ORM objects through the stock loader (then the list's own
    query yields them, in one SELECT) rather than rows of a loader of its own."""
    stock = ScopedModelView
    return (
        type(view).export_loader is stock.export_loader
        and type(view).export_rows is stock.export_rows
    )


def export_job(job_id: str, list_args: str) -> None:
    """The job: the list of ``list_args`` (its sort, search, filters) as the requester sees
    it (the requester is the current account while the list's query is built), written to
    the job's file. Runs in an application context (the worker's, a thread's or the
    request's).

    There is no client to wait for, so (on PostgreSQL) the rows are read on a connection of
    the job's own, held for the whole export, from a server-side cursor (``yield_per``: a
    few thousand rows in memory at a time, whatever the size): a view exporting ORM objects
    streams its list's query itself, one SELECT; a view with a row loader of its own
    (``export_loader``) streams the list's ids and loads their rows a batch at a time
    (``exports.batched_rows``). Either way the file is the one the request would stream.
    """
    job = db.session.get(Job, job_id)
    if job is None or job.status != jobs.QUEUED:
        return  # failed by the reaper, or removed, before a worker took it
    user = db.session.get(User, job.user_id)
    view = _view(job.view)
    path = jobs.file_path(job)
    kind, filename, total = job.kind, job.filename, job.total
    with current_app.test_request_context(f"/?{list_args}"):
        # The view's scope reads the current account: the requester's, not a login.
        g._login_user = user
        sort, descending, search, filters = view.list_state()
        _, query = view.get_list(0, sort, descending, search, filters, execute=False, page_size=0)
        # SQLite (without WAL) lets no one write while a read is open, the job's own
        # progress included: there the ids are read at once (into a compact array) and the
        # rows a batch per short transaction, as in the request.
        streaming = db.engine.dialect.name != "sqlite"
        objects = streaming and _reads_objects(view)
        statement = query.statement if objects else query.with_entities(view.model.id).statement
        load = None if objects else view.export_loader()
        headers = [str(header) for _, header in view.export_columns]
    db.session.rollback()

    def work(report) -> None:
        with db.engine.connect() as connection, Session(connection) as session:
            stream = {"yield_per": STREAM_ROWS}
            if objects:
                rows = view.export_rows(session.scalars(statement, execution_options=stream))
            elif streaming:
                ids = connection.execute(statement, execution_options=stream).scalars()
                rows = exports.batched_rows(db.engine, ids, load, view.export_rows)
            else:
                ids = array("q", connection.execute(statement).scalars())
                connection.rollback()
                rows = exports.batched_rows(db.engine, ids, load, view.export_rows)
            rows = jobs.counted(rows, report, total)
            if kind == "csv":
                exports.write_csv(path, headers, rows, max_rows=0)
            else:
                exports.write_xlsx(path, headers, rows, filename=filename, max_rows=0)

    jobs.run(db.engine, job_id, work)


# Why a job failed without an error of its own, in words; any other error: FAILED_TEXT.
REASONS = {
    jobs.INTERRUPTED: _l("The export was interrupted (its process stopped). Please export again."),
    jobs.NOT_STARTED: _l(
        "The export did not start (no process took it). Please export again;"
        " if this happens again, call the support line."
    ),
    jobs.UNAVAILABLE: _l(
        "Background exports are unavailable at the moment, please try again later."
    ),
}
FAILED_TEXT = _l("The export failed. Try again, or narrow the list with a filter first.")
GONE_TEXT = _l("The file has expired or was deleted. Click Export again for a new one.")


def page_state(job: Job) -> str:
    """What the job's page shows: queued, running, ready (下载), gone or failed (重新导出)."""
    if job.status in (jobs.QUEUED, jobs.RUNNING):
        return job.status
    if job.status == jobs.FAILED:
        return "failed"
    return "ready" if jobs.file_ready(job) else "gone"


class JobsView(BaseView):
    """The account's own background exports: a list, each job's page, its file."""

    def is_accessible(self) -> bool:
        user = account()
        return bool(user is not None and user.is_active)

    def is_visible(self) -> bool:
        return False

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("security.login", next=request.full_path))

    def _own(self, job_id: str) -> Job | None:
        return jobs.own(db.session, account().id, job_id)

    def _missing(self):
        """A 404 about the export (not the panel's, which speaks of projects)."""
        return self.render("admin/job_missing.html", days=jobs.RECORD_KEEP.days), 404

    @expose("/")
    def index(self):
        jobs.reaper.maintain(db.engine, db.session)
        return self.render("admin/jobs.html", jobs=jobs.recent(db.session, account().id))

    def _page(self, job: Job, status: int = 200):
        shown = page_state(job)
        reason = REASONS.get(job.error, FAILED_TEXT) if shown == "failed" else None
        running = shown in (jobs.QUEUED, jobs.RUNNING)
        html = self.render(
            "admin/job.html",
            job=job,
            shown=shown,
            reason=reason,
            gone=GONE_TEXT,
            running=running,
            refresh=REFRESH_SECONDS,
        )
        return html, status

    @expose("/<job_id>/")
    def status(self, job_id: str):
        job = self._own(job_id)
        if job is None:
            return self._missing()
        if jobs.reaper.is_stale(job) and jobs.reaper.reap(db.engine, job.id):
            # Its process is gone: the page says so now, not "exporting" for ever.
            db.session.refresh(job)
        return self._page(job)

    @expose("/<job_id>/download")
    def download(self, job_id: str):
        job = self._own(job_id)
        if job is None:
            return self._missing()
        if not jobs.file_ready(job):
            return self._page(job, 404)
        path = jobs.file_path(job)
        mimetype = exports.CSV_MIMETYPE if job.kind == "csv" else exports.XLSX_MIMETYPE
        response = send_file(path, mimetype=mimetype, as_attachment=True, conditional=False)
        response.headers["Content-Disposition"] = exports.content_disposition(job.filename)
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/<job_id>/again", methods=("POST",))
    def again(self, job_id: str):
        """重新导出: the same list export (its sort, search, filters and file type) asked
        for again by the same account, through the list's own export, which decides anew
        (its bounds, background or not) within the account's present scope."""
        job = self._own(job_id)
        if job is None:
            return self._missing()
        url = url_for(f"{job.view}.export", export_type=job.kind)
        return redirect(f"{url}?{job.list_args}" if job.list_args else url)


def register(admin) -> None:
    jobs.init_app(admin.app)
    admin.add_view(JobsView(name=_l("Background exports"), endpoint="jobs", url="jobs"))
