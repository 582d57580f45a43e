"""The public catalog pages: search (``/``), one project, and exports of a search."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template, request
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import NotFound

import exports
from extensions import db
from models import Project, ProjectLevel, utcnow
from models.vocabulary import label, template_vocabulary
from public import catalog, held, search, serialize
from public.caching import conditional

bp = Blueprint("public", __name__, template_folder="templates")

# The form's labels, to name a rejected parameter the way the page does.
PARAMETER_LABELS = {
    "q": _l("Keyword"),
    "year": label("year"),
    "level": label("level"),
    "discipline": label("discipline"),
    "unit": label("owner_unit"),
    "date_from": _l("Held from"),
    "date_to": _l("Held until"),
    "sort": _l("Sort by"),
    "page": _l("Page"),
    "per_page": _l("Per page"),
    "updated_since": "updated_since",
}


@bp.context_processor
def template_globals() -> dict:
    return {"current_locale": str(get_locale()), **template_vocabulary()}


@bp.after_request
def vary_on_language(response: Response) -> Response:
    # The language comes from a cookie: a shared cache must keep one copy per language.
    response.vary.add("Cookie")
    return response


def _explain(error: search.BadParameter) -> str:
    """The error in the page's language, naming the field; the rejected value is not repeated."""
    label = PARAMETER_LABELS.get(error.parameter, error.parameter)
    return _("%(field)s %(message)s.", field=label, message=error.message)


def _options() -> dict:
    """The choices of the search form, each drawn from published projects only."""
    return {
        **catalog.options(db.session),
        "discipline_tags": catalog.option_tags(
            db.session, "disciplines", request.args.get("discipline")
        ),
        "unit_tags": catalog.option_tags(db.session, "units", request.args.get("unit")),
        "levels": list(ProjectLevel),
        "sorts": search.SORT_TITLES,
        "default_sort": search.SORT_DEFAULT,
        "per_page_choices": (10, 20, 50, 100),
    }


def _search_page(params, result, error=None, status: int = 200):
    html = render_template(
        "public/index.html",
        params=params,
        result=result,
        error=error,
        form=request.args,
        # 已举办 of the page's projects (their report accepted): one SELECT … IN.
        held=held.held_of(db.session, [p.id for p in result.items]) if result else {},
        **_options(),
    )
    return html, status


@bp.get("/")
def index():
    """Search published projects: filters, sorting, pages, and links to the exports."""
    try:
        params = search.parse(request.args)
    except search.BadParameter as error:
        return _search_page(None, None, _explain(error), 400)
    result = search.page(db.session, params, total=catalog.count(db.session, params))
    return _search_page(params, result)


@bp.get("/projects/<id:project_id>")
def project(project_id: int) -> Response:
    """One published project, at a permalink that never changes; 404 for anything else."""
    if (page := search.published_page(db.session, project_id)) is None:
        raise NotFound()
    found, facts, last_modified = page
    response = make_response(render_template("public/detail.html", project=found, held=facts))
    return conditional(response, last_modified=last_modified)


def _export(kind: str):
    """Export the whole current search (not only the page shown), or explain why not."""
    try:
        params = search.parse(request.args)
    except search.BadParameter as error:
        return _search_page(None, None, _explain(error), 400)
    limit = exports.row_limit(kind)
    total = catalog.count(db.session, params)
    if limit and total > limit:
        message = _(
            "%(total)s projects match: more than the %(limit)s an export may hold. "
            "Narrow the search.",
            total=total,
            limit=limit,
        )
        return _search_page(params, search.page(db.session, params, total=total), message, 400)
    stem = _("Published CME projects")
    filename = f"{stem}_{format_date(utcnow(), 'yyyy-MM-dd')}.{kind}"
    rows = _export_rows(params, total)
    writer = exports.csv_response if kind == "csv" else exports.xlsx_response
    # The count above is the bound, so the module's own cut never truncates silently.
    return writer(filename, serialize.export_headers(), rows, max_rows=0)


def _export_rows(params: search.SearchParams, total: int):
    """Rows read while the download is sent, a batch per short transaction of its own
    (``exports.batched_rows``): a client that reads slowly or not at all holds no database
    connection. The ids are taken now, in the search's order; a project withdrawn since is
    left out."""
    order = search.ordered(params).with_only_columns(Project.id).limit(total)
    ids = list(db.session.scalars(order))
    # End the request's transaction before the download starts.
    db.session.rollback()
    return exports.batched_rows(
        db.engine,
        ids,
        lambda session, chunk: session.scalars(
            search.published_projects().where(Project.id.in_(chunk))
        ),
        lambda projects: [serialize.export_row(project) for project in projects],
    )


@bp.get("/export.csv")
def export_csv():
    return _export("csv")


@bp.get("/export.xlsx")
def export_xlsx():
    return _export("xlsx")


@bp.errorhandler(NotFound)
def not_found(error):
    return render_template("public/not_found.html"), 404
