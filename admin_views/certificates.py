"""证书 in the panel (docs/domain.md#证书): the certificates along a report's review
chain, and the committee's 证书设置.

``/admin/certificates/`` lists the certificates the account may see
(``permissions.certificate_visibility``: the owner unit, its society, its committee),
built like the 执行情况 lists: the scoped base view (every path, a forbidden id 404),
filters named in the URL (年度, 状态, 证书类型, and the report, which the report's page
links with), the search box (number, name, project). ID numbers are shown masked, always.
Each certificate has a details page with its history; its PDF, and the ZIP of a report's
certificates (a background job through ``jobs`` above ``CERTIFICATE_ZIP_BACKGROUND``), are
downloads written to the security log. The committee revokes one by hand, with a reason
(``certificates.issuing.revoke_by_hand``); nothing is ever created, edited or deleted here.

``/admin/certificate-settings/`` is the committee's: the number format, the title line and
the seals of itself and of its entry units (``certificates.settings`` holds the rules).
"""

from __future__ import annotations

import tempfile
from array import array
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from flask import (
    Response,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    request,
    send_file,
    url_for,
)
from flask_admin import expose
from flask_admin.model.template import LinkRowAction
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

import exports
import jobs
import permissions
from accounts.audit import record
from admin_views.base import ChoiceFilter, ScopedModelView, account, day, local_time, parse_id
from admin_views.capped_count import CappedCountMixin
from admin_views.signed_in import SignedInView
from admin_views.wording import RewordedMixin
from certificates import pdf as certificate_pdfs
from certificates import settings as certificate_settings
from certificates.issuing import revoke_by_hand
from extensions import db
from models import (
    AuditEvent,
    Certificate,
    CertificateEvent,
    CertificateKind,
    CertificateStatus,
    ExecutionReport,
    ExecutionState,
    Job,
    Unit,
    User,
    rules,
)
from models.base import beijing_today
from models.certificate import CreditCategory, RevokeCause
from models.vocabulary import label
from permissions.roles import AUDIT
from permissions.scopes import certificate_visibility

LABELS = {
    "number": _l("Certificate number"),
    "code": _l("Verification code"),
    "kind": _l("Certificate type"),
    "name": rules.ROSTER_LABELS["name"],
    "id_number": rules.ROSTER_LABELS["id_number"],
    "workplace": rules.ROSTER_LABELS["workplace"],
    "project_name": label("name"),
    "project_no": label("project_no"),
    "level": label("level"),
    "category": _l("Credit category"),
    "credits": label("credits"),
    "topic": _l("Topic"),
    "hours": _l("Hours"),
    "period": _l("Dates"),
    "organiser": label("organizer"),
    "committee_name": _l("Committee"),
    "title": _l("Certificate title line"),
    "issued_on": _l("Date of issue"),
    "status": label("state"),
    "year": label("year"),
    "report": _l("Execution report"),
    "revoked_at": _l("Revoked at"),
    "revoke_cause": _l("Revocation cause"),
    "revoke_reason": _l("Reason for revocation"),
}
# The security log's details (stored text, in the product's language).
PDF_DETAIL = "证书 PDF：%(number)s（执行情况 %(report)s）"
ZIP_DETAIL = "证书 ZIP：执行情况 %(report)s，%(count)s 份%(how)s：%(name)s"
# Certificates read per short transaction while a ZIP is written.
ZIP_BATCH = 200
ZIP_MIMETYPE = "application/zip"
# Stands for a certificate's code in its verification URL built once per download.
CODE_SLOT = "__code__"


# -- who may ----------------------------------------------------------------------------
def can_set_certificates(user) -> bool:
    """证书设置 and revocation by hand: the auditor of the review chain (the committee)."""
    return permissions.holds(user, AUDIT)


def can_revoke(user, certificate: Certificate) -> bool:
    """The committee of ``certificate`` may revoke it by hand (its unit issued it)."""
    return can_set_certificates(user) and certificate.committee_id == user.unit_id


# -- cells ------------------------------------------------------------------------------
def masked(value) -> str:
    return rules.mask_id_number(value) if value else ""


def number_text(value) -> str:
    """A credit figure without a needless ``.0``."""
    return f"{value:g}" if value is not None else ""


def status_cell(certificate: Certificate) -> Markup:
    """有效 as plain text, 已撤销 in bold red: words, not colour alone, and both at AA
    contrast (Bootstrap's green badge, white on #28a745, is 3.1:1)."""
    status = CertificateStatus(certificate.status)
    style = "" if status is CertificateStatus.VALID else " text-danger font-weight-bold"
    return Markup('<span class="cme-certificate-status{}" data-status="{}">{}</span>').format(
        style, status.value, status.title
    )


def period(certificate: Certificate) -> str:
    start, end = certificate.start_date, certificate.end_date
    return day(start) if start == end else f"{day(start)} — {day(end)}"


CELLS = {
    "kind": lambda v, c, m, n: CertificateKind(m.kind).title,
    "id_number": lambda v, c, m, n: masked(m.id_number),
    # A 授课证明 awards no credits: its 学时 are on its details page.
    "credits": lambda v, c, m, n: (
        "" if CertificateKind(m.kind) is CertificateKind.TEACHING else number_text(m.credits)
    ),
    "hours": lambda v, c, m, n: number_text(m.hours),
    "status": lambda v, c, m, n: status_cell(m),
    "level": lambda v, c, m, n: str(m.level_title),
    "category": lambda v, c, m, n: CreditCategory(m.category).title,
    "period": lambda v, c, m, n: period(m),
    "issued_on": lambda v, c, m, n: day(m.issued_on),
    "revoked_at": lambda v, c, m, n: local_time(m.revoked_at),
    "revoke_cause": lambda v, c, m, n: RevokeCause(m.revoke_cause).title if m.revoke_cause else "",
}


class ReportFilter(ChoiceFilter):
    """The certificates of one execution report (the link from the report's page)."""

    def operation(self):
        return _l("equals")


@dataclass(frozen=True)
class ReportLink:
    """The 证书（N） button of a report's page."""

    count: int
    url: str


def report_certificates(report: ExecutionReport) -> ReportLink | None:
    """For a report's page: how many of its certificates the account may see and the
    list of them, once the report was accepted or has any (one statement)."""
    user = account()
    if user is None or "certificates.index_view" not in current_app.view_functions:
        return None
    count = db.session.scalar(
        select(func.count())
        .select_from(Certificate)
        .where(Certificate.report_id == report.id, certificate_visibility(user))
    )
    if not count and ExecutionState(report.state) is not ExecutionState.ACCEPTED:
        return None
    return ReportLink(count or 0, url_for("certificates.index_view", flt0_report=report.id))


# -- downloads --------------------------------------------------------------------------
def verify_url_template() -> str:
    """The verification URL of a certificate with ``CODE_SLOT`` for its code, built in the
    request (a background job has no host to build it from)."""
    return url_for("verify.show", code=CODE_SLOT, _external=True)


def verify_url_for(template: str):
    head, _, tail = template.rpartition(CODE_SLOT)
    return lambda code: f"{head}{code}{tail}"


def write_zip(fileobj, ids, scope, seals: dict, url_template: str, report=None) -> int:
    """The ZIP of the certificates ``ids`` (in that order, within the WHERE clause
    ``scope``) into ``fileobj``, read ``ZIP_BATCH`` at a time in short transactions of
    their own: memory does not grow with their number. ``report(n)``: a job's progress."""

    def load(session, chunk):
        return session.scalars(select(Certificate).where(scope, Certificate.id.in_(chunk)))

    certificates = exports.batched_rows(db.engine, ids, load, list, batch=ZIP_BATCH)
    if report is not None:
        certificates = jobs.counted(certificates, report, len(ids))
    return certificate_pdfs.write_certificates(
        certificates, fileobj, verify_url_for=verify_url_for(url_template), seals=seals
    )


def zip_job(job_id: str, user_id: int, list_args: str, url_template: str) -> None:
    """The background job of a large ZIP: the list ``list_args`` (filtered by one report)
    as account ``user_id`` sees it, written to the job's file. No request, no login."""
    job = db.session.get(Job, job_id)
    if job is None or job.status != jobs.QUEUED:
        return
    if has_request_context():
        raise RuntimeError("a job must not run inside a request")
    user = db.session.get(User, user_id)
    if user is None or user.id != job.user_id or not user.is_active:
        jobs.run(db.engine, job_id, _refuse)
        return
    view = current_app.extensions["admin"][0].panel_views["certificates"]
    args = MultiDict(parse_qsl(list_args, keep_blank_values=True))
    _, query = view.list_query(user, view.bound_to(user).list_state_from(args))
    ids = array("q", db.session.scalars(query.with_entities(Certificate.id).statement))
    report_id = view.report_filter(args)
    report = db.session.get(ExecutionReport, report_id) if report_id else None
    seals = certificate_pdfs.seals_of(
        db.session, (report.owner_unit_id, report.committee_id) if report else ()
    )
    path = jobs.file_path(job)
    scope = certificate_visibility(user)
    db.session.rollback()

    def work(progress) -> None:
        with open(path, "wb") as out:
            write_zip(out, ids, scope, seals, url_template, progress)

    jobs.run(db.engine, job_id, work)


def _refuse(progress) -> None:
    raise PermissionError("the job's account is gone")


# -- the list ---------------------------------------------------------------------------
def _pdf_url(action, row_id, row) -> str:
    return url_for(".pdf", cert_id=row_id)


class CertificateView(RewordedMixin, CappedCountMixin, ScopedModelView):
    """证书: every unit kind sees the certificates of its reports' review chain."""

    permission = None
    can_create = can_edit = can_delete = can_export = False
    can_view_details = True
    list_template = "admin/certificates/list.html"
    details_template = "admin/certificates/details.html"
    column_labels = LABELS
    column_display_pk = False
    column_list = [
        "number",
        "kind",
        "name",
        "id_number",
        "project_name",
        "credits",
        "issued_on",
        "status",
    ]
    column_details_list = [
        "number",
        "code",
        "kind",
        "status",
        "name",
        "id_number",
        "workplace",
        "project_name",
        "project_no",
        "level",
        "category",
        "credits",
        "topic",
        "hours",
        "period",
        "organiser",
        "committee_name",
        "title",
        "issued_on",
        "revoked_at",
        "revoke_cause",
        "revoke_reason",
    ]
    column_formatters = CELLS
    column_formatters_detail = CELLS
    column_searchable_list = ["number", "name", "project_name"]
    column_sortable_list = ["number", "name", "project_name", "credits", "issued_on"]
    column_default_sort = [("issued_at", True), ("id", True)]
    column_extra_row_actions = [
        LinkRowAction("fa fa-file-pdf-o glyphicon glyphicon-file", _pdf_url, _l("Download the PDF"))
    ]
    empty_list_message = _l(
        "No certificate matches. Certificates are issued when an execution report is approved."
    )
    named_filter_urls = True
    FILTER_KEYS = ("year", "status", "kind", "report")

    def scope(self, user):
        return certificate_visibility(user)

    def get_filters(self):
        filters = [
            ChoiceFilter(Certificate.year, LABELS["year"], self._year_options, coerce=int),
            ChoiceFilter(
                Certificate.status,
                LABELS["status"],
                lambda: [(s.value, s.title) for s in CertificateStatus],
                coerce=CertificateStatus,
            ),
            ChoiceFilter(
                Certificate.kind,
                LABELS["kind"],
                lambda: [(k.value, k.title) for k in CertificateKind],
                coerce=CertificateKind,
            ),
            ReportFilter(Certificate.report_id, LABELS["report"], None, coerce=int),
        ]
        for key, flt in zip(self.FILTER_KEYS, filters, strict=True):
            flt.url_name = key
        return filters

    def get_filter_arg(self, index: int, flt) -> str:
        return getattr(flt, "url_name", None) or super().get_filter_arg(index, flt)

    def _year_options(self):
        """From the scope's first year to its last: two index probes."""
        year = Certificate.year
        scoped = select(year).where(self.scope(account()))
        ends = [scoped.order_by(o).limit(1).scalar_subquery() for o in (year, year.desc())]
        low, high = self.db_session.execute(select(*ends)).one()
        if low is None:
            return []
        return [(y, y) for y in range(high, low - 1, -1)]

    def after_access_check(self, name: str) -> None:
        # The ZIP is this view's only "export": not Flask-Admin's export switch.
        if name != "export":
            super().after_access_check(name)

    # -- the report the list is filtered by ---------------------------------------------
    def report_filter(self, args) -> int | None:
        """The report the list is filtered by (one value of the report filter), or None."""
        values = {
            value
            for key, value in args.items(multi=True)
            if key.startswith("flt") and key.partition("_")[2] == "report"
        }
        if len(values) != 1:
            return None
        return parse_id(values.pop())

    def listed_report(self) -> ExecutionReport | None:
        """The report of the list's report filter, if the account may see it."""
        report_id = self.report_filter(request.args)
        if report_id is None:
            return None
        return db.session.scalar(
            select(ExecutionReport).where(
                ExecutionReport.id == report_id, permissions.execution_visibility(account())
            )
        )

    def report_url(self, report_id: int) -> str | None:
        if "execution.details" not in current_app.view_functions:
            return None
        return url_for("execution.details", id=report_id)

    # -- details ------------------------------------------------------------------------
    def history(self, certificate: Certificate) -> list:
        """The certificate's history: (event, actor's name, unit's name), oldest first."""
        rows = db.session.execute(
            select(CertificateEvent, User, Unit)
            .outerjoin(User, User.id == CertificateEvent.actor_id)
            .outerjoin(Unit, Unit.id == CertificateEvent.actor_unit_id)
            .where(CertificateEvent.certificate_id == certificate.id)
            .order_by(CertificateEvent.id)
        ).all()
        return [(event, user, unit) for event, user, unit in rows]

    def event_title(self, event: CertificateEvent) -> str:
        return gettext("Issued") if event.action == "issue" else gettext("Revoke")

    def may_revoke(self, certificate: Certificate) -> bool:
        return can_revoke(account(), certificate)

    def cause_title(self, certificate: Certificate) -> str:
        return str(RevokeCause(certificate.revoke_cause).title) if certificate.revoke_cause else ""

    def _certificate(self, cert_id: int) -> Certificate:
        return self.get_one(str(cert_id))  # scoped: another's answers 404

    def _details(self, certificate: Certificate):
        return redirect(self.get_url(".details_view", id=certificate.id))

    @expose("/revoke/<id:cert_id>", methods=("POST",))
    def revoke(self, cert_id: int):
        """撤销: the certificate's committee revokes it, with a required reason."""
        certificate = self._certificate(cert_id)
        user = account()
        if not can_revoke(user, certificate):
            abort(403)
        back = self._details(certificate)
        reason = (request.form.get("reason") or "").strip()
        if not reason:
            flash(gettext("Give the reason for revoking this certificate."), "error")
            return back
        if message := rules.reason_error(reason):
            flash(str(message), "error")
            return back
        number = certificate.number
        if not certificate.is_valid:
            flash(gettext("Certificate %(number)s was revoked already.", number=number), "info")
            return back
        done = revoke_by_hand(db.session, user, certificate, reason)
        db.session.commit()
        if not done:
            flash(gettext("Certificate %(number)s was revoked already.", number=number), "info")
        else:
            flash(gettext("Certificate %(number)s revoked.", number=number), "success")
        return back

    # -- downloads ----------------------------------------------------------------------
    @expose("/<id:cert_id>.pdf")
    def pdf(self, cert_id: int):
        """The certificate's PDF (what its holder prints), written to the security log."""
        certificate = self._certificate(cert_id)
        user = account()
        seals = certificate_pdfs.seals_of(
            db.session, (certificate.committee_id, certificate.owner_unit_id)
        )
        body = certificate_pdfs.certificate_pdf(
            certificate,
            verify_url=verify_url_for(verify_url_template())(certificate.code),
            seals=seals,
        )
        detail = PDF_DETAIL % {"number": certificate.number, "report": certificate.report_id}
        record(db.session, AuditEvent.ROSTER_EXPORTED, user=user, detail=detail)
        db.session.commit()
        response = Response(body, mimetype="application/pdf")
        name = f"{certificate.number}.pdf"
        response.headers["Content-Disposition"] = exports.content_disposition(name)
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/export/<export_type>/")
    def export(self, export_type: str):
        """The ZIP of the list's certificates (one PDF each), filtered by one report: at
        once below ``CERTIFICATE_ZIP_BACKGROUND`` certificates, else a background job."""
        if export_type != "zip":
            abort(404)
        user = account()
        back = redirect(self.get_url(".index_view", **request.args))
        report = self.listed_report()
        if report is None:
            flash(
                gettext("Open the certificates of one execution report to download them."), "error"
            )
            return back
        count, query = self.list_query(user, self.list_state_from(request.args))
        if not count:
            flash(gettext("No certificate to download."), "error")
            return back
        limit = current_app.config["CERTIFICATE_ZIP_BACKGROUND"]
        stem = exports_stem(report)
        filename = exports.dated_filename(stem, "zip")
        detail = {"report": report.id, "count": count, "name": report.name}
        template = verify_url_template()
        if limit and count > limit:
            return self._zip_in_background(user, report, count, filename, detail, template)
        ids = array("q", db.session.scalars(query.with_entities(Certificate.id).statement))
        seals = certificate_pdfs.seals_of(db.session, (report.owner_unit_id, report.committee_id))
        record(
            db.session,
            AuditEvent.ROSTER_EXPORTED,
            user=user,
            detail=ZIP_DETAIL % (detail | {"how": ""}),
        )
        db.session.commit()
        scope = certificate_visibility(user)
        # Closed by the response once sent (send_file wraps it).
        spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
        try:
            write_zip(spool, ids, scope, seals, template)
            spool.seek(0)
            response = send_file(
                spool,
                mimetype=ZIP_MIMETYPE,
                as_attachment=True,
                download_name=filename,
                conditional=False,
            )
        except BaseException:
            spool.close()
            raise
        response.call_on_close(spool.close)
        response.headers["Content-Disposition"] = exports.content_disposition(filename)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _zip_in_background(self, user, report, count, filename, detail, template):
        list_args = urlencode(list(request.args.items(multi=True)))
        job = jobs.create(
            db.session,
            user_id=user.id,
            view=self.endpoint,
            kind="zip",
            filename=filename,
            total=count,
            list_args=list_args,
        )
        jobs.purge(db.session)
        how = "，后台任务"
        record(
            db.session,
            AuditEvent.ROSTER_EXPORTED,
            user=user,
            detail=ZIP_DETAIL % (detail | {"how": how}),
        )
        db.session.commit()
        job_id = job.id
        if (
            jobs.submit(db.engine, job_id, count, zip_job, job_id, user.id, list_args, template)
            is None
        ):
            flash(
                gettext(
                    "Background downloads are unavailable at the moment, please try again later."
                ),
                "error",
            )
            return redirect(self.get_url(".index_view", **request.args))
        flash(
            gettext(
                "%(count)s certificates: the ZIP is written in the background;"
                " download it here when it is done.",
                count=count,
            ),
            "info",
        )
        return redirect(url_for("jobs.status", job_id=job_id))


def exports_stem(report: ExecutionReport) -> str:
    """The ZIP's file name stem: 证书_<the report's name>, safe on Windows."""
    from admin_views.roster_import import FILE_NAME_FORBIDDEN

    return f"{gettext('Certificates')}_{FILE_NAME_FORBIDDEN.sub('', report.name)[:60]}"


# -- 证书设置 --------------------------------------------------------------------------------
class CertificateSettingsView(SignedInView):
    """The committee's number format, title line and seals; any other account: 403."""

    allowed = can_set_certificates

    def _committee_id(self) -> int:
        return permissions.own_committee_id(account())

    def seal_units(self) -> list[tuple[int, str]]:
        """(id, name) of the units whose seals the committee keeps: itself, then its
        entry units (the organisers of its tree) by name."""
        user = account()
        own = (user.unit_id, user.unit.name)
        rows = db.session.execute(
            permissions.filing_units(user).with_only_columns(Unit.id, Unit.name).order_by(Unit.name)
        ).all()
        return [own, *((r.id, r.name) for r in rows)]

    def _unit(self, unit_id) -> tuple[int, str]:
        """A unit of ``seal_units`` (another: 404, as if it did not exist)."""
        key = parse_id(unit_id) if not isinstance(unit_id, int) else unit_id
        for unit in self.seal_units():
            if unit[0] == key:
                return unit
        abort(404)

    def _page(self, form_values=None, errors=None, status=200):
        session = db.session
        committee_id = self._committee_id()
        stored = certificate_settings.current_settings(session, committee_id)
        year = beijing_today().year
        units = self.seal_units()
        with_seals = certificate_settings.stored_seals(session, [u for u, _ in units])
        html = self.render(
            "admin/certificates/settings.html",
            values=form_values or {"number_format": stored.number_format, "title": stored.title},
            errors=errors or {},
            year=year,
            preview=certificate_settings.next_number(
                session, committee_id, stored.number_format, year
            ),
            stored=stored,
            committee=units[0],
            units=units[1:],
            sealed=[u for u in units if u[0] in with_seals],
            has_seal=with_seals,
            max_kb=certificate_settings.MAX_SEAL_BYTES // 1024,
            max_side=certificate_settings.MAX_SEAL_SIDE,
        )
        return html, status

    @expose("/", methods=("GET", "POST"))
    def index(self):
        if request.method == "GET":
            return self._page()
        values = {
            "number_format": (request.form.get("number_format") or "").strip(),
            "title": (request.form.get("title") or "").strip(),
        }
        errors = certificate_settings.save_settings(
            db.session, self._committee_id(), values["number_format"], values["title"]
        )
        if errors:
            db.session.rollback()
            return self._page(values, {k: str(v) for k, v in errors.items()}, 200)
        db.session.commit()
        flash(gettext("Certificate settings saved."), "success")
        return redirect(url_for(".index"))

    @expose("/seal", methods=("POST",))
    def upload_seal(self):
        unit_id, name = self._unit(request.form.get("unit", ""))
        upload = request.files.get("seal")
        data = upload.stream.read(certificate_settings.MAX_SEAL_BYTES + 1) if upload else b""
        try:
            certificate_settings.store_seal(db.session, unit_id, data)
        except certificate_settings.SealRefused as refusal:
            db.session.rollback()
            flash(
                gettext("The seal was not saved: %(reason)s", reason=str(refusal.message)), "error"
            )
            return redirect(url_for(".index", _anchor="seals"))
        db.session.commit()
        flash(gettext("Seal of %(unit)s saved.", unit=name), "success")
        return redirect(url_for(".index", _anchor="seals"))

    @expose("/seal/<id:unit_id>/remove", methods=("POST",))
    def remove_seal(self, unit_id: int):
        unit_id, name = self._unit(unit_id)
        removed = certificate_settings.remove_seal(db.session, unit_id)
        db.session.commit()
        if removed:
            flash(gettext("Seal of %(unit)s removed.", unit=name), "success")
        else:
            flash(gettext("%(unit)s has no seal stored.", unit=name), "info")
        return redirect(url_for(".index", _anchor="seals"))

    @expose("/seal/<id:unit_id>.png")
    def seal(self, unit_id: int):
        """A stored seal's image, for the page's preview (the committee's tree only)."""
        unit_id, _ = self._unit(unit_id)
        png = certificate_settings.seal_png(db.session, unit_id)
        if png is None:
            abort(404)
        response = Response(png, mimetype="image/png")
        response.headers["Cache-Control"] = "no-store"
        return response


def register(admin) -> None:
    """证书, for every unit kind (after the 执行情况 lists)."""
    admin.add_view(
        CertificateView(
            Certificate, db, name=_l("Certificates"), endpoint="certificates", url="certificates"
        )
    )


def register_settings(admin) -> None:
    """证书设置, the committee's, under 管理 beside 备案规则."""
    admin.add_view(
        CertificateSettingsView(
            name=_l("Certificate settings"),
            endpoint="certificate_settings",
            url="certificate-settings",
            category=_l("Management"),
        )
    )
