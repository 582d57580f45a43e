"""现场签到, the learner's side: ``/signin/<token>``, a phone-width form (no login).

The token is the one the organiser's sign-in sheet shows as a QR code
(``admin_views/signin_sheet.py``); ``workflow.signin.check`` says whether it may sign
anyone in now. A refusal is a Chinese page: 404 for what is no code of ours, 410 for a
code that no longer works (expired, replaced, closed, the roster reported), 403 on a
day outside the event. The form asks 姓名, 证件类型, 证件号码, 工作单位, 职称 and posts
with the CSRF token; its POSTs are rate-limited per client address
(``SIGNIN_RATE_LIMIT``). What a page shows is the learner's own name and the project's
name: nothing of the roster.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import IdType, rules
from models.base import beijing_today
from workflow import signin
from workflow.errors import ReportChanged

bp = Blueprint("signin", __name__, template_folder="templates")

# Sign-ins to one report take turns (``signin.check(hold=True)``); should the report
# still change under one (an edit in the panel), it is read again, this many times in all.
TRIES = 3
LABELS = {name: rules.ROSTER_LABELS[name] for name in signin.SIGNIN_FIELDS}


@bp.context_processor
def template_globals() -> dict:
    return {"current_locale": str(get_locale()), "labels": LABELS, "id_types": list(IdType)}


@bp.after_request
def not_stored(response):
    # A learner's name on a shared phone's back button is nobody else's business.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _refused(refusal: signin.Refused):
    html = render_template("public/signin_refused.html", title=refusal.title, text=refusal.text)
    return html, refusal.status


def _check(token: str, hold: bool = False) -> signin.Sheet:
    secret = current_app.config["SECRET_KEY"]
    return signin.check(db.session, secret, token, beijing_today(), hold=hold)


@bp.get("/signin/<token>")
def form(token: str):
    try:
        sheet = _check(token)
    except signin.Refused as refusal:
        return _refused(refusal)
    return render_template("public/signin.html", report=sheet.report, values={}, errors={})


@bp.post("/signin/<token>")
def submit(token: str):
    values = {name: request.form.get(name, "") for name in signin.SIGNIN_FIELDS}
    if values["id_type"] not in {t.value for t in IdType}:
        values["id_type"] = IdType.RESIDENT.value
    for attempt in range(TRIES):
        # The report's row is held first in a transaction of its own.
        db.session.rollback()
        try:
            sheet = _check(token, hold=True)
        except signin.Refused as refusal:
            return _refused(refusal)
        report_name = sheet.report.name
        try:
            outcome = signin.sign_in(db.session, sheet, values)
            db.session.commit()
        except ReportChanged:
            db.session.rollback()
            if attempt + 1 < TRIES:
                continue
            raise
        except IntegrityError:
            # The same ID number signed in by another request meanwhile.
            db.session.rollback()
            outcome = signin.Outcome(already=True)
        break
    if outcome.errors:
        return render_template(
            "public/signin.html", report=sheet.report, values=values, errors=outcome.errors
        )
    # The same answer whether the learner was on the roster already or not: the page
    # is no way to learn who attended (signing in twice is still signed in).
    return render_template(
        "public/signin_done.html",
        name=values["name"].strip(),
        project=report_name,
        title=_l("Signed in successfully"),
    )


def init(app: Flask) -> None:
    """Register the pages and limit their POSTs per client address (the login's limiter;
    ``SIGNIN_RATE_LIMIT``: high enough for a hall behind one Wi-Fi address, low enough to
    stop a script). Every POST counts, a successful one too: a script with a good code
    would otherwise fill the roster."""
    app.register_blueprint(bp)
    for limiter in app.extensions.get("limiter", ()):
        app.view_functions["signin.submit"] = limiter.limit(
            lambda: current_app.config["SIGNIN_RATE_LIMIT"],
            methods=["POST"],
            scope="signin-address",
        )(app.view_functions["signin.submit"])
