"""The open-data API (``/api/v1``): published projects as JSON, described by OpenAPI 3.1."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, NotFound

from extensions import db
from public import catalog, held, search, serialize, verify
from public.caching import conditional
from public.openapi import openapi_document

bp = Blueprint("public_api", __name__, url_prefix="/api/v1")
# Labels in JSON are always Chinese, the catalog's language (an API client has no session
# to choose another); error messages are always English, like the field names.
LABEL_LOCALE = "zh_Hans_CN"
ERROR_LOCALE = "en"


def _links(params: search.SearchParams, result: search.Page) -> dict:
    def link(number: int) -> str:
        return serialize.site_url("public_api.projects", **params.query_args(page=number))

    return {
        "self": link(result.page),
        "first": link(1),
        "last": link(result.pages),
        "prev": link(result.page - 1) if result.page > 1 else None,
        "next": link(result.page + 1) if result.page < result.pages else None,
    }


@bp.get("/projects")
def projects() -> Response:
    """Published projects matching the filters, one page; with ``updated_since``, the changes
    feed (withdrawals included)."""
    params = search.parse(request.args, allow_updated_since=True)
    session = db.session
    if params.updated_since is not None:
        result = search.changes_page(session, params)
    else:
        result = search.page(session, params, lecturers=True, total=catalog.count(session, params))
    facts = held.held_of(
        session, [i.id for i in result.items if not isinstance(i, search.Withdrawn)]
    )
    with force_locale(LABEL_LOCALE):
        items = [serialize.item_json(item, facts) for item in result.items]
    body = {
        "items": items,
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "pages": result.pages,
        "links": _links(params, result),
    }
    return conditional(jsonify(body), last_modified=catalog.changed_at(session))


@bp.get("/projects/<id:project_id>")
def project(project_id: int) -> Response:
    """One published project; 404 for anything else, as if it never existed."""
    if (page := search.published_page(db.session, project_id)) is None:
        raise NotFound()
    found, facts, last_modified = page
    with force_locale(LABEL_LOCALE):
        body = serialize.project_json(found, facts)
    return conditional(jsonify(body), last_modified=last_modified)


@bp.get("/certificates/<code>")
def certificate(code: str) -> Response:
    """A certificate by its verification code, as ``/verify/<code>`` shows it (masked);
    read now, never cached; 404 for every unknown code alike. Rate-limited with the
    verification page (``public.verify.LIMITED``)."""
    found = verify.by_code(code)
    if found is None:
        raise NotFound()
    with force_locale(LABEL_LOCALE):
        body = verify.certificate_json(found)
    return jsonify(body)


@bp.get("/openapi.json")
def openapi() -> Response:
    return conditional(jsonify(openapi_document()))


@bp.get("/<path:unknown>")
def unknown_path(unknown: str) -> Response:
    # Any other URL under /api/v1 (a non-numeric id too) would otherwise get the site's HTML
    # 404 page: routing errors never reach a blueprint's error handlers.
    raise NotFound()


def error_body(code: str, message, parameter: str | None = None) -> dict:
    with force_locale(ERROR_LOCALE):
        error = {"code": code, "message": str(message)}
    if parameter is not None:
        error["parameter"] = parameter
    return {"error": error}


def bad_parameter(error: search.BadParameter):
    return jsonify(error_body("invalid_parameter", error.message, error.parameter)), 400


def http_error(error: HTTPException):
    """Errors under /api/ as JSON (the status's standard phrase, never the request's input)."""
    code = (error.name or "error").lower().replace(" ", "_")
    messages = {404: _l("Not found."), 405: _l("Method not allowed.")}
    message = messages.get(error.code, error.name)
    response = jsonify(error_body(code, message))
    response.status_code = error.code or 500
    if error.code == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


@bp.after_request
def open_data_headers(response: Response) -> Response:
    # Open data: any web page may read it (no cookies are involved).
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.path.startswith(f"{bp.url_prefix}/certificates/"):
        # A certificate's status is live and never indexed (public.verify).
        response.headers["X-Robots-Tag"] = verify.NOINDEX
        response.headers["Cache-Control"] = "no-store"
    return response


bp.register_error_handler(search.BadParameter, bad_parameter)
bp.register_error_handler(HTTPException, http_error)
