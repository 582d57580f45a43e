"""The private Flask-Admin names of ``admin_views/internals.py`` still exist and still
mean what we use them for. A Flask-Admin upgrade that moves one fails here, before a
user meets a broken list; check the list in ``docs/flask-admin-internals.md`` and
raise ``CHECKED_VERSION`` once every entry is confirmed again."""

from __future__ import annotations

import difflib
import inspect
from importlib.metadata import version
from pathlib import Path

import flask_admin
import pytest
from flask_admin.base import BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import BaseForm
from flask_admin.model.base import BaseModelView, ViewArgs

from admin_views.internals import CHECKED_VERSION, InternalHooks, flask_admin_views, form_object
from admin_views.projects import AuditView, ProjectView
from models import Project

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = Path(flask_admin.__file__).parent / "templates/bootstrap4"
# Our copies of Flask-Admin templates (templates/admin/...), each kept next to the
# pristine upstream file it was forked from (tests/flask_admin_forks/<name>.orig).
FORKS = (
    "admin/actions.html",
    "admin/layout.html",
    "admin/model/layout.html",
    "admin/model/row_actions.html",
)
PRISTINE = Path(__file__).resolve().parent / "flask_admin_forks"


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_the_pinned_and_installed_flask_admin_is_the_checked_one():
    requirements = (ROOT / "requirements.txt").read_text().splitlines()
    pins = [line for line in requirements if line.lower().startswith("flask-admin")]
    assert pins and pins[0].endswith(f"=={CHECKED_VERSION}"), pins
    assert version("flask-admin") == flask_admin.__version__ == CHECKED_VERSION


def test_handle_view_runs_before_every_view_function():
    assert _parameters(BaseView._handle_view) == ["self", "name", "kwargs"]
    # The exposed view functions call it (through _run_view) with the function's name.
    wrapper = inspect.getsource(flask_admin.base._wrap_view)
    assert "_handle_view(f.__name__" in wrapper


def test_the_filter_cache_and_the_groups_the_list_template_reads():
    assert _parameters(BaseModelView._get_filter_groups) == ["self"]
    assert "self._filters = self.get_filters()" in inspect.getsource(
        BaseModelView._refresh_filters_cache
    )
    assert "filter_groups=self._get_filter_groups()" in inspect.getsource(BaseModelView.index_view)
    # Our override is the one the views use, not Flask-Admin's cached one.
    assert AuditView._get_filter_groups is InternalHooks._get_filter_groups


def test_the_list_arguments_the_export_reads():
    """``list_state_from`` reads the arguments as Flask-Admin reads the request: the
    filters by ``_filter_args`` (argument name → index and filter), the sort by index."""
    assert _parameters(BaseModelView._get_column_by_idx) == ["self", "idx"]
    cache = inspect.getsource(BaseModelView._refresh_filters_cache)
    assert "self._filter_args[self.get_filter_arg(i, flt)] = (i, flt)" in cache
    parse = inspect.getsource(BaseModelView._get_list_filter_args)
    assert "idx, flt = self._filter_args[key]" in parse and "flt.validate(value)" in parse
    fields = set(inspect.signature(ViewArgs).parameters)
    assert {"sort", "sort_desc", "search", "filters"} <= fields


def test_a_form_keeps_the_object_it_was_built_for():
    row = object()
    assert form_object(BaseForm(obj=row)) is row
    assert form_object(BaseForm()) is None


def test_a_view_keeps_its_filters_where_we_read_them(app_context):
    """Flask-Admin fills ``_filters`` from ``get_filters()`` when a view is built."""
    view = AuditView(Project, endpoint="internals_check", url="/internals-check")
    assert len(view.filter_list()) == len(AuditView.FILTER_KEYS)
    assert view.filter_list() == list(view._filters)


def test_the_list_counts_through_scalar_and_pages_from_that_count():
    """``ProjectView``'s capped count (``CappedCount.scalar``) is what the list's pager
    reads: Flask-Admin calls ``scalar()`` on the count query and derives ``num_pages``."""
    assert "count_query.scalar()" in inspect.getsource(ModelView.get_list)
    index_view = inspect.getsource(BaseModelView.index_view)
    assert "num_pages = int(ceil(count / float(page_size)))" in index_view
    assert "num_pages=num_pages" in index_view
    template = Path(flask_admin.__file__).parent / "templates/bootstrap4/admin/model/list.html"
    assert "{% block list_pager %}" in template.read_text()


def test_the_search_box_reaches_the_list_through_apply_search():
    """``ProjectView.search_query`` (the trigram candidates) runs because Flask-Admin's
    sqla ``get_list`` calls ``_apply_search`` with these arguments, which
    ``InternalHooks`` hands over."""
    assert _parameters(ModelView._apply_search) == [
        "self",
        "query",
        "count_query",
        "joins",
        "count_joins",
        "search",
    ]
    assert "self._apply_search(" in inspect.getsource(ModelView.get_list)
    assert ProjectView._apply_search is InternalHooks._apply_search
    assert "_apply_search" not in vars(ProjectView)


def test_the_panel_registry_holds_every_view_flask_admin_holds(app_without_db):
    """Our own list (``PanelAdmin.panel_views``) is filled through the public
    ``add_view``; no view reaches Flask-Admin another way and is missed."""
    admin = app_without_db.extensions["admin"][0]
    assert list(admin.panel_views.values()) == flask_admin_views(admin)
    assert admin.panel_views["admin"] is admin.index_view
    assert [v.endpoint for v in admin.views_of(ProjectView)] == ["projects", "review", "audit"]


def test_every_template_we_shadow_is_a_listed_fork():
    """A template of ours with the name of one of Flask-Admin's replaces it: each must
    be listed in FORKS (and in docs/flask-admin-internals.md) with its pristine copy."""
    ours = ROOT / "templates"
    shadowing = {
        str(path.relative_to(ours))
        for path in ours.rglob("*.html")
        if (UPSTREAM / path.relative_to(ours)).exists()
    }
    assert shadowing == set(FORKS)
    doc = (ROOT / "docs/flask-admin-internals.md").read_text()
    for name in FORKS:
        assert f"`templates/{name}`" in doc, name


@pytest.mark.parametrize("name", FORKS)
def test_each_fork_was_made_from_the_installed_flask_admin_template(name):
    """Fails when an upgrade changed a template we forked: compare upstream's new file
    with ``tests/flask_admin_forks/<name>.orig`` (the diff printed here), re-apply our
    change to ``templates/<name>`` on the new file, then copy the new file over the
    ``.orig`` (docs/flask-admin-internals.md, "Upgrading Flask-Admin")."""
    pristine = (PRISTINE / f"{name.removeprefix('admin/')}.orig").read_text()
    installed = (UPSTREAM / name).read_text()
    diff = "".join(
        difflib.unified_diff(
            pristine.splitlines(keepends=True),
            installed.splitlines(keepends=True),
            f"tests/flask_admin_forks/{name.removeprefix('admin/')}.orig",
            f"flask_admin/templates/bootstrap4/{name}",
        )
    )
    assert not diff, f"Flask-Admin changed {name}, which templates/{name} forks:\n{diff}"
