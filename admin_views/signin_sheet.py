"""签到: the on-site QR sign-in sheet of one execution report (the organiser's side).

``/admin/signin-sheet/<id>/`` is for the report's owner unit while it may edit the report
(anyone else, and the owner once the report went upward, gets 404): 开启签到 / 关闭签到
(POSTs with the CSRF token), and while the sign-in is open a large QR code of the public
``/signin/<token>`` address (``public/signin.py``), the address as text, until when the
code is good and how many learners have signed in. Every change goes through
``workflow.signin``; the code is drawn on the server as inline SVG (segno).
"""

from __future__ import annotations

from datetime import timedelta

import segno
from flask import abort, current_app, flash, jsonify, redirect, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin_views.base import account
from admin_views.signed_in import SignedInView
from extensions import db
from models import ExecutionReport, utcnow
from models.base import beijing_today
from workflow import WorkflowError, execution, signin
from workflow.errors import ReportNotFound

# The report's own page, linked once it exists (admin_views/execution_report.py).
REPORT_PAGE = "execution.details"


def _editable_report(report_id: int) -> ExecutionReport:
    """The report, if the signed-in account may change it now; else 404."""
    user = account()
    try:
        report = execution.visible_report(db.session, user, report_id)
    except ReportNotFound:
        abort(404)
    if not execution.can_edit(user, report):
        abort(404)
    return report


def qr_svg(address: str) -> str:
    """The QR code of ``address`` as an inline SVG that scales with its box."""
    code = segno.make(address, error="m", micro=False)
    return code.svg_inline(
        scale=1, border=4, omitsize=True, svgclass="cme-qr", title=address, dark="#000"
    )


class SigninSheetView(SignedInView):
    """Reached from the report's page; not in the menu."""

    in_menu = False

    # Flask-Admin wants a view at its root: there is no sheet without a report.
    @expose("/")
    @expose("/<id:report_id>/")
    def index(self, report_id: int | None = None):
        if report_id is None:
            abort(404)
        report = _editable_report(report_id)
        user = account()
        context = {
            "report": report,
            "signed_in": signin.signed_in_count(db.session, report.id),
            "event_day": signin.is_event_day(report, beijing_today()),
            "report_url": url_for(REPORT_PAGE, id=report.id)
            if REPORT_PAGE in current_app.view_functions
            else None,
        }
        if report.signin_open:
            token = signin.make_token(current_app.config["SECRET_KEY"], report, user)
            address = url_for("signin.form", token=token, _external=True)
            context |= {
                "address": address,
                "qr": qr_svg(address),
                "valid_until": utcnow() + signin.MAX_AGE - timedelta(minutes=1),
            }
        return self.render("admin/signin_sheet.html", **context)

    @expose("/<id:report_id>/count")
    def count(self, report_id: int):
        """How many learners signed in, for the open sheet's page to refresh by itself
        (static/admin/cme-signin.js): the same words as the page, no names."""
        report = _editable_report(report_id)
        signed_in = signin.signed_in_count(db.session, report.id)
        response = jsonify(count=signed_in, text=str(_("%(n)s learner(s)", n=signed_in)))
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/<id:report_id>/open", methods=("POST",))
    def open(self, report_id: int):
        report = _editable_report(report_id)
        return self._change(report, signin.open_signin, _l("On-site sign-in is open."))

    @expose("/<id:report_id>/close", methods=("POST",))
    def close(self, report_id: int):
        report = _editable_report(report_id)
        return self._change(report, signin.close_signin, _l("On-site sign-in is closed."))

    def _change(self, report: ExecutionReport, change, done):
        report_id = report.id
        try:
            change(db.session, account(), report)
            db.session.commit()
        except WorkflowError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            flash(str(done), "success")
        return redirect(url_for(".index", report_id=report_id))


def register(admin) -> None:
    admin.add_view(
        SigninSheetView(name=_l("On-site sign-in"), endpoint="signin_sheet", url="signin-sheet")
    )
