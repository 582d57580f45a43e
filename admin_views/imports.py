"""批量导入: an entry unit downloads the template, uploads it filled in, sees the
preview and confirms. The work is ``imports``'; this screen only reads the request,
commits once and shows the result.

Only entry units see it, and every batch is looked up within the account's own
unit: another unit's batch id answers 404 as if it did not exist.
"""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

import exports
import imports
import permissions
import workflow
from admin_views import db_errors
from admin_views.base import account
from admin_views.signed_in import SignedInView
from extensions import db
from models import Discipline

# How many preview rows and errors the page lists (the counts are always whole).
SHOWN_ROWS = 200
SHOWN_ERRORS = 500
# The multipart envelope around the file: the file itself is bounded by
# imports.MAX_UPLOAD_BYTES, checked again on the bytes received.
ENVELOPE_BYTES = 64 * 1024


class ImportView(SignedInView):
    allowed = permissions.can_enter_projects

    @expose("/")
    def index(self):
        return self.render("admin/import_upload.html", max_rows=imports.MAX_ROWS)

    @expose("/template/")
    def template(self):
        # The unit's own committee's active disciplines.
        names = db.session.scalars(
            permissions.committee_disciplines(account()).with_only_columns(Discipline.name)
        ).all()
        data = imports.template.build(account(), list(names))
        name = gettext("Project import template") + ".xlsx"
        return Response(
            data,
            mimetype=exports.XLSX_MIMETYPE,
            headers={"Content-Disposition": exports.content_disposition(name)},
        )

    @expose("/upload/", methods=("POST",))
    def upload(self):
        try:
            filename, data = uploaded_file()
        except imports.FileRefused as refused:
            return self._refused(refused.message)
        try:
            preview = imports.preview(db.session, account(), filename, data, reader_limits())
            db.session.commit()
        except imports.FileRefused as refused:
            db.session.rollback()
            return self._refused(refused.message)
        except Exception as exc:
            db.session.rollback()
            if db_errors.handle_view_exception(exc):
                return redirect(self.get_url(".index"))
            raise
        return redirect(self.get_url(".batch", batch_id=preview.batch.id))

    def _refused(self, message):
        flash(gettext("The file was not imported: %(reason)s", reason=str(message)), "error")
        return redirect(self.get_url(".index"))

    def _batch(self, batch_id):
        try:
            return imports.load(db.session, account(), batch_id)
        except imports.BatchNotFound:
            abort(404)

    @expose("/batch/<id:batch_id>/")
    def batch(self, batch_id):
        batch = self._batch(batch_id)
        try:
            plan = imports.plan_of(db.session, account(), batch)
        except imports.FileRefused as refused:
            return self._refused(refused.message)
        return self.render(
            "admin/import_preview.html",
            batch=batch,
            plan=plan,
            imported=batch.status == imports.BatchStatus.IMPORTED,
            rows=plan.rows[:SHOWN_ROWS],
            errors=plan.errors[:SHOWN_ERRORS],
            shown_rows=SHOWN_ROWS,
            shown_errors=SHOWN_ERRORS,
        )

    @expose("/batch/<id:batch_id>/confirm/", methods=("POST",))
    def confirm(self, batch_id):
        self._batch(batch_id)

        def write():
            batch = imports.confirm(db.session, account(), batch_id)
            return batch.added, batch.updated

        counts, refused = confirm_batch(write, self.get_url(".batch", batch_id=batch_id))
        if refused is not None:
            return refused
        added, updated = counts
        flash(
            gettext(
                "Imported: %(added)s projects added, %(updated)s updated."
                " They are not reported yet: report them from My projects.",
                added=added,
                updated=updated,
            ),
            "success",
        )
        return redirect(url_for("projects.index_view"))


def confirm_batch(confirm, back_url: str) -> tuple:
    """An import batch confirmed (``confirm()``, which writes it and says what it did,
    read before the commit) and committed: (what it said, None); or (None, the answer
    instead): 404 for a batch gone, else back to ``back_url`` with the refusal or the
    database's error in Chinese."""
    try:
        done = confirm()
        db.session.commit()
    except imports.BatchNotFound:
        db.session.rollback()
        abort(404)
    except (imports.ImportRefused, workflow.WorkflowError) as refused:
        db.session.rollback()
        flash(str(getattr(refused, "message", refused)), "error")
        return None, redirect(back_url)
    except Exception as exc:
        db.session.rollback()
        if db_errors.handle_view_exception(exc):
            return None, redirect(back_url)
        raise
    return done, None


def uploaded_file() -> tuple[str, bytes]:
    """The request's file (field ``file``) as its name and bytes, read no further than
    an upload may be; ``FileRefused`` when there is none or it is too large. Only the
    routes that take a file call it: their body may be that large, no other's."""
    request.max_content_length = imports.MAX_UPLOAD_BYTES + ENVELOPE_BYTES
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise imports.FileRefused(imports.reader.too_large()) from None
    if upload is None or not upload.filename:
        raise imports.FileRefused(_l("Choose a file to upload."))
    return upload.filename, upload.stream.read(imports.MAX_UPLOAD_BYTES + 1)


def reader_limits() -> imports.Limits:
    """The child process that reads an upload: its address space in MB and its seconds
    (IMPORT_READ_MEMORY_MB, IMPORT_READ_SECONDS; docs/security.md)."""
    return imports.Limits(
        memory_mb=current_app.config["IMPORT_READ_MEMORY_MB"],
        seconds=current_app.config["IMPORT_READ_SECONDS"],
    )


def register(admin) -> None:
    admin.add_view(ImportView(name=_l("Batch import"), endpoint="imports", url="import"))
