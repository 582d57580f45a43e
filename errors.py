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
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_security import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

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
# Project lists, most specific first: the first one the account may open is "its" list.
PROJECT_LISTS = ("projects", "review", "audit")


def init_errors(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    # Uncaught exceptions arrive as InternalServerError with the original attached;
    # registering it explicitly keeps them out of the generic handler's routing.
    app.register_error_handler(InternalServerError, internal_error)


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
    # A failed statement leaves PostgreSQL's transaction aborted: roll back
    # before the page (its menu) reads the database again.
    from extensions import db

    db.session.rollback()
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
            view = next((v for v in admin._views if getattr(v, "endpoint", None) == endpoint), None)
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
