"""学科 (``/admin/disciplines/``): the committee's list of disciplines."""

from __future__ import annotations

from flask import request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

import permissions
from admin_views.account_forms import DISCIPLINE_LABELS, MAX_SORT_ORDER, DisciplineForm
from admin_views.base import account
from admin_views.management import BarChoice, ManagementView, status_cell
from models import Discipline


class DisciplineView(ManagementView):
    """学科: the committee's list of disciplines (add, rename, reorder,
    deactivate). A discipline is never deleted: projects refer to it."""

    permission = "discipline-manage"
    added_message = _l("Discipline “%(name)s” added.")
    saved_message = _l("Discipline “%(name)s” saved.")
    column_list = ["name", "sort_order", "active"]
    column_details_list = column_list
    column_labels = DISCIPLINE_LABELS
    column_formatters = {"active": status_cell}
    column_formatters_detail = column_formatters
    column_searchable_list = ["name"]
    column_sortable_list = []
    column_default_sort = [("sort_order", False), ("id", False)]
    form = DisciplineForm
    add_title = _l("Add discipline")
    edit_title = _l("Modify discipline")
    search_hint = _l("Discipline name")
    form_sections = ((_l("Basic information"), ("name", "sort_order")),)

    def scope(self, user):
        # The committee's own list: another tree's id answers 404.
        return permissions.discipline_ownership(user)

    def bar_choices(self) -> list[BarChoice]:
        return [self.status_choice()]

    def bar_conditions(self) -> list:
        return self.status_condition(Discipline.active)

    def row_title(self, discipline) -> str:
        return discipline.name

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if request.method == "GET":
            form.sort_order.data = self._next_sort_order()
        return form

    def on_model_change(self, form, discipline, is_created) -> None:
        if is_created:
            discipline.committee_id = permissions.own_committee_id(account())
        elif discipline.committee_id != permissions.own_committee_id(account()):
            raise PermissionError(gettext("You may not change this discipline."))
        if discipline.sort_order is None:
            # Not flushed first: the new row has no order yet.
            with self.db_session.no_autoflush:
                discipline.sort_order = self._next_sort_order()

    def _next_sort_order(self) -> int:
        highest = self.db_session.scalar(
            select(func.max(Discipline.sort_order)).where(
                permissions.discipline_ownership(account())
            )
        )
        return min((highest or 0) + 1, MAX_SORT_ORDER)
