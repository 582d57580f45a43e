"""学员名单导入 and 学员名单导出: one execution report's roster in and out of a spreadsheet.

``/admin/roster-import/<report_id>/`` is the roster's import, the steps of 批量导入
(``admin_views/imports.py``) for one report: the template to download, the upload, the
preview with every row's errors, the all-or-nothing confirmation. The work is
``imports.roster``'s; this screen reads the request, commits once and shows the result.
Only the report's owner unit reaches it, while the report is its to change; any other
account gets 404 as if the report did not exist (``workflow.execution.visible_report``
and the owner relation), the owner of a report reported upward is told why not.

``/admin/roster-import/<report_id>/export.xlsx`` (``.csv``) is the roster's export for
every account of the report's review chain, ID numbers shown as that account may see them
(``workflow.execution.shown_id_number``); each export is written to the security log
(安全日志) with who, which report and how many rows, in the same transaction, before the
file is sent.
"""

from __future__ import annotations

import re

from flask import Response, abort, current_app, flash, redirect, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

import exports
import imports
import permissions
import workflow
from accounts.audit import record
from admin_views import db_errors
from admin_views.base import account
from admin_views.imports import (
    SHOWN_ERRORS,
    SHOWN_ROWS,
    confirm_batch,
    reader_limits,
    uploaded_file,
)
from admin_views.signed_in import SignedInView
from extensions import db
from models import AuditEvent, ExecutionReport, IdType, RosterEntry, rules
from models.vocabulary import chinese
from permissions.relations import OWNERS, relation
from workflow import execution
from workflow.errors import ReportNotFound

EXPORT_FORMATS = ("xlsx", "csv")
ROSTER_FILE = _l("Roster")
# Characters a file name may not hold on Windows (the export's name carries the report's).
FILE_NAME_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
REPORT_DETAILS = "execution.details"
# The security log's detail of an export (stored text, in the product's language).
EXPORT_DETAIL = "执行情况 %(id)s，%(rows)s 行，%(format)s：%(name)s"


def _report(report_id: int) -> ExecutionReport:
    """The report, if the account may see it; else 404."""
    try:
        return execution.visible_report(db.session, account(), report_id)
    except ReportNotFound:
        abort(404)


def _own_report(report_id: int) -> ExecutionReport:
    """The report of the account's own unit; any other account gets 404."""
    report = _report(report_id)
    if relation(account(), report) not in OWNERS:
        abort(404)
    return report


def details_url(report: ExecutionReport) -> str:
    if REPORT_DETAILS in current_app.view_functions:
        return url_for(REPORT_DETAILS, id=report.id)
    return url_for("admin.index")


class RosterImportView(SignedInView):
    """Reached from the report's page (不在菜单中); each report only as said above."""

    in_menu = False

    @expose("/")
    def root(self):
        """No report named: the 执行情况 list (or the dashboard)."""
        for endpoint in ("executions.index_view", "executions.index"):
            if endpoint in current_app.view_functions:
                return redirect(url_for(endpoint))
        return redirect(url_for("admin.index"))

    def _editable(self, report_id: int):
        """(report, None) when the account may change its roster now, else (report, the
        page to go to after saying why)."""
        report = _own_report(report_id)
        refusal = workflow.engine.refusal(
            report, workflow.Action.EDIT, account(), workflow.machines.EXECUTIONS
        )
        if refusal is None:
            return report, None
        flash(
            gettext("The roster cannot be imported now: %(reason)s", reason=str(refusal)),
            "error",
        )
        return report, redirect(details_url(report))

    def _refused(self, report: ExecutionReport, message):
        flash(gettext("The file was not imported: %(reason)s", reason=str(message)), "error")
        return redirect(self.get_url(".index", report_id=report.id))

    # -- import -----------------------------------------------------------------------
    @expose("/<id:report_id>/")
    def index(self, report_id: int):
        report, refused = self._editable(report_id)
        if refused is not None:
            return refused
        return self.render(
            "admin/roster_import_upload.html",
            report=report,
            max_rows=imports.MAX_ROWS,
            back=details_url(report),
            on_roster=execution.roster_count(db.session, report.id),
        )

    @expose("/<id:report_id>/template/")
    def template(self, report_id: int):
        report, refused = self._editable(report_id)
        if refused is not None:
            return refused
        name = gettext("Roster import template") + f"_{report.id}.xlsx"
        return Response(
            imports.roster.template_bytes(report),
            mimetype=exports.XLSX_MIMETYPE,
            headers={"Content-Disposition": exports.content_disposition(name)},
        )

    @expose("/<id:report_id>/upload/", methods=("POST",))
    def upload(self, report_id: int):
        report, refused = self._editable(report_id)
        if refused is not None:
            return refused
        try:
            filename, data = uploaded_file()
            preview = imports.roster.preview(
                db.session, account(), report, filename, data, reader_limits()
            )
            db.session.commit()
        except imports.FileRefused as refusal:
            db.session.rollback()
            return self._refused(report, refusal.message)
        except Exception as exc:
            db.session.rollback()
            if db_errors.handle_view_exception(exc):
                return redirect(self.get_url(".index", report_id=report.id))
            raise
        return redirect(self.get_url(".batch", report_id=report.id, batch_id=preview.batch.id))

    def _batch(self, report: ExecutionReport, batch_id: int):
        try:
            return imports.roster.load_batch(db.session, account(), report, batch_id)
        except imports.BatchNotFound:
            abort(404)

    @expose("/<id:report_id>/batch/<id:batch_id>/")
    def batch(self, report_id: int, batch_id: int):
        report, refused = self._editable(report_id)
        if refused is not None:
            return refused
        batch = self._batch(report, batch_id)
        try:
            plan = imports.roster.plan_of(db.session, report, batch, SHOWN_ROWS)
        except imports.FileRefused as refusal:
            return self._refused(report, refusal.message)
        imported = batch.status == imports.BatchStatus.IMPORTED
        return self.render(
            "admin/roster_import_preview.html",
            report=report,
            batch=batch,
            plan=plan,
            imported=imported,
            rows=plan.rows[:SHOWN_ROWS],
            errors=plan.errors[:SHOWN_ERRORS],
            shown_rows=SHOWN_ROWS,
            shown_errors=SHOWN_ERRORS,
            id_types={kind.value: kind.title for kind in IdType},
            labels=rules.ROSTER_LABELS,
            back=details_url(report),
        )

    @expose("/<id:report_id>/batch/<id:batch_id>/confirm/", methods=("POST",))
    def confirm(self, report_id: int, batch_id: int):
        report, refused = self._editable(report_id)
        if refused is not None:
            return refused
        self._batch(report, batch_id)

        def write():
            batch, unchanged = imports.roster.confirm(db.session, account(), report, batch_id)
            return batch.added, batch.updated, unchanged

        back = self.get_url(".batch", report_id=report_id, batch_id=batch_id)
        counts, refused = confirm_batch(write, back)
        if refused is not None:
            return refused
        added, updated, unchanged = counts
        flash(
            gettext(
                "Roster imported: %(added)s learners added, %(updated)s updated,"
                " %(unchanged)s unchanged.",
                added=added,
                updated=updated,
                unchanged=unchanged,
            ),
            "success",
        )
        return redirect(details_url(report))

    # -- export -----------------------------------------------------------------------
    @expose("/<id:report_id>/export.<fmt>")
    @expose("/<id:report_id>/export/")
    def export(self, report_id: int, fmt: str = "xlsx"):
        if fmt not in EXPORT_FORMATS:
            abort(404)
        user = account()
        report = _report(report_id)
        scoped = permissions.visible_roster(user).where(RosterEntry.report_id == report.id)
        count = db.session.scalar(select(func.count()).select_from(scoped.subquery()))
        limit = exports.row_limit(fmt)
        if limit and count > limit:
            flash(exports.too_many_rows_message(fmt, count, limit), "error")
            return redirect(details_url(report))
        whole = execution.shows_id_numbers(user, report)
        rows = [
            _row(entry, whole)
            for entry in db.session.scalars(scoped.order_by(RosterEntry.id)).all()
        ]
        detail = EXPORT_DETAIL % {
            "id": report.id,
            "rows": len(rows),
            "format": fmt.upper(),
            "name": report.name,
        }
        record(db.session, AuditEvent.ROSTER_EXPORTED, user=user, detail=detail)
        stem = FILE_NAME_FORBIDDEN.sub("", report.name)[:60]
        name = exports.dated_filename(f"{chinese(ROSTER_FILE)}_{stem}", fmt)
        db.session.commit()
        headers = [chinese(rules.ROSTER_LABELS[name]) for name in execution.ROSTER_FIELDS]
        write = exports.csv_response if fmt == "csv" else exports.xlsx_response
        return write(name, headers, rows, max_rows=0)


def _row(entry: RosterEntry, whole: bool) -> list:
    """One learner as the export writes it: the import template's columns, in its words
    (so that the owner's own export, with whole ID numbers, can be imported again)."""
    return [
        entry.name,
        chinese(IdType(entry.id_type).title),
        entry.id_number if whole else rules.mask_id_number(entry.id_number),
        entry.workplace,
        entry.title,
        entry.license_no,
        entry.phone,
        chinese(imports.roster.YES if entry.attended else imports.roster.NO),
        entry.credits,
    ]


def register(admin) -> None:
    admin.add_view(
        RosterImportView(name=_l("Roster import"), endpoint="roster_import", url="roster-import")
    )
