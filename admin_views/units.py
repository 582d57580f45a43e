"""单位管理 (``/admin/units/``): the unit tree a committee or society manages, each
unit indented by its level, with its accounts and projects counted."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, inspect, select

import permissions
from admin_views.account_forms import (
    UNIT_FIELDS,
    UNIT_LABELS,
    UnitCreateForm,
    UnitEditForm,
    not_under,
)
from admin_views.base import account
from admin_views.internals import form_object
from admin_views.management import BarChoice, ManagementView, status_cell
from models import Project, Unit, UnitKind, User

# Tree order for the unit list: the committee, then each society followed by its
# branches, issuers among the societies.
_TREE_GROUP = case(
    (Unit.kind == UnitKind.COMMITTEE, 0),
    (Unit.kind == UnitKind.BRANCH, Unit.parent_id),
    else_=Unit.id,
)
_TREE_LEVEL = case((Unit.kind == UnitKind.COMMITTEE, 1), (Unit.kind == UnitKind.BRANCH, 3), else_=2)


def unit_level(unit: Unit) -> int:
    """The unit's depth in its tree (the committee 0, a society or issuer 1, a branch 2)."""
    return {UnitKind.COMMITTEE: 0, UnitKind.BRANCH: 2}.get(unit.kind, 1)


def unit_tallies(session, ids) -> dict[int, tuple[int, int]]:
    """{unit id: (accounts, projects)} of the units ``ids``, in one statement
    whatever their number (the list's page, already scoped)."""
    if not ids:
        return {}
    accounts = (
        select(func.count()).select_from(User).where(User.unit_id == Unit.id).scalar_subquery()
    )
    projects = (
        select(func.count())
        .select_from(Project)
        .where(Project.owner_unit_id == Unit.id)
        .scalar_subquery()
    )
    rows = session.execute(select(Unit.id, accounts, projects).where(Unit.id.in_(ids)))
    return {unit_id: (users, filed) for unit_id, users, filed in rows}


class UnitView(ManagementView):
    """单位管理: the committee manages every unit of its tree, a society its own
    unit's contact details and its branches. The list is the tree (each unit
    indented by its level) with each unit's accounts and projects counted."""

    permission = "unit-manage"
    added_message = _l("Unit “%(name)s” added.")
    saved_message = _l("Unit “%(name)s” saved.")
    add_title = _l("Add unit")
    edit_title = _l("Modify unit")
    search_hint = _l("Unit name, person in charge, telephone or address")
    form_sections = (
        (_l("Basic information"), ("kind", "parent", "name")),
        (_l("Contact details"), ("manager", "phone", "address", "postal_code")),
    )
    confirm_questions = {
        "deactivate": _l(
            "Deactivate “%(name)s”? Its accounts can no longer log in. Nothing is deleted;"
            " it can be activated again."
        ),
    }
    column_list = ["name", "kind", "manager", "phone", "active"]
    column_details_list = [
        "name",
        "kind",
        "parent",
        "address",
        "manager",
        "phone",
        "postal_code",
        "active",
        "created_at",
        "updated_at",
    ]
    column_labels = UNIT_LABELS
    column_formatters = {
        "kind": lambda v, c, unit, n: unit.kind.title,
        "parent": lambda v, c, unit, n: unit.parent.name if unit.parent else "",
        "active": status_cell,
    }
    column_formatters_detail = column_formatters
    column_searchable_list = ["name", "manager", "phone", "address"]
    column_sortable_list = []
    column_default_sort = [(_TREE_GROUP, False), (_TREE_LEVEL, False), ("name", False)]
    form_create_rules = ("kind", "parent", *UNIT_FIELDS)
    form_edit_rules = UNIT_FIELDS

    def scope(self, user):
        return permissions.unit_management(user)

    def bar_choices(self) -> list[BarChoice]:
        kinds = [(kind.value, str(kind.title)) for kind in UnitKind]
        kind = BarChoice("kind", str(UNIT_LABELS["kind"]), kinds, self._arg("kind"))
        return [kind, self.status_choice()]

    def bar_conditions(self) -> list:
        kind = self._arg("kind")
        chosen = [Unit.kind == UnitKind(kind)] if kind in {k.value for k in UnitKind} else []
        return chosen + self.status_condition(Unit.active)

    def tallies(self, rows) -> dict[int, tuple[int, int]]:
        """(accounts, projects) of each unit on the page."""
        return unit_tallies(self.db_session, [unit.id for unit in rows])

    def level(self, unit: Unit) -> int:
        return unit_level(unit)

    def get_create_form(self):
        return UnitCreateForm

    def get_edit_form(self):
        return UnitEditForm

    def scope_form(self, form) -> None:
        if "kind" in form:
            form.kind.choices = [
                (kind.value, kind.title) for kind in permissions.creatable_unit_kinds(account())
            ]
            form.parent.query_factory = self.parent_choices
        unit = form_object(form)
        if unit is not None and not permissions.can_rename_unit(account(), unit):
            form.name.render_kw = {"readonly": True}

    def parent_choices(self) -> list[Unit]:
        """Active units the account may place a new unit under: a unit it manages
        whose kind is the parent kind of a kind it may create."""
        kinds = {kind.parent_kind for kind in permissions.creatable_unit_kinds(account())}
        stmt = (
            select(Unit)
            .where(permissions.unit_management(account()), Unit.kind.in_(kinds), Unit.active)
            .order_by(Unit.kind, Unit.name)
        )
        return self.db_session.scalars(stmt).all()

    def on_model_change(self, form, unit, is_created) -> None:
        # Checked again where the row is written: the form is only the first gate.
        if is_created and not permissions.can_create_unit(account(), unit.kind, unit.parent):
            raise PermissionError(str(not_under(unit.kind, unit.parent)))
        if not is_created and not permissions.can_manage_unit(account(), unit):
            raise PermissionError(gettext("You may not change this unit."))
        renamed = inspect(unit).attrs.name.history.has_changes()
        if renamed and not is_created and not permissions.can_rename_unit(account(), unit):
            raise PermissionError(str(_l("Only the committee can change this unit's name.")))

    def row_title(self, unit) -> str:
        return unit.name

    def may_toggle(self, unit) -> str | None:
        if unit.id == account().unit_id:
            return gettext("you cannot deactivate or activate your own unit")
        if not permissions.can_deactivate_unit(account(), unit):
            return gettext("not permitted")
        return None
