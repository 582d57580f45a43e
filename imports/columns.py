"""The columns of the import template and how a cell's text becomes a field's value.

The headers are the field vocabulary's labels (``models.vocabulary``), in Chinese
whatever the page's language (the file is a Chinese document; English headers are
accepted too). Two columns are the import's own: 序号, the row key that joins a
lecturer row to its project row, and 导入编号, the unit's own key that lets a later
file update the same project.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from models import Lecturer, Project, rules
from models.base import DATE, INTEGER, NUMBER, field_kinds
from models.vocabulary import (
    LECTURER_FIELDS,
    LECTURER_LABELS,
    LECTURER_REQUIRED,
    PROJECT_LABELS,
    chinese,
    is_required,
)

ROW_KEY = "row_key"
IMPORT_KEY = "import_key"
IMPORT_LABELS = {ROW_KEY: _l("Row key"), IMPORT_KEY: _l("Import key")}
# A row whose 序号 is this word is the template's example: never imported.
EXAMPLE = _l("Example")

PROJECT_SHEET = _l("Projects")
LECTURER_SHEET = _l("Lecturers")
NOTES_SHEET = _l("Notes")

# How each cell is read, from the model's column types (``models.base.field_kinds``).
_KINDS = field_kinds(Project, rules.PROJECT_FIELDS)
INTEGERS = frozenset(name for name, kind in _KINDS.items() if kind == INTEGER)
NUMBERS = frozenset(name for name, kind in _KINDS.items() if kind == NUMBER)
DATES = frozenset(name for name, kind in _KINDS.items() if kind == DATE)
ENUMS = {name: kind for name, kind in _KINDS.items() if isinstance(kind, type)}
LECTURER_NUMBERS = frozenset(
    name for name, kind in field_kinds(Lecturer, LECTURER_FIELDS).items() if kind == NUMBER
)
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


@dataclass(frozen=True)
class Column:
    field: str
    label: object  # lazy label
    required: bool

    def header(self) -> str:
        """The template's header: the Chinese label, ``*`` when required."""
        return chinese(self.label) + ("*" if self.required else "")


def project_columns(issuer: bool) -> list[Column]:
    """The project sheet's columns for a unit: an issuer (发放证书单位) gives its
    project numbers; a branch's projects are numbered on publication."""
    columns = [Column(ROW_KEY, IMPORT_LABELS[ROW_KEY], False)]
    columns.append(Column(IMPORT_KEY, IMPORT_LABELS[IMPORT_KEY], False))
    for name in rules.PROJECT_FIELDS:
        if name == "project_no" and not issuer:
            continue
        columns.append(Column(name, PROJECT_LABELS[name], is_required(name, issuer=issuer)))
    return columns


def lecturer_columns() -> list[Column]:
    columns = [Column(ROW_KEY, IMPORT_LABELS[ROW_KEY], True)]
    columns += [Column(n, LECTURER_LABELS[n], n in LECTURER_REQUIRED) for n in LECTURER_FIELDS]
    return columns


def header_names(columns: list[Column]) -> dict[str, str]:
    """Every header text that names a column (Chinese or English, with or without
    the ``*``), normalised, → the field."""
    names = {}
    for column in columns:
        names[normalise_header(chinese(column.label))] = column.field
        with force_locale("en"):
            names[normalise_header(str(column.label))] = column.field
    return names


def normalise_header(text: str) -> str:
    return re.sub(r"[\s*＊]", "", str(text)).casefold()


# -- cell texts ---------------------------------------------------------------


def cell_text(value) -> str:
    """A cell's value as the text stored in the batch: dates as ISO dates, whole
    numbers without ``.0`` (a telephone number typed as a number stays itself)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# -- values -------------------------------------------------------------------


class BadValue(ValueError):
    """A cell that cannot be read as its field's type; the message says why."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)  # what a date cell gives: no strptime needed
    except ValueError:
        pass
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    # A date and time (a date cell with a time part).
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise BadValue(_l("Enter a date such as 2026-03-01.")) from None


def parse_number(text: str, *, whole: bool) -> float | int:
    try:
        number = float(text.replace(",", "").replace("，", ""))
    except ValueError:
        raise BadValue(_l("Enter a number.")) from None
    if whole:
        if not number.is_integer():
            raise BadValue(_l("Enter a whole number."))
        return int(number)
    return number


def enum_choices(enum_cls, allowed=None) -> dict[str, object]:
    """Each member's Chinese and English titles and its value, normalised → member."""
    choices = {}
    for member in allowed or enum_cls:
        with force_locale("en"):
            english = str(member.title)
        for text in (chinese(member.title), english, member.value):
            choices[normalise_header(text)] = member
    return choices


def text_too_long(model, field: str, text: str):
    """The field rules' message for a cell longer than its field may hold
    (``rules.text_limits``: the column's length), or None. The cell is refused, never cut."""
    limit = rules.text_limits(model).get(field)
    return rules.too_long(text, limit) if limit else None


PROJECT_MODEL, LECTURER_MODEL = Project, Lecturer
