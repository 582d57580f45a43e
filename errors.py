"""Error pages in the user's language instead of Werkzeug's English ones.

``init_errors(app)`` registers one handler for every HTTP error and one for
uncaught exceptions. The handler only chooses the layout and the words:

- under ``/api/`` the open-data API's JSON error body (the same as its
  blueprint answers, also for errors routing raises before a blueprint is
  known: a malformed id, a wrong method);
- under ``/admin/`` the panel's layout (menu, unit and person), rendered
  through the dashboard view so Flask-Admin's template context is present;
- elsewhere the public catalog's layout.

Each page keeps the status code and links back to the user's own list.

When the database cannot be reached (stopped, restarting, network gone),
``database_unavailable`` answers 503 with ``Retry-After`` and the page "the
database cannot be reached for the moment", drawn without reading the database
(no menu, no account), and logs one line per kind of failure per
``OUTAGE_LOG_INTERVAL`` instead of a traceback per request.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from flask import Flask, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_security import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

log = logging.getLogger(__name__)

# status: (title, explanation), in the manual's plain words.
MESSAGES = {
    400: (
        _l("The request could not be understood"),
        _l("Something in the address or the form was not valid. Go back and try again."),
    ),
    403: (
        _l("You may not open this page"),
        _l(
            "This page belongs to another unit or to another kind of account."
            " Use the menu to open the pages of your own unit."
        ),
    ),
    404: (
        _l("Page not found"),
        _l(
            "There is no page at this address, or the project is not in your unit's list"
            " (it may have been deleted). Check the address or go back to your list."
        ),
    ),
    405: (
        _l("This action is not possible here"),
        _l(
            "This address cannot be used this way. Open it from the menu or with the"
            " buttons on the page instead of typing it."
        ),
    ),
    413: (
        _l("What you sent is too large"),
        _l("The form or file is larger than the system accepts. Make it smaller and try again."),
    ),
    429: (
        _l("Too many requests"),
        _l("There were too many requests in a short time. Wait a minute and try again."),
    ),
    500: (
        _l("System error"),
        _l(
            "Something went wrong on our side and what you did may not have been saved."
            " Try again later; if it keeps happening, call the support line."
        ),
    ),
}
CSRF_MESSAGE = (
    _l("This page has expired"),
    _l(
        "The form was open too long, or was sent twice, so nothing was saved."
        " Go back to the form, reload it and submit it again."
    ),
)
OUTAGE_MESSAGE = (
    _l("The database cannot be reached for the moment"),
    _l(
        "The system cannot connect to its database at the moment, so nothing was read or saved."
        " Try again in a minute; if it keeps happening, call the support line."
    ),
)
READONLY_MESSAGE = (
    _l("The database cannot be written at the moment"),
    _l(
        "The system's database accepts no changes at the moment, so nothing was saved."
        " Try again in a minute; if it keeps happening, call the support line."
    ),
)
# Seconds a browser (or an API client) is asked to wait before trying again.
RETRY_AFTER_SECONDS = 30
# During an outage every request fails the same way: one log line per kind per interval.
OUTAGE_LOG_INTERVAL = 60.0
# The errors of a database that cannot be reached (or a connection it closed).
DATABASE_GONE = (OperationalError, InterfaceError, DisconnectionError)
# Project lists, most specific first: the first one the account may open is "its" list.
PROJECT_LISTS = ("projects", "review", "audit")


def init_errors(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    # Uncaught exceptions arrive as InternalServerError with the original attached;
    # registering it explicitly keeps them out of the generic handler's routing.
    app.register_error_handler(InternalServerError, internal_error)
    for error in DATABASE_GONE:
        app.register_error_handler(error, database_unavailable)
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first (Flask runs them in
    # reverse): Flask-SQLAlchemy's then finds no session left to remove.
    app.teardown_appcontext(end_session)


def http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        # Redirects raised as exceptions (routing's trailing slash) pass through.
        return error
    if _is_api():
        from public.api import http_error as api_error

        return api_error(error)
    if isinstance(error, CSRFError):
        title, text = CSRF_MESSAGE
    else:
        title, text = MESSAGES.get(error.code) or _generic(error.code)
    response = _page(error.code, title, text, expired=isinstance(error, CSRFError))
    if error.code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def internal_error(error: InternalServerError):
    original = error.original_exception
    if isinstance(original, DATABASE_GONE):
        # Raised outside the view (an after_request hook's write): the view's handler for
        # these never saw it, and the outage page is the right answer.
        return database_unavailable(original)
    # A failed statement leaves PostgreSQL's transaction aborted: roll back
    # before the page (its menu) reads the database again.
    from extensions import db

    try:
        db.session.rollback()
    except DATABASE_GONE as gone:
        return database_unavailable(gone)
    if _is_api():
        from public.api import http_error as api_error

        return api_error(error)
    title, text = MESSAGES[500]
    try:
        return _page(500, title, text)
    except Exception:
        # The page itself failed (the database is down, say): a plain one, no details.
        log.exception("the error page could not be rendered")
        return current_app.response_class(
            f"<!doctype html><meta charset=utf-8><title>{escape(title)}</title>"
            f"<h1>{escape(title)}</h1><p>{escape(text)}</p><p><a href='/'>{escape(_l('Home'))}</a>",
            status=500,
            mimetype="text/html",
        )


class OutageLog:
    """Logs a failure kind once per ``interval`` seconds, with how many were not logged."""

    def __init__(self, interval: float = OUTAGE_LOG_INTERVAL, clock=time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._quiet: dict[str, int] = {}

    def report(self, kind: str, detail: str) -> bool:
        """Log ``kind`` unless it was logged less than ``interval`` ago; True if logged."""
        now = self._clock()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self.interval:
                self._quiet[kind] = self._quiet.get(kind, 0) + 1
                return False
            self._last[kind] = now
            quiet = self._quiet.pop(kind, 0)
        log.error(
            "database unavailable (%s): %s [%d more like it in the last %.0f s not logged]",
            kind,
            detail.splitlines()[0][:300] if detail else "",
            quiet,
            self.interval,
        )
        return True


outage_log = OutageLog()


def end_session(exc: BaseException | None = None) -> None:
    """End the request's database session (Flask-SQLAlchemy's ``session.remove()``) without
    ever raising. The response is built by now: an error here (the ROLLBACK of a connection
    the database just closed) would reach the WSGI server, which answers with its bare
    English 500 instead of the page. It is logged like an outage, the session's connections
    are invalidated (the pool opens new ones) and the session is dropped all the same."""
    from extensions import db

    try:
        db.session.remove()
    except Exception as error:
        original = getattr(error, "orig", None) or error
        outage_log.report(f"teardown {type(original).__name__}", str(original))
        with contextlib.suppress(Exception):
            db.session.invalidate()
        db.session.registry.clear()


def _readonly(error: Exception) -> bool:
    text = str(getattr(error, "orig", error)).lower()
    return "readonly database" in text or "read-only" in text


def database_unavailable(error: Exception):
    """503 with Retry-After while the database cannot be reached (or written)."""
    from extensions import db

    original = getattr(error, "orig", None) or error
    outage_log.report(f"{type(error).__name__}/{type(original).__name__}", str(original))
    # The connection is gone: ending the session may fail too, and must not hide the page.
    with contextlib.suppress(Exception):
        db.session.rollback()
    with contextlib.suppress(Exception):
        db.session.remove()
    title, text = READONLY_MESSAGE if _readonly(error) else OUTAGE_MESSAGE
    if _is_api():
        from public.api import http_error as api_error

        response = api_error(ServiceUnavailable())
    else:
        response = _outage_page(title, text)
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _outage_page(title, text):
    """The public layout, whatever the address: the panel's needs the database (menu, account)."""
    from flask_babel import get_locale

    context = {
        "code": 503,
        "title": title,
        "text": text,
        "links": [(str(_l("Try again")), request.full_path.rstrip("?"))],
        "back_url": None,
        "support_phone": current_app.config.get("SUPPORT_PHONE"),
    }
    try:
        html = render_template("public/error.html", current_locale=str(get_locale()), **context)
    except Exception:  # never a second failure on the outage page
        html = (
            f"<!doctype html><meta charset=utf-8><title>{escape(title)}</title>"
            f"<h1>{escape(title)}</h1><p>{escape(text)}</p>"
        )
    return current_app.response_class(html, status=503, mimetype="text/html")


def _is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _generic(code: int):
    return (
        _l("Error %(code)s", code=code),
        _l("The request could not be completed. Go back and try again."),
    )


def _signed_in() -> bool:
    return bool(current_user and current_user.is_authenticated)


def _back_to_form() -> str:
    """The page the expired form came from, on this site only."""
    referrer = request.referrer or ""
    if referrer.startswith(request.host_url):
        return referrer
    # Without a referrer, the address the form was posted to shows it again.
    return request.full_path.rstrip("?")


def _links() -> list[tuple[str, str]]:
    """(label, url) pairs back to where the user works."""
    if not _signed_in():
        return [
            (str(_l("Published projects")), url_for("public.index")),
            (str(_l("Log in")), url_for("security.login")),
        ]
    links = [(str(_l("Home")), url_for("admin.index"))]
    admin = _admin()
    if admin is not None:
        for endpoint in PROJECT_LISTS:
            view = admin.panel_views.get(endpoint)
            if view is not None and view.is_accessible():
                links.append((str(view.name), url_for(f"{endpoint}.index_view")))
                break
    return links


def _admin():
    admins = current_app.extensions.get("admin") or []
    return admins[0] if admins else None


def _page(code: int, title, text, *, expired: bool = False):
    context = {
        "code": code,
        "title": title,
        "text": text,
        "links": _links(),
        "back_url": _back_to_form() if expired else None,
        "support_phone": current_app.config.get("SUPPORT_PHONE"),
    }
    admin = _admin()
    if request.path.startswith("/admin") and admin is not None:
        html = admin.index_view.render("errors/admin.html", **context)
    else:
        from flask_babel import get_locale

        html = render_template("public/error.html", current_locale=str(get_locale()), **context)
    return current_app.response_class(html, status=code, mimetype="text/html")
