"""Every private Flask-Admin name this project relies on, and nothing else.

Flask-Admin offers no public hook for a few things the panel needs; the code that
touches its private names lives here, so an upgrade is checked in one place
(``tests/test_flask_admin_internals.py`` fails when one of them moves) and the rest
of the panel calls the public-named wrappers below. Checked against Flask-Admin
``CHECKED_VERSION``; ``docs/flask-admin-internals.md`` explains each entry.

Each private name, what we use it for, and why no public hook serves:

``BaseView._handle_view(name, **kwargs)`` (overridden by ``InternalHooks``)
    Refuse ``ajax_update`` before anything else; answer 404 (not Flask-Admin's
    redirect) for a view function a switch (``can_edit`` ...) disables. Public
    ``is_accessible`` / ``inaccessible_callback`` see the account, not which view
    function is called.
``BaseModelView._filters``
    The view's filters, read per request. Filled by the private
    ``_refresh_filters_cache``; there is no public accessor.
``BaseModelView._get_filter_groups()`` (overridden)
    Filter options computed per request from the account's scope (a unit is offered
    only its own units). Flask-Admin computes the options once, at start-up, outside
    any request (so without an account); the list template reads this method.
``BaseModelView._filter_args``, ``_get_column_by_idx(idx)``
    The list's sort, search and filters read from a query string's arguments the way
    Flask-Admin's ``_get_list_extra_args`` reads them from the request
    (``list_state_from``), for our export of exactly that list, also in a background
    job that has no request; the public ``get_list`` takes only the parsed values.
``ModelView._apply_search(query, count_query, joins, count_joins, search)`` (overridden)
    Hands over to the public-named ``search_query``: ``ProjectView`` adds the trigram
    index's candidates to Flask-Admin's ILIKE per term. Flask-Admin has no public hook
    between parsing the search box and running the list's queries.
``Admin._views`` (read only by ``flask_admin_views``, for the test)
    Flask-Admin's own list of the views; the panel keeps its own
    (``admin_views/registry.py``), and the test checks that both hold the same views.
``flask_admin.form.BaseForm._obj``
    The row an edit form was built for (checks that compare old and new values).
    WTForms does not keep the ``obj`` it was given; Flask-Admin keeps it privately.

Public names whose behaviour we rely on (checked by the same test): the sqla
``ModelView.get_list`` counts with ``count_query.scalar()`` and ``index_view`` turns that
count into the pager's ``num_pages``; ``ProjectView``'s capped count
(``LIST_COUNT_CAP``) hooks in there.

Replaced by public hooks (no longer used): display lambdas (``column_type_formatters``).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, NamedTuple

CHECKED_VERSION = "2.2.1"


class ListState(NamedTuple):
    """A list's sort column (or None), descending, search and filter tuples: what
    ``get_list`` takes."""

    sort: Any
    descending: bool | int | None
    search: str | None
    filters: list | None


def flask_admin_views(admin) -> list:
    """The views Flask-Admin holds (the index view first): only for the test that
    checks our own registry (``PanelAdmin.panel_views``) misses none."""
    return list(admin._views)


def form_object(form) -> Any:
    """The model instance an admin form was built for (None on a create form)."""
    return form._obj


class InternalHooks:
    """Mixin for a Flask-Admin ``ModelView``: the private overrides, each handing
    over to a public-named method a subclass may override."""

    def before_access_check(self, name: str) -> None:
        """Called before Flask-Admin checks ``is_accessible`` for view function
        ``name``; may ``abort()``."""

    def after_access_check(self, name: str) -> None:
        """Called once the account may use the view, before view function ``name``
        runs; may ``abort()``."""

    def _handle_view(self, name, **kwargs):
        self.before_access_check(name)
        response = super()._handle_view(name, **kwargs)
        if response is None:
            self.after_access_check(name)
        return response

    def search_query(self, query, count_query, joins, count_joins, search: str):
        """The list's search box applied to the page's and the count's queries
        (Flask-Admin's ILIKE per term); a subclass may narrow them further, starting
        from ``super().search_query(...)``. Returns the four, as Flask-Admin does."""
        return super()._apply_search(query, count_query, joins, count_joins, search)

    def _apply_search(self, query, count_query, joins, count_joins, search):
        return self.search_query(query, count_query, joins, count_joins, search)

    def filter_list(self) -> list:
        """The view's filters (``get_filters()``, as Flask-Admin cached them)."""
        return list(self._filters or ())

    def _get_filter_groups(self):
        """The filter widgets' data, with options rebuilt per request (the list
        template reads this)."""
        filters = self.filter_list()
        if not filters:
            return None
        groups: OrderedDict[str, list] = OrderedDict()
        for index, flt in enumerate(filters):
            options = flt.get_options(self)
            groups.setdefault(str(flt.name), []).append(
                {
                    "index": index,
                    "arg": self.get_filter_arg(index, flt),
                    "operation": str(flt.operation()),
                    "options": [(str(k), str(v)) for k, v in options] if options else None,
                    "type": flt.data_type,
                }
            )
        return groups

    def list_state_from(self, args) -> ListState:
        """The list's state as the query string's ``args`` (a ``MultiDict``) give it, read
        the way the list page reads its request (Flask-Admin's ``_get_list_extra_args``)
        but from the arguments alone: a background job has them, not the request. A
        filter value the filter refuses is left out (the page flashes it)."""
        sort = self._get_column_by_idx(args.get("sort", None, type=int))
        filters = None
        if self._filters:
            known = self._filter_args or {}
            chosen = []
            for arg in args:
                pos, _, key = arg[3:].partition("_")
                if not arg.startswith("flt") or key not in known:
                    continue
                index, flt = known[key]
                value = args[arg]
                if flt.validate(value):
                    chosen.append((pos, (index, str(flt.name), value)))
            filters = [flt for _, flt in sorted(chosen, key=lambda item: item[0])]
        descending = args.get("desc", None, type=int)
        return ListState(sort[0] if sort else None, descending, args.get("search"), filters)
