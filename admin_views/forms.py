"""The one form base of the panel's own forms (units, accounts, disciplines, a
superior's password, the project form) and its one "required" mechanism.

A form checks its fields first (WTForms: a date, a number, a listed choice), then
the record as a whole: each blank required field is told ``models.rules.REQUIRED``,
and ``record_errors`` (the rules of ``models.rules`` and ``accounts``, uniqueness,
what the account may do) adds the rest. Every message is shown next to its field,
one per field: a field already in error is not also told it is missing.

Which fields are required is said once per form, by ``required_fields`` (the
project form reads it from the field vocabulary the rules use; the others name
the fields their rules need). The label's ``*`` is drawn from it; the page sets
no ``required`` attribute, so a new user always gets the server's Chinese message
next to the field, never the browser's own bubble.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_admin.form import BaseForm
from wtforms import validators
from wtforms.fields.core import UnboundField

from models import rules

# The checks Flask-Admin scaffolds for a NOT NULL column.
COLUMN_REQUIRED = (validators.InputRequired, validators.DataRequired)


def blank(value) -> bool:
    """Nothing given: no value, or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


class Required(validators.DataRequired):
    """Marks a field its form requires (``CheckedForm.required_fields`` finds it).

    A ``DataRequired`` so that Flask-Admin's form macro draws the label's ``*``; with
    no field flags, so WTForms writes no ``required`` attribute (no browser bubble).
    It says nothing itself: on a blank value it only stops the field's other checks,
    and the form gives the rules' message."""

    def __init__(self):
        super().__init__()
        self.field_flags = {}

    def __call__(self, form, field):
        if blank(field.data):
            raise validators.StopValidation()


def show_errors(form, errors: Mapping[str, object]) -> dict:
    """Each message next to its field (as ``str``: Flask-Admin shows only ``str``
    errors), one per field. Returns the messages placed."""
    shown = {}
    for name, message in errors.items():
        if name in form and not form[name].errors:
            form[name].errors = [str(message)]
            shown[name] = message
    return shown


def add_errors(form, errors: Mapping[str, object]) -> None:
    """Messages found after validation (e.g. a name taken meanwhile), next to their
    fields, beside any already there."""
    for name, message in errors.items():
        form[name].errors = [*form[name].errors, str(message)]


class CheckedForm(BaseForm):
    """A form that checks its required fields and then the record as a whole."""

    def required_fields(self) -> Iterable[str]:
        """The names of the fields this form requires: by default those declared
        with ``Required()``."""
        return [
            field.short_name
            for field in self
            if any(isinstance(v, Required) for v in field.validators)
        ]

    def required(self, name: str) -> bool:
        """Whether field ``name`` is required: the label's ``*``."""
        return name in set(self.required_fields())

    def record_errors(self) -> dict:
        """{field name: message} for the record as a whole; none by default."""
        return {}

    def missing(self) -> dict:
        """The rules' one message for each required field left blank."""
        return {
            name: rules.REQUIRED
            for name in self.required_fields()
            if name in self and blank(self[name].data)
        }

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        shown = show_errors(self, self.record_errors() | self.missing())
        return valid and not shown


def rules_decide_required(form_class):
    """Make the form's own ``required_fields`` the only judge of required fields on
    ``form_class`` (a form Flask-Admin scaffolded from a model): Flask-Admin adds
    WTForms' InputRequired for every NOT NULL column, whose English message and
    browser check would stand beside ours. ``Optional`` instead stops the field's
    other checks on an empty value (an empty date or number is not also "not a valid
    date")."""
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if not isinstance(unbound, UnboundField):
            continue
        checks = unbound.kwargs.get("validators") or []
        if any(isinstance(v, COLUMN_REQUIRED) for v in checks):
            kept = [v for v in checks if not isinstance(v, (*COLUMN_REQUIRED, validators.Optional))]
            unbound.kwargs["validators"] = [validators.Optional(), *kept]
    return form_class
