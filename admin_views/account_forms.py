"""The forms of unit, account and discipline management (``admin_views.units``,
``admin_views.accounts``, ``admin_views.disciplines``) and of a superior's password reset.

Each is a ``CheckedForm`` (``admin_views.forms``): its required fields are marked
``Required()`` (the label's ``*``, the rules' one message), and ``record_errors``
asks ``models.rules`` and ``accounts`` about the record as a whole.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import IntegerField, PasswordField, SelectField, StringField, validators

import permissions
from accounts import (
    UNIT_NAME_TAKEN,
    contact_errors,
    new_account_errors,
    password_errors,
    unit_name_taken,
)
from admin_views.base import ScopedSelectField, account
from admin_views.forms import CheckedForm, Required
from admin_views.internals import form_object
from extensions import db
from models import Discipline, Unit, UnitKind, User, rules

UNIT_FIELDS = ("name", "address", "manager", "phone", "postal_code")
MAX_SORT_ORDER = 9999
ACTIVE_TITLES = {True: _l("Active"), False: _l("Deactivated")}

UNIT_LABELS = {
    "name": _l("Unit name"),
    "kind": _l("Unit type"),
    "parent": _l("Parent unit"),
    "address": _l("Address"),
    "manager": _l("Person in charge"),
    "phone": _l("Telephone"),
    "postal_code": _l("Postal code"),
    "active": _l("Status"),
    "created_at": _l("Created"),
    "updated_at": _l("Updated"),
}
USER_LABELS = {
    "username": _l("Username"),
    "display_name": _l("Full name"),
    "unit": _l("Unit"),
    "phone": _l("Telephone"),
    "email": _l("E-mail"),
    "active": _l("Status"),
    "must_change_password": _l("Must change password"),
    "password": _l("Password"),
    "password_confirm": _l("Repeat the password"),
    "created_at": _l("Created"),
}
DISCIPLINE_LABELS = {
    "name": _l("Discipline name"),
    "sort_order": _l("Sort order"),
    "active": _l("Status"),
}


def strip(value):
    return value.strip() if isinstance(value, str) else value


def blank_to_none(value):
    value = strip(value)
    return value or None


def unit_label(unit: Unit) -> str:
    label = f"{unit.name}（{unit.kind.title}）"
    return label if unit.active else f"{label} — {ACTIVE_TITLES[False]}"


def not_under(kind: UnitKind, parent: Unit | None):
    """Why a unit of ``kind`` may not be created under ``parent``."""
    return _l(
        "A unit of type “%(kind)s” cannot be created under “%(parent)s”.",
        kind=kind.title,
        parent=parent.name if parent is not None else "",
    )


def _text(label, required=True, filters=(strip,)):
    return StringField(label, validators=[Required()] if required else [], filters=list(filters))


def _unit_select(label):
    return ScopedSelectField(
        label, query_factory=list, get_label=unit_label, validators=[Required()]
    )


class UnitEditForm(CheckedForm):
    """A unit's contact details: what may change after creation."""

    text_model = Unit

    name = _text(UNIT_LABELS["name"])
    address = _text(UNIT_LABELS["address"])
    manager = _text(UNIT_LABELS["manager"])
    phone = _text(UNIT_LABELS["phone"])
    postal_code = _text(UNIT_LABELS["postal_code"])

    def record_errors(self) -> dict:
        errors = rules.validate_unit({name: self[name].data for name in UNIT_FIELDS})
        unit = form_object(self)
        if self.name.data != unit.name and not permissions.can_rename_unit(account(), unit):
            # The field is read-only on the page; a crafted POST is refused too.
            return errors | {"name": _l("Only the committee can change this unit's name.")}
        if "name" not in errors and unit_name_taken(db.session, self.name.data, unit.parent, unit):
            errors["name"] = UNIT_NAME_TAKEN
        return errors


class UnitCreateForm(UnitEditForm):
    """A new unit: its kind and parent are chosen once (their choices are set
    per request from the account's scope), and checked against what the
    signed-in account may create where."""

    kind = SelectField(UNIT_LABELS["kind"], choices=[], coerce=UnitKind, validators=[Required()])
    parent = _unit_select(UNIT_LABELS["parent"])

    def record_errors(self) -> dict:
        errors = rules.validate_unit({name: self[name].data for name in UNIT_FIELDS})
        kind, parent = self.kind.data, self.parent.data
        if not isinstance(kind, UnitKind) or parent is None or self.parent.errors:
            return errors
        if not permissions.can_create_unit(account(), kind, parent):
            return errors | {"parent": not_under(kind, parent)}
        if "name" not in errors and unit_name_taken(db.session, self.name.data, parent):
            errors["name"] = UNIT_NAME_TAKEN
        return errors


class AccountEditForm(CheckedForm):
    text_model = User
    display_name = _text(USER_LABELS["display_name"])
    unit = _unit_select(USER_LABELS["unit"])
    phone = _text(USER_LABELS["phone"], required=False, filters=(blank_to_none,))
    email = _text(USER_LABELS["email"], required=False, filters=(blank_to_none,))

    def record_errors(self) -> dict:
        errors = contact_errors(self.data)
        me, user = account(), form_object(self)
        moved = self.unit.data is not None and self.unit.data.id != me.unit_id
        if user is not None and user.id == me.id and moved:
            errors["unit"] = _l("You cannot move your own account to another unit.")
        return errors


class PasswordForm(CheckedForm):
    """A password given by a superior, typed twice, checked by
    Flask-Security's policy (``accounts.password_errors``)."""

    password = PasswordField(USER_LABELS["password"], validators=[Required()])
    password_confirm = PasswordField(USER_LABELS["password_confirm"], validators=[Required()])

    # The account whose password is set (its username, unit and current password
    # are refused too); set by the view.
    account = None

    def record_errors(self) -> dict:
        errors, normalized = password_errors(
            self.password.data, self.password_confirm.data, user=self.account
        )
        if normalized is not None:
            self.password.data = normalized
        return errors


class AccountCreateForm(AccountEditForm, PasswordForm):
    """A new account: every check of ``accounts.new_account_errors``, the
    same as ``flask create-committee``'s. The view creates it through
    ``accounts.create_account``, not ``populate_obj``."""

    username = _text(USER_LABELS["username"])

    def record_errors(self) -> dict:
        errors, cleaned = new_account_errors(self.data)
        for name in ("username", "password"):
            if cleaned[name] is not None:
                self[name].data = cleaned[name]
        return errors


class DisciplineForm(CheckedForm):
    text_model = Discipline
    name = _text(DISCIPLINE_LABELS["name"])
    # Left empty, a new discipline goes last (the view fills it in).
    sort_order = IntegerField(DISCIPLINE_LABELS["sort_order"], validators=[validators.Optional()])

    def validate_sort_order(self, field) -> None:
        if field.data is not None and not 0 <= field.data <= MAX_SORT_ORDER:
            raise validators.ValidationError(
                str(_l("Enter a whole number from 0 to %(high)s.", high=MAX_SORT_ORDER))
            )

    def record_errors(self) -> dict:
        # Unique within the signed-in committee's own list (another tree may
        # have the same name).
        stmt = select(Discipline.id).where(
            Discipline.name == self.name.data, permissions.discipline_ownership(account())
        )
        discipline = form_object(self)
        if discipline is not None and discipline.id is not None:
            stmt = stmt.where(Discipline.id != discipline.id)
        if db.session.scalar(stmt.limit(1)) is not None:
            return {"name": _l("This discipline is already in the list.")}
        return {}
