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

Every bounded text field (``BoundedText``: a ``StringField`` or ``TextAreaField``
whose form's ``text_model`` column has a length, or named in ``text_limits``) gets
its limit from that one source (``models.rules.text_limits``): the ``maxlength``
attribute, a ``data-counter`` that ``static/admin/cme-counter.js`` turns into a live
"已输入 12 / 200 字", and the check. A text over its limit is refused whole with the
field's name, its limit and the count (``rules.too_long``), never cut on save.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_admin.form import BaseForm
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import Form, HiddenField, PasswordField, StringField, TextAreaField, validators
from wtforms.fields.core import UnboundField

from models import CertificateSettings, rules

# The checks Flask-Admin scaffolds for a NOT NULL column.
COLUMN_REQUIRED = (validators.InputRequired, validators.DataRequired)


def whole_number(low: int, high: int) -> list:
    """The checks of a required whole number from ``low`` to ``high`` (a day count, a
    rule's parameter), each refusal in Chinese."""
    return [
        validators.InputRequired(message=_l("This field is required.")),
        validators.NumberRange(
            low,
            high,
            message=_l("Enter a whole number from %(low)s to %(high)s.")
            % {"low": low, "high": high},
        ),
    ]


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


def text_limit(field, limits: Mapping[str, int]) -> int | None:
    """The limit of a text field the user types into (no password, no hidden
    field), or None for a field with no limit or no text."""
    if not isinstance(field, StringField | TextAreaField):
        return None
    if isinstance(field, PasswordField | HiddenField):
        return None
    return limits.get(field.short_name)


def bound_fields(form, limits: Mapping[str, int]) -> None:
    """Give each bounded text field of ``form`` its ``maxlength`` and counter."""
    for field in form:
        if (limit := text_limit(field, limits)) is not None:
            field.render_kw = {
                **(field.render_kw or {}),
                "maxlength": limit,
                "data-counter": limit,
            }


def page_text_limits() -> dict[str, int]:
    """The texts the panel's templates draw without a WTForms form (a reason, the
    certificate settings), by the name ``bounded`` is given, and their limits."""
    settings = rules.text_limits(CertificateSettings)
    return {"reason": rules.MAX_REASON} | {f"certificate_{k}": v for k, v in settings.items()}


def bounded(name: str) -> Markup:
    """The ``maxlength`` and counter attributes of such a text (template global)."""
    limit = int(page_text_limits()[name])
    return Markup(f'maxlength="{limit}" data-counter="{limit}"')


def length_errors(form, limits: Mapping[str, int]) -> dict:
    """{field name: message} for every bounded text field over its limit, named by
    its label (the rules' ``too_long``)."""
    errors = {}
    for field in form:
        limit = text_limit(field, limits)
        if limit is not None and (msg := rules.too_long(field.data, limit, field.label.text)):
            errors[field.short_name] = msg
    return errors


class BoundedText:
    """The limits of a form's text fields: the columns of ``text_model`` (a model
    class; ``rules.text_limits``) and ``text_limits`` for fields of no column of
    their own. Mixed into ``CheckedForm`` and the plain WTForms forms of the panel's
    pages (``BoundedForm``)."""

    text_model = None
    text_limits: Mapping[str, int] = {}

    def limits(self) -> dict[str, int]:
        model = rules.text_limits(self.text_model) if self.text_model is not None else {}
        return {**model, **self.text_limits}

    def bound(self) -> None:
        bound_fields(self, self.limits())

    def too_long(self) -> dict:
        return length_errors(self, self.limits())

    def refuse_too_long(self) -> bool:
        """Put each over-long field's message first (in place of WTForms' or
        Flask-Admin's own ``Length`` message). Returns whether any was."""
        errors = self.too_long()
        for name, message in errors.items():
            self[name].errors = [str(message)]
        return bool(errors)


class BoundedForm(BoundedText, Form):
    """A plain WTForms form of a panel page (not a record of Flask-Admin's) with
    bounded text fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bound()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return not self.refuse_too_long() and valid


class CheckedForm(BoundedText, BaseForm):
    """A form that checks its required fields and then the record as a whole."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bound()

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
        too_long = self.refuse_too_long()
        shown = show_errors(self, self.record_errors() | self.missing())
        return valid and not too_long and not shown


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
