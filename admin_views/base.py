"""The scoped base view every Flask-Admin model view inherits.

Stock Flask-Admin scopes only the list (``get_query``); edit, details, delete,
actions, export, filter options and form selects each bypass it (see
``docs/flask-admin-internals.md``). Here they all go through one
``scope(user)`` built by ``permissions/``. It also sets how values are shown
(``column_type_formatters``): enums by their title, dates as ``YYYY-MM-DD``, and
times in Beijing time (``local_time``), so every view shows them alike.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from enum import Enum

from flask import abort, has_request_context, redirect, request, url_for
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.model import typefmt
from flask_admin.model.filters import BaseFilter
from flask_babel import format_datetime, gettext
from flask_babel import lazy_gettext as _l
from flask_security import current_user
from sqlalchemy import ColumnElement, func
from werkzeug.routing import BaseConverter
from werkzeug.routing import ValidationError as NoRoute
from wtforms import SelectField
from wtforms.validators import ValidationError

from admin_views import db_errors
from admin_views.exporting import ExportMixin
from admin_views.internals import InternalHooks
from extensions import db

# The one way a moment is shown in the panel: Beijing time (the app's
# BABEL_DEFAULT_TIMEZONE), to the minute. Times are stored as naive UTC.
TIME_FORMAT = "yyyy-MM-dd HH:mm"


def local_time(value: datetime | None) -> str:
    """A stored (naive UTC) time as Beijing time, e.g. ``2026-11-26 20:14``; also
    the templates' ``local_time`` filter."""
    return format_datetime(value, TIME_FORMAT) if value is not None else ""


def day(value: date | None) -> str:
    """A calendar date (not a moment: no time zone), e.g. ``2026-11-26``."""
    return value.strftime("%Y-%m-%d") if value is not None else ""


def _time_cell(view, value, name):
    return local_time(value)


def _date_cell(view, value, name):
    return day(value)


def _enum_cell(view, value, name):
    # Our enums carry a translated ``title`` property; a plain one shows its name.
    return value.title if isinstance(getattr(type(value), "title", None), property) else value.name


def type_formatters(base: dict) -> dict:
    """Flask-Admin's formatters plus ours. Order matters: Flask-Admin takes the
    first type that matches, and a datetime is also a date."""
    ours = {datetime: _time_cell, date: _date_cell, Enum: _enum_cell}
    return {**ours, **{t: f for t, f in base.items() if t not in ours}}


def account():
    """The signed-in account, or None (the object itself, not Flask-Login's
    proxy: a bulk action reads it several times per row)."""
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


# Every key is a PostgreSQL ``integer``: a larger number can match no row (and
# SQLite cannot even bind one of 2**63 or more).
ID_MAX = 2**31 - 1
# Far beyond any list's last page; a larger one is a crafted request.
PAGE_MAX = 100_000
# Query and form parameters that carry whole numbers, with the answer to a value
# that is not one (plain ASCII digits within the bound): an id that cannot
# exist is not found; a page or a year that cannot be is a bad request.
INTEGER_PARAMETERS = {
    "id": (ID_MAX, 404),
    "copy": (ID_MAX, 404),
    "a": (ID_MAX, 404),
    "b": (ID_MAX, 404),
    "page": (PAGE_MAX, 400),
    "page_size": (PAGE_MAX, 400),
    "year": (9999, 400),
}
# Words a whole-number parameter may also be (统计's 全部 years).
PARAMETER_WORDS = {"year": ("all",)}


def whole_number(value, high: int = ID_MAX) -> int | None:
    """``value`` as a whole number from 0 to ``high``, or None. Only ASCII digits:
    ``int()`` also reads other scripts' digits (``"٣"`` is 3) and signs."""
    text = value if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    number = int(text)
    return number if number <= high else None


def parse_id(value) -> int | None:
    """A row id from the browser (1 to ``ID_MAX``), or None."""
    number = whole_number(value)
    return number if number else None


class IdConverter(BaseConverter):
    """``<id:name>`` in a route: a row id in the path, read like ``parse_id`` reads one
    from a query (ASCII digits, 1 to ``ID_MAX``). Anything else matches no route, so it
    is not found (404): werkzeug's ``<int:…>`` takes any size, which the database
    refuses with a 500, and other scripts' digits (``١٢٣`` is 123). Registered once,
    on the app, for the panel's and the public routes (``app.configure_views``)."""

    regex = r"[0-9]{1,20}"

    def to_python(self, value: str) -> int:
        key = parse_id(value)
        if key is None:
            raise NoRoute()
        return key

    def to_url(self, value) -> str:
        return str(int(value))


def row_ids(values: Iterable) -> list[int]:
    """Row ids posted by the browser as integers; anything else matches nothing."""
    return [key for key in (parse_id(value) for value in values) if key is not None]


def guard_request() -> None:
    """Bounds every panel request's input before a view reads it (a
    ``before_request`` of the app, for ``/admin/``): a NUL character anywhere is a
    bad request (PostgreSQL refuses it in text), and the whole-number parameters
    (``INTEGER_PARAMETERS``) must be plain digits within their bound."""
    if not request.path.startswith("/admin"):
        return
    # The query string's parameters; of a posted form only ``id`` (the delete
    # form's): a form's own fields (a project's 年度) get a field message instead.
    sources = [(request.args, INTEGER_PARAMETERS)]
    if request.method == "POST" and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sources.append((request.form, {"id": INTEGER_PARAMETERS["id"]}))
    for source, integers in sources:
        for key, values in source.lists():
            _guard_parameter(key, values, integers.get(key))


def _guard_parameter(key: str, values: list[str], bound: tuple[int, int] | None) -> None:
    """One parameter's values: no NUL character; with a ``bound`` (the highest number,
    the status to refuse with), each empty, one of its words, or a whole number up to it."""
    if "\x00" in key or any("\x00" in value for value in values):
        abort(400)
    if bound is None:
        return
    high, status = bound
    words = PARAMETER_WORDS.get(key, ())
    for value in values:
        if value not in ("", *words) and whole_number(value, high) is None:
            abort(status)


class ListedChoiceMixin:
    """A value outside the field's choices is refused with our own message:
    Flask-Admin looks "Not a valid choice" up in WTForms' catalog, which lacks
    it, so it would show in English."""

    def pre_validate(self, form) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(gettext("Choose one of the listed options.")) from None


class ScopedSelectField(ListedChoiceMixin, QuerySelectField):
    """A select of rows whose query is set per request (``query_factory``)."""


class ChoiceField(ListedChoiceMixin, SelectField):
    """A select of fixed values whose choices may be narrowed per request."""


class ScopedFilterMixin:
    """A filter whose options are computed per request from the account's scope,
    never cached at view construction (Flask-Admin caches ``options`` otherwise)."""

    def __init__(self, *args, options_factory: Callable[[], Iterable] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.options_factory = options_factory

    def get_options(self, view):
        if self.options_factory is None:
            return super().get_options(view)
        if not has_request_context() or account() is None:
            return []
        return [(str(value), str(label)) for value, label in self.options_factory()]


class ScopedModelView(InternalHooks, ExportMixin, ModelView):
    """A model view whose every path is limited to ``scope(user)``.

    Subclasses set ``permission`` (a Flask-Security permission of the account's
    role, for coarse access) and implement ``scope(user)`` with a function from
    ``permissions/``.
    """

    permission: str | None = None
    column_editable_list = ()
    can_view_details = True
    can_set_page_size = True
    page_size = 50
    page_size_options = (20, 50, 100, 200)
    # Flask-Admin's "表中没有任何记录" does not say what to do next; a view may say more.
    empty_list_message = _l("Nothing here matches: change the search or the filters.")
    # Columns for export, as (attribute or callable, header) pairs (``ExportMixin``).
    export_columns: Sequence[tuple[str | Callable, object]] = ()
    column_type_formatters = type_formatters(typefmt.BASE_FORMATTERS)
    column_type_formatters_detail = type_formatters(typefmt.DETAIL_FORMATTERS)

    def __init__(self, model, session=None, **kwargs):
        super().__init__(model, session or db, **kwargs)

    @property
    def db_session(self):
        """The request's SQLAlchemy session (``self.session`` holds the
        Flask-SQLAlchemy extension in Flask-Admin 2)."""
        return db.session

    def get_empty_list_message(self) -> str:
        return str(self.empty_list_message)

    # -- scope -------------------------------------------------------------
    # The account whose list this view builds: None for the signed-in one (the
    # request's); a copy made by ``bound_to`` holds another (a background job's).
    bound_account = None

    def scope(self, user) -> ColumnElement[bool]:
        """The rows ``user`` may see through this view (a ``permissions`` function of
        the account, given explicitly: never the login read behind its back)."""
        raise NotImplementedError

    def list_account(self):
        """The account the view's queries are for: the bound one, else the signed-in."""
        return self.bound_account if self.bound_account is not None else account()

    def bound_to(self, user) -> ScopedModelView:
        """A copy of the view whose every query (``get_query``, the count, the search)
        is limited to ``user``'s scope, with or without a request: how the export and
        its background job build the list of a given account."""
        view = copy.copy(self)
        view.bound_account = user
        return view

    def get_query(self):
        return self.db_session.query(self.model).filter(self.scope(self.list_account()))

    def get_count_query(self):
        scope = self.scope(self.list_account())
        return self.db_session.query(func.count()).select_from(self.model).filter(scope)

    def get_one(self, id):
        """A scoped lookup; an id outside the scope answers 404 as if absent."""
        key = parse_id(id)  # every model of ours has an integer key
        if key is None:
            abort(404)
        found = self.get_query().filter(self.model.id == key).one_or_none()
        if found is None:
            abort(404)
        return found

    # -- access ------------------------------------------------------------
    def is_accessible(self) -> bool:
        user = account()
        return bool(
            user is not None
            and user.is_active
            and (self.permission is None or user.has_permission(self.permission))
        )

    def is_visible(self) -> bool:
        return self.is_accessible()

    def inaccessible_callback(self, name, **kwargs):
        if account() is None:
            return redirect(url_for("security.login", next=request.full_path))
        abort(403)

    # View functions and the switch that enables each: a disabled one answers
    # 404 instead of Flask-Admin's redirect to the list.
    SWITCHES = {
        "create_view": "can_create",
        "edit_view": "can_edit",
        "delete_view": "can_delete",
        "details_view": "can_view_details",
        "export": "can_export",
    }

    def before_access_check(self, name: str) -> None:
        # No inline editing anywhere: x-editable's endpoint checks nothing.
        if name == "ajax_update":
            abort(403)

    def after_access_check(self, name: str) -> None:
        if name in self.SWITCHES and not getattr(self, self.SWITCHES[name]):
            abort(404)

    # Filter options are rebuilt per request, from the account's scope: see
    # ``InternalHooks._get_filter_groups`` and ``ScopedFilterMixin``.

    # -- forms -------------------------------------------------------------
    def scope_form(self, form) -> None:
        """Limit the form's relationship selects to what the account may use;
        a select validates against the same query it lists."""

    def create_form(self, obj=None):
        form = super().create_form(obj)
        self.scope_form(form)
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        self.scope_form(form)
        return form

    def handle_view_exception(self, exc: Exception) -> bool:
        # A failed create, save or delete: a Chinese message, the details to the log.
        return db_errors.handle_view_exception(exc) or super().handle_view_exception(exc)


class ChoiceFilter(ScopedFilterMixin, BaseFilter):
    """Equality on a column, with options from a per-request factory."""

    def __init__(self, column, name, options_factory, coerce=str):
        super().__init__(name, options_factory=options_factory)
        self.column = column
        # An integer column's value is bounded like an id (never "٣" read as 3).
        self.coerce = _bounded_int if coerce is int else coerce

    def validate(self, value) -> bool:
        try:
            self.coerce(value)
        except (TypeError, ValueError):
            return False
        return True

    def clean(self, value):
        return self.coerce(value)

    def apply(self, query, value, alias=None):
        return query.filter(self.column == value)

    def operation(self):
        return _l("equals")


def _bounded_int(value) -> int:
    number = whole_number(value)
    if number is None:
        raise ValueError(value)
    return number
