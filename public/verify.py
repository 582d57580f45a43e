"""证书验证 and 学分记录, the login-free side of certificates (blueprint ``verify``).

- ``/verify/<code>`` (``verify.show``): what a certificate's QR code opens; its PDF at
  ``/verify/<code>.pdf``; ``/verify`` (``verify.form``): a paper copy's number and the
  learner's full name; ``/verify/bulk``: a CSV/XLSX of numbers or codes back with a
  status column (有效 / 已撤销 / 未找到).
- ``/credits`` (``verify.credits``): a learner's own certificates by ID number + name,
  per year with the Ⅰ类 / Ⅱ类 totals; ``/credits/transcript.pdf`` the year's transcript,
  whose QR opens ``/verify/t/<token>`` (``verify.transcript_show``).

What a page shows of a person is masked (张*明, ``models.rules.mask_id_number``): never
the whole name, ID number, workplace or phone. Every wrong code, number + name pair or ID +
name pair gets the same answer, whatever part was wrong. The status is read from the
database on every request (no cache), so a revocation shows at once. Every lookup is
rate-limited per client address on the login's limiter (its shared store):
``VERIFY_RATE_LIMIT``, ``CREDITS_RATE_LIMIT``, ``BULK_VERIFY_RATE_LIMIT``; over the limit,
the Chinese 429 page. Nothing here is indexed: ``noindex`` in the page and in the
``X-Robots-Tag`` header of every response.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import or_, select
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge

import errors
import exports
import imports
from certificates.pdf import certificate_pdf, seals_for, transcript_pdf
from extensions import db
from imports import isolation, reader
from models import Certificate, rules
from models.certificate import CertificateKind, CertificateStatus, CreditCategory
from models.vocabulary import chinese

bp = Blueprint("verify", __name__, template_folder="templates")

NOINDEX = "noindex, nofollow"
# Longest code or number worth a query (codes are 22 characters, numbers at most 40).
MAX_KEY_LENGTH = 64
# Codes and numbers looked up per statement in a bulk file (two IN lists of this size).
LOOKUP_CHUNK = 1000
TRANSCRIPT_SALT = "transcript"
RECORD_SALT = "credits-record"
# How long the record page's transcript buttons work.
RECORD_TOKEN_SECONDS = 3600
# A bulk file's column of numbers or codes: its header, normalised (NFKC, no blanks,
# lower case); without one of these, its first column.
KEY_HEADERS = frozenset(
    {"证书编号", "编号", "证书号", "验证码", "证书验证码", "number", "code", "certificate"}
)
BULK_STATUS = {
    CertificateStatus.VALID: _l("Valid"),
    CertificateStatus.REVOKED: _l("Revoked"),
    None: _l("Not found"),
}


# -- what the public sees of a certificate ----------------------------------------------


def mask_name(name: str | None) -> str:
    """A name as the public sees it: the first and the last character kept (张*明,
    欧**明), a two-character name its first only (张*)."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def certificate_json(certificate: Certificate) -> dict:
    """The API's answer (``/api/v1/certificates/<code>``): the verification page's fields,
    masked like it; labels in the current language (the API renders them in Chinese)."""
    kind = CertificateKind(certificate.kind)
    status = CertificateStatus(certificate.status)
    category = CreditCategory(certificate.category)
    cause = certificate.revoke_cause
    revoked = certificate.revoked_on
    teaching = kind is CertificateKind.TEACHING
    return {
        "number": certificate.number,
        "kind": kind.value,
        "kind_label": str(kind.title),
        "status": status.value,
        "status_label": str(status.title),
        "title": certificate.title,
        "name": mask_name(certificate.name),
        "id_number": rules.mask_id_number(certificate.id_number) if certificate.id_number else None,
        "project_name": certificate.project_name,
        "project_no": certificate.project_no,
        "level": certificate.level,
        "level_label": str(certificate.level_title),
        "category": category.value,
        "category_label": str(category.title),
        "credits": certificate.credits,
        "topic": certificate.topic if teaching else None,
        "hours": certificate.hours if teaching else None,
        "start_date": certificate.start_date.isoformat(),
        "end_date": certificate.end_date.isoformat(),
        "organiser": certificate.organiser,
        "committee": certificate.committee_name,
        "issued_on": certificate.issued_on.isoformat(),
        "revoked_on": revoked.isoformat() if revoked else None,
        "revoke_cause": cause.value if cause else None,
        "revoke_cause_label": str(cause.title) if cause else None,
        "revoke_reason": certificate.revoke_reason,
        "html_url": url_for("verify.show", code=certificate.code, _external=True),
        "pdf_url": url_for("verify.pdf", code=certificate.code, _external=True),
    }


def by_code(code: str) -> Certificate | None:
    """The certificate with this verification code, read now (never a cached copy)."""
    if not code or len(code) > MAX_KEY_LENGTH:
        return None
    return db.session.scalar(
        select(Certificate)
        .where(Certificate.code == code)
        .execution_options(populate_existing=True)
    )


def certificate_or_404(code: str) -> Certificate:
    certificate = by_code(code)
    if certificate is None:
        raise NotFound()
    return certificate


# -- the pages ----------------------------------------------------------------------------


@bp.context_processor
def template_globals() -> dict:
    return {
        "current_locale": str(get_locale()),
        "mask_name": mask_name,
        "mask_id": rules.mask_id_number,
        "format_day": lambda day: format_date(day, "yyyy-MM-dd") if day else "",
        "statuses": CertificateStatus,
        "kinds": CertificateKind,
    }


@bp.after_request
def private_and_unindexed(response: Response) -> Response:
    """Every answer here: never indexed, never stored (a status must be fresh, and a
    learner's record is nobody else's on a shared computer), no referrer carrying a code."""
    response.headers["X-Robots-Tag"] = NOINDEX
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.errorhandler(HTTPException)
def error_page(error: HTTPException):
    """The site's Chinese error page (``errors``), with ``noindex`` in it: the same bytes
    for every wrong code, whatever it was."""
    if error.code is None or error.code < 400:
        return error
    if isinstance(error, CSRFError):
        return errors.http_error(error)  # its own page: back to the form
    title, text = errors.MESSAGES.get(error.code) or (error.name, error.description)
    html = render_template(
        "public/verify_error.html",
        code=error.code,
        title=title,
        text=text,
        links=errors._links(),
        back_url=None,
        support_phone=current_app.config.get("SUPPORT_PHONE"),
    )
    response = current_app.response_class(html, status=error.code, mimetype="text/html")
    retry = getattr(error, "retry_after", None)
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


@bp.get("/verify/<code>")
def show(code: str):
    """One certificate as anyone may see it: what it certifies, masked, and its status."""
    return render_template("public/verify.html", certificate=certificate_or_404(code))


@bp.get("/verify/<code>.pdf")
def pdf(code: str):
    """The certificate's PDF, for anyone with its code (the learner prints it)."""
    certificate = certificate_or_404(code)
    body = certificate_pdf(
        certificate,
        verify_url=url_for("verify.show", code=certificate.code, _external=True),
        seals=seals_for(db.session, [certificate]),
    )
    return _pdf_response(body, f"{certificate.number}.pdf")


def _pdf_response(body: bytes, filename: str) -> Response:
    response = current_app.response_class(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = exports.content_disposition(filename, "inline")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _typed(name: str, limit: int = MAX_KEY_LENGTH) -> str:
    """A typed field as compared: NFKC (full-width letters and digits folded), no blanks
    around, cut to what any stored value could be."""
    return unicodedata.normalize("NFKC", request.form.get(name, "")).strip()[:limit]


def _spellings(name: str) -> set[str]:
    """A typed name as the roster may hold it: as typed (the roster keeps names as typed,
    stripped) and NFKC-folded (full-width letters of a foreign name typed half-width)."""
    name = name.strip()[:50]
    return {name, unicodedata.normalize("NFKC", name).strip()[:50]} - {""}


@bp.route("/verify", methods=["GET", "POST"])
def form():
    """A paper copy's number + the learner's full name → its page; every wrong pair the
    same answer (nothing typed is shown back, so the answer says nothing of which part)."""
    if request.method == "GET":
        return render_template("public/verify_form.html", missing=False)
    number, names = _typed("number"), _spellings(request.form.get("name", ""))
    found = None
    if number and names:
        found = db.session.scalar(
            select(Certificate.code)
            .where(Certificate.number.in_({number, number.upper()}), Certificate.name.in_(names))
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
            .limit(1)
        )
    if found is None:
        return render_template("public/verify_form.html", missing=True), 404
    return redirect(url_for("verify.show", code=found), 303)


# -- a learner's record (学分记录) -------------------------------------------------------


@dataclass
class Year:
    """One year of a learner's record: its certificates, and the credits of the valid
    ones per category (a revoked certificate is listed, not counted)."""

    year: int
    certificates: list[Certificate] = field(default_factory=list)
    totals: dict[CreditCategory, float] = field(
        default_factory=lambda: dict.fromkeys(CreditCategory, 0.0)
    )


def record_of(id_number: str, name: str) -> list[Year]:
    """The credit certificates of the learner with this ID number (normalised as the
    roster stores it) and this name, newest year first; [] for a wrong pair, as for a
    learner with none."""
    number, names = rules.normalise_id_number(id_number)[:32], _spellings(name)
    if not number or not names:
        return []
    rows = db.session.scalars(
        select(Certificate)
        .where(
            Certificate.id_number == number,
            Certificate.name.in_(names),
            Certificate.kind == CertificateKind.CREDIT,
        )
        .order_by(Certificate.year.desc(), Certificate.start_date, Certificate.id)
    )
    years: dict[int, Year] = {}
    for certificate in rows:
        year = years.setdefault(certificate.year, Year(certificate.year))
        year.certificates.append(certificate)
        if certificate.is_valid:
            year.totals[CreditCategory(certificate.category)] += certificate.credits
    return list(years.values())


def _pair() -> tuple[str, str]:
    return request.form.get("id_number", ""), request.form.get("name", "").strip()


@bp.route("/credits", methods=["GET", "POST"])
def credits():
    """学分记录: the learner types their ID number and name; the answer for a wrong pair
    is the one for a learner with no certificates. The ID number is never shown back."""
    if request.method == "GET":
        return render_template("public/credits.html", asked=False, years=[])
    id_number, name = _pair()
    years = record_of(id_number, name)
    return render_template(
        "public/credits.html",
        asked=True,
        years=years,
        # As stored (the roster's spelling), masked; the typed ID number is not used again.
        name=mask_name(years[0].certificates[0].name) if years else "",
        masked_id=rules.mask_id_number(years[0].certificates[0].id_number) if years else "",
        record_token=record_token,
        categories=list(CreditCategory),
    )


def _serializer() -> URLSafeSerializer:
    """The transcript QR's token: a year's certificate codes, signed (no expiry: the
    transcript is printed and kept)."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TRANSCRIPT_SALT)


def _record_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RECORD_SALT)


def record_token(year: Year) -> str:
    """What the record page's transcript button posts instead of the ID number and the
    name (never sent back whole): the year's valid certificate codes, signed, valid
    ``RECORD_TOKEN_SECONDS``."""
    codes = [c.code for c in year.certificates if c.is_valid]
    return _record_serializer().dumps({"y": year.year, "c": codes})


def _transcript_certificates() -> tuple[int | None, list[Certificate]]:
    """The year and valid certificates a transcript request names: the record page's
    signed ``record``, or the ID number + name + year typed again."""
    if "record" in request.form:
        return _recorded_certificates()
    return _typed_certificates()


def _recorded_certificates() -> tuple[int | None, list[Certificate]]:
    """The year and valid certificates of the record page's signed ``record`` (a
    forged or expired one names none)."""
    try:
        content = _record_serializer().loads(request.form["record"], max_age=RECORD_TOKEN_SECONDS)
        year, codes = int(content["y"]), [str(c) for c in content["c"]][:500]
    except (BadSignature, KeyError, TypeError, ValueError):
        return None, []
    found = db.session.scalars(
        select(Certificate)
        .where(Certificate.code.in_(codes), Certificate.year == year)
        .order_by(Certificate.start_date, Certificate.id)
    )
    return year, [c for c in found if c.is_valid]


def _typed_certificates() -> tuple[int | None, list[Certificate]]:
    """The year and valid certificates of the ID number, name and year typed again."""
    id_number, name = _pair()
    try:
        year = int(request.form.get("year", ""))
    except ValueError:
        return None, []
    chosen = next((y for y in record_of(id_number, name) if y.year == year), None)
    return year, [c for c in chosen.certificates if c.is_valid] if chosen else []


@bp.post("/credits/transcript.pdf")
def transcript():
    """The year's transcript (one page: the valid certificates and the totals), its QR
    opening ``transcript_show``; anything that names no valid certificate of one learner
    gets the record page's "none found"."""
    year, valid = _transcript_certificates()
    if not valid or len({(c.id_number, c.name) for c in valid}) != 1:
        return render_template("public/credits.html", asked=True, years=[])
    token = _serializer().dumps({"y": year, "c": [c.code for c in valid]})
    body = transcript_pdf(
        valid,
        name=valid[0].name,
        masked_id=rules.mask_id_number(valid[0].id_number),
        year=year,
        verify_url=url_for("verify.transcript_show", token=token, _external=True),
    )
    return _pdf_response(body, f"{year}.pdf")


@bp.get("/verify/t/<token>")
def transcript_show(token: str):
    """What a transcript's QR opens: its certificates as they stand now (a revoked one
    says so), masked; a token not signed by us is the 404 of every wrong code."""
    try:
        content = _serializer().loads(token)
        year, codes = int(content["y"]), [str(c) for c in content["c"]][:500]
    except (BadSignature, KeyError, TypeError, ValueError):
        raise NotFound() from None
    found = db.session.scalars(
        select(Certificate)
        .where(Certificate.code.in_(codes))
        .order_by(Certificate.start_date, Certificate.id)
    ).all()
    if not found:
        raise NotFound()
    totals = dict.fromkeys(CreditCategory, 0.0)
    for certificate in found:
        if certificate.is_valid:
            totals[CreditCategory(certificate.category)] += certificate.credits
    return render_template(
        "public/verify_transcript.html",
        year=year,
        certificates=found,
        totals=totals,
        name=mask_name(found[0].name),
        masked_id=rules.mask_id_number(found[0].id_number),
        categories=list(CreditCategory),
    )


# -- bulk verification (批量验证) -------------------------------------------------------


def statuses_of(keys: Iterable[str]) -> dict[str, CertificateStatus]:
    """The status of each key that is a certificate's code or number (a number also in
    capitals, as printed), in one statement per ``LOOKUP_CHUNK`` keys (two IN lists). A
    code decides alone; a number printed by two committees is valid when one of them is."""
    wanted = sorted({key for key in keys if key and len(key) <= MAX_KEY_LENGTH})
    by_number: dict[str, CertificateStatus] = {}
    by_code: dict[str, CertificateStatus] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        _read_statuses(wanted[start : start + LOOKUP_CHUNK], by_code, by_number)
    found = {key: _status(key, by_code, by_number) for key in wanted}
    return {key: status for key, status in found.items() if status is not None}


def _status(key: str, by_code: dict, by_number: dict) -> CertificateStatus | None:
    """A key's status: its code's, else its number's (as typed, else in capitals);
    None for a key that is no certificate's."""
    return by_code.get(key) or by_number.get(key) or by_number.get(key.upper())


def _read_statuses(chunk: list[str], by_code: dict, by_number: dict) -> None:
    """The statuses of the certificates whose code or number (also in capitals) is
    among ``chunk``, added to ``by_code`` and ``by_number`` (one statement); a number
    already valid stays valid."""
    numbers = sorted({*chunk, *(key.upper() for key in chunk)})
    rows = db.session.execute(
        select(Certificate.code, Certificate.number, Certificate.status).where(
            or_(Certificate.code.in_(chunk), Certificate.number.in_(numbers))
        )
    )
    for code, number, status in rows:
        status = CertificateStatus(status)
        by_code[code] = status
        if by_number.get(number) is not CertificateStatus.VALID:
            by_number[number] = status


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def _header_key(text: str) -> str:
    return "".join(_key(text).split()).lower()


def key_column(headers: list[str]) -> int | None:
    """The column of numbers or codes: the one whose header names it, else None."""
    for index, header in enumerate(headers):
        if _header_key(header) in KEY_HEADERS:
            return index
    return None


def _key_statuses(table: reader.Table) -> tuple[list[str], dict, str | None]:
    """Each row's key (from the key column, else the first), the statuses of those
    that are certificates', and the header row's key when it is one too (a list with
    no header; else None)."""
    column = key_column(table.headers)
    keys = [
        _key(texts[column or 0]) if len(texts) > (column or 0) else "" for _, texts in table.rows
    ]
    if column is not None:
        return keys, statuses_of(keys), None
    head = _key(table.headers[0]) if table.headers else ""
    found = statuses_of([*keys, head])
    return keys, found, head if head in found else None


def checked_rows(table: reader.Table) -> tuple[list[str], list[list[str]]]:
    """The file's header and rows with the status column added at the end; blank rows
    kept where they were. Without a known header, the first column holds the keys, and
    the first row is one of them when it is a certificate's (a list with no header)."""
    keys, found, head = _key_statuses(table)
    width = max([len(table.headers), *(len(texts) for _, texts in table.rows)])
    status_title = _("Status")

    def status(key: str) -> str:
        return str(BULK_STATUS[found.get(key)]) if key else ""

    rows: list[list[str]] = []
    if head is not None:
        headers = [""] * width + [status_title]
        rows.append([*table.headers, *[""] * (width - len(table.headers)), status(head)])
    else:
        headers = [*table.headers, *[""] * (width - len(table.headers)), status_title]
    previous = None
    for (row_no, texts), key in zip(table.rows, keys, strict=True):
        if previous is not None:
            rows.extend([[""] * (width + 1) for _ in range(row_no - previous - 1)])
        previous = row_no
        rows.append([*texts, *[""] * (width - len(texts)), status(key)])
    return headers, rows


def _upload() -> tuple[str, bytes]:
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise imports.FileRefused(reader.too_large()) from None
    if upload is None or not upload.filename:
        raise imports.FileRefused(_l("Choose a file to upload."))
    return upload.filename, upload.stream.read(reader.MAX_UPLOAD_BYTES + 1)


@bp.route("/verify/bulk", methods=["GET", "POST"])
def bulk():
    """批量验证: a CSV or XLSX file of up to 5,000 numbers or codes, back as the same file
    (CSV as UTF-8 with a BOM) with a status column: 有效 / 已撤销 / 未找到."""
    if request.method == "GET":
        return render_template("public/verify_bulk.html", error=None)
    try:
        filename, data = _upload()
        words = reader.Titles(chinese(_l("Certificates")), None, "\x00", min_columns=1)
        limits = isolation.Limits(
            memory_mb=current_app.config["IMPORT_READ_MEMORY_MB"],
            seconds=current_app.config["IMPORT_READ_SECONDS"],
        )
        table = isolation.read(filename, data, limits, words).main
    except imports.FileRefused as refused:
        return render_template("public/verify_bulk.html", error=refused.message), 400
    headers, rows = checked_rows(table)
    is_xlsx = data.startswith(reader.ZIP_MAGIC)
    stem = PurePath(filename).stem[:60] or "certificates"
    name = f"{stem}_{_('verified')}.{'xlsx' if is_xlsx else 'csv'}"
    if is_xlsx:
        return exports.xlsx_response(name, headers, rows, max_rows=0, sheet_title=_("Verified"))
    return exports.csv_response(name, headers, rows, max_rows=0)


# -- registration and rate limits -------------------------------------------------------

# endpoint → (setting, shared scope): the lookups of one scope share one count per client,
# so that the code space cannot be walked faster through the API than through the page.
LIMITED = {
    "verify.show": ("VERIFY_RATE_LIMIT", "verify-lookup"),
    "verify.pdf": ("VERIFY_RATE_LIMIT", "verify-lookup"),
    "verify.form": ("VERIFY_RATE_LIMIT", "verify-lookup"),
    "verify.transcript_show": ("VERIFY_RATE_LIMIT", "verify-lookup"),
    "public_api.certificate": ("VERIFY_RATE_LIMIT", "verify-lookup"),
    "verify.credits": ("CREDITS_RATE_LIMIT", "credits-lookup"),
    "verify.transcript": ("CREDITS_RATE_LIMIT", "credits-lookup"),
    "verify.bulk": ("BULK_VERIFY_RATE_LIMIT", "bulk-verify"),
}
# The forms' GETs show an empty form: only their POSTs look anything up.
POST_ONLY = frozenset({"verify.form", "verify.credits", "verify.bulk"})


def init(app: Flask) -> None:
    """Register the pages and limit every lookup per client address on the login's
    limiter (after ``public_api`` is registered: its certificate lookup counts too)."""
    app.register_blueprint(bp)
    for limiter in app.extensions.get("limiter", ()):
        for endpoint, (setting, scope) in LIMITED.items():
            app.view_functions[endpoint] = limiter.shared_limit(
                _setting(setting),
                scope=scope,
                methods=["POST"] if endpoint in POST_ONLY else None,
            )(app.view_functions[endpoint])


def _setting(name: str):
    return lambda: current_app.config[name]
