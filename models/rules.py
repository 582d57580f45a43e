"""Field rules shared by forms, the CLI and the models (docs/domain.md#field-rules).

Each rule takes a cleaned value and returns ``None`` or a translatable message;
``validate_*`` functions check a whole record and return ``{field: message}``.
"""

import functools
import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

# The project's fields live in models.fields, which the vocabulary reads too (the
# vocabulary names them, and the rules name them in their messages: no circle);
# ``rules.PROJECT_FIELDS`` stays the name the forms and the import use.
from models.base import beijing_today
from models.fields import PROJECT_FIELDS as PROJECT_FIELDS
from models.fields import PROJECT_REQUIRED
from models.vocabulary import LECTURER_LABELS, PROJECT_LABELS

POSTAL_CODE = re.compile(r"\d{6}")
PHONE_CHARS = re.compile(r"[0-9()（）+\-\s/;；,，、转]+")
MIN_PHONE_DIGITS = 7
MAX_CREDITS = 30
MAX_PARTICIPANTS = 100_000
MAX_HOURS = 1_000
MIN_YEAR, MAX_YEAR = 2000, 2100
# How far ahead a project may be filed: its dates until the 31 December of the year
# this many years after Beijing's today (the ``FILING_HORIZON_YEARS`` setting, whose
# default this is).
DEFAULT_HORIZON_YEARS = 1
# Texts without a column length of their own (备注, reasons): long enough for any
# real note, short enough that nobody stores megabytes in one.
MAX_REMARKS = 2000
MAX_REASON = 500
# The texts kept in a ``Text`` column and their limits, by field name.
LONG_TEXTS = {"remarks": MAX_REMARKS, "summary": MAX_REMARKS}
# The series the committee numbers published society projects in ("2026-XH-00055",
# ``workflow.engine.format_number``), spacing and case aside. An issuer's own number
# may never take this form: a number the committee's counter will reach must not be
# held by a project the committee cannot see, or every later publish would collide.
COMMITTEE_SERIES = re.compile(r"\s*\d{4}\s*-\s*XH\s*-\s*\d+\s*", re.IGNORECASE)
# Dashes that look like the ASCII hyphen and that NFKC keeps (en dash, minus sign, …).
MINUS_SIGN = "\u2212"

# Control characters (Unicode category Cc: U+0000-U+001F and U+007F-U+009F). A
# single-line text holds none: a CR/LF in a unit's or project's name would start a
# new line, e.g. a fake "请点击…重新登录" line, in the mails that carry it. A
# multi-line text (备注, a reason) keeps line feeds and tabs, and the carriage
# return of the CRLF line break browsers send from a text area.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MULTI_LINE_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MULTI_LINE_FIELDS = frozenset({"remarks", "summary"})

UNIT_REQUIRED = ("name", "address", "manager", "phone", "postal_code")
REQUIRED = _l("This field is required.")
# The names of a unit's fields in the messages that name them (the unit form's labels).
UNIT_LABELS = {
    "name": _l("Unit name"),
    "address": _l("Address"),
    "manager": _l("Person in charge"),
    "phone": _l("Telephone"),
    "postal_code": _l("Postal code"),
}
REASON_LABEL = _l("Reason")


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


HOURS_LABEL = _l("Hours")


def hours(value: float, *, required: bool, label: Any = None) -> Any:
    """学时: more than 0 where the hours are required (a project's 理论学时), else 0 or
    more; at most ``MAX_HOURS``; in steps of 0.5. The message names the rule broken."""
    field = label if label is not None else HOURS_LABEL
    if not math.isfinite(value):
        return _l("%(field)s must be a number.", field=field)
    if required and value <= 0:
        return _l("%(field)s must be more than 0.", field=field)
    if value < 0:
        return _l("%(field)s cannot be negative.", field=field)
    if value > MAX_HOURS:
        return _l("%(field)s is at most %(high)s.", field=field, high=f"{MAX_HOURS:,}")
    if (value * 2) != int(value * 2):
        return _l("%(field)s goes in steps of 0.5 (e.g. 1.5 or 2).", field=field)
    return None


def _canonical_character(ch: str) -> str:
    """A character of a project number in its canonical form: NFKC (full-width
    ``２`` → ``2``, ``－`` → ``-``), and every dash (``–``, ``—``, ``−``) the hyphen."""
    if ch == MINUS_SIGN or unicodedata.category(ch) == "Pd":
        return "-"
    return unicodedata.normalize("NFKC", ch)


def _look_alike(ch: str) -> bool:
    """A character that stands for an ASCII letter, digit or hyphen without being one."""
    canonical = _canonical_character(ch)
    return not ch.isascii() and canonical.isascii() and (canonical.isalnum() or canonical == "-")


def issuer_number(value: str) -> Any:
    """An issuer's own 项目编号: never in the committee's series, however it is
    written (``2026－XH－00004`` with full-width dashes is ``2026-XH-00004``), and its
    letters, digits and hyphens in ASCII: two numbers that look the same are the same
    number to people, but not to the uniqueness check."""
    value = value or ""
    canonical = "".join(_canonical_character(ch) for ch in value)
    if COMMITTEE_SERIES.fullmatch(canonical):
        return _l(
            "Numbers of the form year-XH-sequence are given by the committee when it"
            " publishes; enter the number your project was approved under."
        )
    if any(_look_alike(ch) for ch in value):
        return _l(
            "Type the digits, letters and hyphens of the project number as half-width"
            " (English) characters, e.g. 2026-001, not full-width ones."
        )
    return None


def control_characters(value: Any, label: Any, *, multi_line: bool = False) -> Any:
    """The message for a text holding control characters its kind of field may not
    (see ``CONTROL``), naming the field by ``label``; or None."""
    if not isinstance(value, str):
        return None
    if multi_line:
        if MULTI_LINE_CONTROL.search(value.replace("\r\n", "\n")):
            return _l(
                "%(field)s contains invisible control characters (other than line breaks"
                " and tabs). Clear the field and type it again, rather than pasting it"
                " from another program.",
                field=label,
            )
        return None
    if CONTROL.search(value):
        return _l(
            "%(field)s must be one line of text without line breaks, tabs or other"
            " invisible control characters. Clear the field and type it again, rather"
            " than pasting it from another program.",
            field=label,
        )
    return None


def _controls(values: Mapping[str, Any], labels: Mapping[str, Any]) -> dict[str, Any]:
    """Every text field of a record holding control characters, with its message."""
    errors = {}
    for name, value in values.items():
        multi_line = name in MULTI_LINE_FIELDS
        if msg := control_characters(value, labels.get(name, name), multi_line=multi_line):
            errors[name] = msg
    return errors


def too_long(value: Any, limit: int, label: Any = None) -> Any:
    """The message for a text longer than ``limit`` characters, or None: the rule
    (the limit) and what was given (the count), naming the field by ``label``.
    Never cut: a text over its limit is refused whole, so nobody loses the end of
    what they typed without being told."""
    if not isinstance(value, str) or len(value) <= limit:
        return None
    numbers = {"limit": f"{limit:,}", "count": f"{len(value):,}"}
    if label is None:
        return _l("At most %(limit)s characters; %(count)s were entered.", **numbers)
    return _l(
        "%(field)s: at most %(limit)s characters; %(count)s were entered.", field=label, **numbers
    )


def reason_error(reason: str | None) -> Any:
    """A send-back or withdrawal reason longer than ``MAX_REASON``, or holding
    control characters other than line breaks and tabs (it is quoted in mails)."""
    return too_long(reason, MAX_REASON, REASON_LABEL) or control_characters(
        reason, REASON_LABEL, multi_line=True
    )


@functools.cache
def _lengths(model) -> dict[str, int]:
    """The model's text columns and how many characters each holds (read once: an import
    judges thousands of rows)."""
    return {
        column.key: column.type.length
        for column in model.__table__.columns
        if getattr(column.type, "length", None)
    }


@functools.cache
def text_limits(model) -> dict[str, int]:
    """How many characters each text field of ``model`` may hold: its ``String(n)``
    columns' n, and ``LONG_TEXTS``' limits for its ``Text`` columns of those names.
    The one source of the limits: the forms' ``maxlength`` and counters
    (``admin_views.forms``), their checks and the import's read it."""
    columns = model.__table__.columns
    return _lengths(model) | {name: n for name, n in LONG_TEXTS.items() if name in columns}


def _column_lengths(
    model, values: Mapping[str, Any], labels: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Every text field longer than its limit (``text_limits``): the form's own
    check, repeated where the record is judged (imports, crafted posts)."""
    errors = {}
    limits = text_limits(model)
    labels = labels or {}
    for name, value in values.items():
        limit = limits.get(name)
        if limit and (msg := too_long(value, limit, labels.get(name))):
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

    return _column_lengths(Unit, values, UNIT_LABELS) | errors | _controls(values, UNIT_LABELS)


def _judge_number(errors: dict[str, Any], number, kept_number: str | None) -> None:
    """An issuer's project number, unless already refused or kept unchanged."""
    if "project_no" in errors or number == kept_number:
        return
    if msg := issuer_number(number):
        errors["project_no"] = msg


def _judge_dates(errors: dict[str, Any], start, end) -> None:
    """The end date not before the start date (both dates: a missing one has its own
    message)."""
    if isinstance(start, date) and isinstance(end, date) and end < start:
        errors["end_date"] = _l("The end date cannot be before the start date.")


def horizon(years: int = DEFAULT_HORIZON_YEARS, today: date | None = None) -> date:
    """The last day a project's dates may fall on: the 31 December of Beijing's
    today's year plus ``years``."""
    return date((today or beijing_today()).year + int(years), 12, 31)


def _judge_year(errors: dict[str, Any], values: Mapping[str, Any], last_day: date) -> None:
    """年度 follows the dates: the year of 开始日期 (a January 2027 course is a 2027
    project), and no date later than ``last_day``."""
    start, end = values.get("start_date"), values.get("end_date")
    for name, day in (("start_date", start), ("end_date", end)):
        if name not in errors and isinstance(day, date) and day > last_day:
            errors[name] = _l(
                "Projects can be filed with dates up to %(last)s; %(day)s is too far ahead.",
                last=last_day.isoformat(),
                day=day.isoformat(),
            )
    given = values.get("year")
    if "year" in errors or not isinstance(start, date) or not isinstance(given, int):
        return
    if given != start.year:
        errors["year"] = _l(
            "The year must match the start date: %(start)s belongs to the year %(year)s.",
            start=start.isoformat(),
            year=start.year,
        )


def validate_project(
    values: Mapping[str, Any],
    *,
    issuer: bool,
    kept_number: str | None = None,
    last_day: date | None = None,
) -> dict[str, Any]:
    """Errors of a project's fields, keyed by field name.

    ``issuer`` says whether the owner is a certificate-issuing unit, which must
    enter the number its project was approved under. ``kept_number`` is the
    number the project already has: kept unchanged, it is not judged again (a
    project may hold one the committee gave it). ``last_day``: the latest date a
    project may be filed for (``horizon``; default the default horizon from today).
    """
    errors = _missing(values, PROJECT_REQUIRED + (("project_no",) if issuer else ()))
    checks = {
        "year": year,
        "phone": phone,
        "credits": credits,
        "planned_participants": participants,
        "theory_hours": lambda v: hours(v, required=True, label=PROJECT_LABELS["theory_hours"]),
    }
    for name, rule in checks.items():
        if name not in errors and (msg := rule(values[name])):
            errors[name] = msg
    if issuer:
        _judge_number(errors, values.get("project_no"), kept_number)
    practice = values.get("practice_hours")
    if practice is not None and (
        msg := hours(practice, required=False, label=PROJECT_LABELS["practice_hours"])
    ):
        errors["practice_hours"] = msg
    _judge_dates(errors, values.get("start_date"), values.get("end_date"))
    _judge_year(errors, values, last_day or horizon())
    from models.project import Project

    return (
        _column_lengths(Project, values, PROJECT_LABELS)
        | errors
        | _controls(values, PROJECT_LABELS)
    )


def validate_lecturer(values: Mapping[str, Any]) -> dict[str, Any]:
    from models.project import Lecturer

    errors = _missing(values, ("name", "topic"))
    given = values.get("hours")
    if given is not None and (msg := hours(given, required=False, label=LECTURER_LABELS["hours"])):
        errors["hours"] = msg
    return (
        _column_lengths(Lecturer, values, LECTURER_LABELS)
        | errors
        | _controls(values, LECTURER_LABELS)
    )


# -- execution reports (执行情况) and their rosters (学员名单) ----------------------------
# 证件号码: a mainland resident identity card (GB 11643: 17 digits and an ISO 7064
# MOD 11-2 check character), a residence permit of a Hong Kong, Macao or Taiwan
# resident (the same form, its area code 810000 / 820000 / 830000), or a passport.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ID_18 = re.compile(r"\d{17}[\dX]")
PASSPORT_NUMBER = re.compile(r"[A-Z0-9]{5,17}")
PERMIT_AREAS = ("81", "82", "83")
MAX_PASS_RATE = 100
ROSTER_REQUIRED = ("name", "id_number", "workplace")
ROSTER_LABELS = {
    "name": _l("Name"),
    "id_type": _l("Document type"),
    "id_number": _l("ID number"),
    "workplace": _l("Workplace"),
    "title": _l("Professional title"),
    "license_no": _l("Practising licence number"),
    "phone": _l("Mobile phone"),
    "attended": _l("Attended"),
    "credits": _l("Credits awarded"),
}
EXECUTION_LABELS = {
    "start_date": PROJECT_LABELS["start_date"],
    "end_date": PROJECT_LABELS["end_date"],
    "venue": PROJECT_LABELS["venue"],
    "mode": PROJECT_LABELS["mode"],
    "theory_hours": PROJECT_LABELS["theory_hours"],
    "practice_hours": PROJECT_LABELS["practice_hours"],
    "credits": _l("Credits awarded per learner"),
    "learners": _l("Number of learners"),
    "summary": _l("Summary"),
    "pass_rate": _l("Exam pass rate (%)"),
}
EXECUTION_REQUIRED = ("start_date", "end_date", "venue", "mode", "theory_hours", "credits")


def normalise_id_number(value: str | None) -> str:
    """As typed on a phone or pasted from Excel: full-width characters, spaces and a
    lower-case x folded, so that one card is one key."""
    text = unicodedata.normalize("NFKC", value or "")
    return re.sub(r"\s+", "", text).upper()


def id_check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an 18-character ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def _birth_date_error(number: str) -> Any:
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return _l("The date of birth in this ID number does not exist.")
    if not 1900 <= born.year <= date.today().year:
        return _l("The date of birth in this ID number does not exist.")
    return None


def id_number(value: str, id_type: str = "resident") -> Any:
    """A 证件号码 of ``id_type`` (``models.execution.IdType``'s values), normalised."""
    if id_type == "passport":
        if not PASSPORT_NUMBER.fullmatch(value):
            return _l("A passport number has 5 to 17 letters and digits.")
        return None
    if not ID_18.fullmatch(value):
        return _l("An ID number has 18 characters: 17 digits and a digit or X.")
    if id_type == "permit" and not value.startswith(PERMIT_AREAS):
        return _l("A residence permit number starts with 81, 82 or 83.")
    if msg := _birth_date_error(value):
        return msg
    if id_check_character(value[:17]) != value[17]:
        return _l("The last character of this ID number is wrong: check the number.")
    return None


def mask_id_number(value: str | None) -> str:
    """An ID number as shown to anyone but its unit while the report is editable:
    the first 3 and the last 4 characters (110***********1234)."""
    value = value or ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def awarded_credits(value: float, maximum: float) -> Any:
    """授予学分: 0 … the report's credits, in steps of 0.5."""
    if not math.isfinite(value) or value < 0 or value > maximum or (value * 2) != int(value * 2):
        return _l("Credits awarded are 0 to %(high)s, in steps of 0.5.", high=f"{maximum:g}")
    return None


def validate_roster_entry(values: Mapping[str, Any], *, max_credits: float) -> dict[str, Any]:
    """Errors of one learner's row, keyed by field name (``id_number`` normalised
    by the caller with ``normalise_id_number``)."""
    from models.execution import RosterEntry

    errors = _missing(values, ROSTER_REQUIRED)
    if "id_number" not in errors and (
        msg := id_number(values["id_number"], values.get("id_type") or "resident")
    ):
        errors["id_number"] = msg
    if values.get("phone") and (msg := phone(values["phone"])):
        errors["phone"] = msg
    given = values.get("credits")
    if given is not None and (msg := awarded_credits(given, max_credits)):
        errors["credits"] = msg
    return (
        _column_lengths(RosterEntry, values, ROSTER_LABELS)
        | errors
        | _controls(values, ROSTER_LABELS)
    )


def _judge_report_hours(errors: dict, values: Mapping[str, Any]) -> None:
    """A report's 理论学时 (unless missing) and 实践学时 (if given), each in range."""
    theory = values.get("theory_hours")
    if "theory_hours" not in errors and (
        msg := hours(theory, required=False, label=EXECUTION_LABELS["theory_hours"])
    ):
        errors["theory_hours"] = msg
    practice = values.get("practice_hours")
    if practice is not None and (
        msg := hours(practice, required=False, label=EXECUTION_LABELS["practice_hours"])
    ):
        errors["practice_hours"] = msg


def _judge_outcome(errors: dict, learners, rate) -> None:
    """A report's 学员人数 and 合格率, if given: a count in range, a percentage."""
    if learners is not None and not 0 <= learners <= MAX_PARTICIPANTS:
        errors["learners"] = _l("Enter a whole number from 0 to %(high)s.", high=MAX_PARTICIPANTS)
    if rate is not None and (not math.isfinite(rate) or not 0 <= rate <= MAX_PASS_RATE):
        errors["pass_rate"] = _l("Enter a percentage from 0 to 100.")


def validate_execution(values: Mapping[str, Any], *, published_credits: float) -> dict[str, Any]:
    """Errors of a report's own fields: dates in order, hours, credits per learner
    at most the published credits, the pass rate a percentage."""
    from models.execution import ExecutionReport

    errors = _missing(values, EXECUTION_REQUIRED)
    _judge_report_hours(errors, values)
    if "credits" not in errors and (msg := awarded_credits(values["credits"], published_credits)):
        errors["credits"] = msg
    _judge_outcome(errors, values.get("learners"), values.get("pass_rate"))
    _judge_dates(errors, values.get("start_date"), values.get("end_date"))
    return (
        _column_lengths(ExecutionReport, values, EXECUTION_LABELS)
        | errors
        | _controls(values, EXECUTION_LABELS)
    )
