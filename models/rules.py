"""Field rules shared by forms, the CLI and the models (docs/domain.md#field-rules).

Each rule takes a cleaned value and returns ``None`` or a translatable message;
``validate_*`` functions check a whole record and return ``{field: message}``.
"""

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

POSTAL_CODE = re.compile(r"\d{6}")
PHONE_CHARS = re.compile(r"[0-9()（）+\-\s/;；,，、转]+")
MIN_PHONE_DIGITS = 7
MAX_CREDITS = 30
MAX_PARTICIPANTS = 100_000
MAX_HOURS = 1_000
MIN_YEAR, MAX_YEAR = 2000, 2100
# Texts without a column length of their own (备注, reasons): long enough for any
# real note, short enough that nobody stores megabytes in one.
MAX_REMARKS = 2000
MAX_REASON = 500
# The series the committee numbers published society projects in ("2026-XH-00055",
# ``workflow.engine.format_number``), spacing and case aside. An issuer's own number
# may never take this form: a number the committee's counter will reach must not be
# held by a project the committee cannot see, or every later publish would collide.
COMMITTEE_SERIES = re.compile(r"\s*\d{4}\s*-\s*XH\s*-\s*\d+\s*", re.IGNORECASE)

# Every field a project's owner fills in, in the order of the form (docs/domain.md#projects).
PROJECT_FIELDS = (
    "year",
    "project_no",
    "name",
    "level",
    "discipline",
    "organizer",
    "co_organizer",
    "principal",
    "principal_title",
    "contact",
    "phone",
    "start_date",
    "end_date",
    "venue",
    "mode",
    "audience",
    "planned_participants",
    "theory_hours",
    "practice_hours",
    "credits",
    "remarks",
)
UNIT_REQUIRED = ("name", "address", "manager", "phone", "postal_code")
OPTIONAL_PROJECT_FIELDS = {
    "project_no",
    "co_organizer",
    "principal_title",
    "practice_hours",
    "remarks",
}
PROJECT_REQUIRED = tuple(f for f in PROJECT_FIELDS if f not in OPTIONAL_PROJECT_FIELDS)
REQUIRED = _l("This field is required.")


def postal_code(value: str) -> Any:
    if not POSTAL_CODE.fullmatch(value or ""):
        return _l("A postal code has exactly 6 digits.")
    return None


def phone(value: str) -> Any:
    value = value or ""
    digits = sum(ch.isdigit() for ch in value)
    if not PHONE_CHARS.fullmatch(value) or digits < MIN_PHONE_DIGITS or len(value) > 40:
        return _l("Enter a telephone number of at least 7 digits, e.g. 010-12345678.")
    return None


def year(value: int) -> Any:
    if not MIN_YEAR <= value <= MAX_YEAR:
        return _l("Enter a year between %(low)s and %(high)s.", low=MIN_YEAR, high=MAX_YEAR)
    return None


def credits(value: float) -> Any:
    # "nan" is a float to the form's field: refused here, not an error in int().
    if (
        not math.isfinite(value)
        or value <= 0
        or value > MAX_CREDITS
        or (value * 2) != int(value * 2)
    ):
        return _l(
            "Credits are positive, at most %(high)s, in steps of 0.5.",
            high=MAX_CREDITS,
        )
    return None


def participants(value: int) -> Any:
    if not 1 <= value <= MAX_PARTICIPANTS:
        return _l("Enter a whole number from 1 to %(high)s.", high=MAX_PARTICIPANTS)
    return None


def hours(value: float, *, required: bool) -> Any:
    low_ok = value > 0 if required else value >= 0
    if not low_ok or value > MAX_HOURS or (value * 2) != int(value * 2):
        return _l("Hours are at most %(high)s, in steps of 0.5.", high=MAX_HOURS)
    return None


def issuer_number(value: str) -> Any:
    if COMMITTEE_SERIES.fullmatch(value or ""):
        return _l(
            "Numbers of the form year-XH-sequence are given by the committee when it"
            " publishes; enter the number your project was approved under."
        )
    return None


def too_long(value: Any, limit: int) -> Any:
    """The message for a text longer than ``limit`` characters, or None."""
    if isinstance(value, str) and len(value) > limit:
        return _l("At most %(count)s characters.", count=limit)
    return None


def reason_error(reason: str | None) -> Any:
    """A send-back or withdrawal reason longer than ``MAX_REASON``."""
    return too_long(reason, MAX_REASON)


def _column_lengths(model, values: Mapping[str, Any]) -> dict[str, Any]:
    """Every text field longer than its column (``String(n)``) may hold: the
    form's own check, repeated where the record is judged (imports, crafted posts)."""
    errors = {}
    for name, value in values.items():
        column = model.__table__.columns.get(name)
        limit = getattr(getattr(column, "type", None), "length", None)
        if limit and (msg := too_long(value, limit)):
            errors[name] = msg
    return errors


def _missing(values: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {
        name: REQUIRED
        for name in names
        if values.get(name) is None
        or (isinstance(values.get(name), str) and not values[name].strip())
    }


def validate_unit(values: Mapping[str, Any]) -> dict[str, Any]:
    """Errors of a unit's contact fields, keyed by field name."""
    errors = _missing(values, UNIT_REQUIRED)
    if "postal_code" not in errors and (msg := postal_code(values["postal_code"])):
        errors["postal_code"] = msg
    if "phone" not in errors and (msg := phone(values["phone"])):
        errors["phone"] = msg
    from models.unit import Unit

    return _column_lengths(Unit, values) | errors


def validate_project(
    values: Mapping[str, Any], *, issuer: bool, kept_number: str | None = None
) -> dict[str, Any]:
    """Errors of a project's fields, keyed by field name.

    ``issuer`` says whether the owner is a certificate-issuing unit, which must
    enter the number its project was approved under. ``kept_number`` is the
    number the project already has: kept unchanged, it is not judged again (a
    project may hold one the committee gave it).
    """
    errors = _missing(values, PROJECT_REQUIRED + (("project_no",) if issuer else ()))
    checks = {
        "year": year,
        "phone": phone,
        "credits": credits,
        "planned_participants": participants,
        "theory_hours": lambda v: hours(v, required=True),
    }
    for name, rule in checks.items():
        if name not in errors and (msg := rule(values[name])):
            errors[name] = msg
    number = values.get("project_no")
    judged = issuer and "project_no" not in errors and number != kept_number
    if judged and (msg := issuer_number(number)):
        errors["project_no"] = msg
    practice = values.get("practice_hours")
    if practice is not None and (msg := hours(practice, required=False)):
        errors["practice_hours"] = msg
    start, end = values.get("start_date"), values.get("end_date")
    if isinstance(start, date) and isinstance(end, date) and end < start:
        errors["end_date"] = _l("The end date cannot be before the start date.")
    if msg := too_long(values.get("remarks"), MAX_REMARKS):
        errors["remarks"] = msg
    from models.project import Project

    return _column_lengths(Project, values) | errors


def validate_lecturer(values: Mapping[str, Any]) -> dict[str, Any]:
    from models.project import Lecturer

    errors = _missing(values, ("name", "topic"))
    if values.get("hours") is not None and (msg := hours(values["hours"], required=False)):
        errors["hours"] = msg
    return _column_lengths(Lecturer, values) | errors
