"""导出任务 (/admin/jobs/): exports too large for one request, run as background jobs.

A list export above ``EXPORT_BACKGROUND_ROWS`` rows does not stream: a job is queued
(``jobs.submit``) with the list's arguments (its sort, search and filters), builds the
list as its requester (the account's scope, as for any export) and reads it from a
server-side cursor (``admin_views.exporting``); the account is sent to the job's page:
a progress bar that refreshes itself, then the download link. Only the account that asked
sees the page or the file (any other: 404), until ``EXPORT_KEEP_MINUTES`` after the end.

A job that cannot give its file says why in words and offers 重新导出 (a POST that asks
for the same list export again, as the same account): its process stopped (the reaper
failed it; shown at once when the page finds it stale), the queue was down, the file
expired or was lost. When Redis is down at the request a larger export is refused on the
list page with a message, never a 500 or a job left waiting.
"""

from __future__ import annotations

from flask import redirect, send_file, url_for
from flask_admin import expose
from flask_babel import lazy_gettext as _l

import exports
import jobs
import jobs.reaper
from admin_views.base import account
from admin_views.signed_in import SignedInView
from extensions import db
from models import Job

# A job's file type by its kind (a list's CSV or XLSX; a report's certificates as a ZIP).
MIMETYPES = {"csv": exports.CSV_MIMETYPE, "xlsx": exports.XLSX_MIMETYPE, "zip": "application/zip"}

# Seconds between two refreshes of a running job's page.
REFRESH_SECONDS = 2

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


class JobsView(SignedInView):
    """The account's own background exports: a list, each job's page, its file."""

    in_menu = False  # reached from a list's export, not the menu

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
        mimetype = MIMETYPES.get(job.kind, exports.XLSX_MIMETYPE)
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
    admin.add_view(JobsView(name=_l("Background exports"), endpoint="jobs", url="jobs"))
