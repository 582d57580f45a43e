"""The import template: an XLSX with the sheets 项目 (projects), 授课教师 (lecturers,
joined to their project by 序号) and 说明 (how to fill it in, and the lists the
drop-downs offer). Headers come from the field vocabulary, ``*`` on the columns
the unit must fill in; each sheet starts with an example row that is never imported.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from imports.columns import (
    EXAMPLE,
    LECTURER_SHEET,
    NOTES_SHEET,
    PROJECT_SHEET,
    Column,
    lecturer_columns,
    project_columns,
)
from imports.reader import MAX_ROWS
from models import LEVELS_OF_KIND, ProjectMode, UnitKind
from models.vocabulary import chinese

HEADER_FONT = Font(bold=True)
REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
EXAMPLE_FONT = Font(italic=True, color="808080")
# Validations reach this far down: the most rows a file may have, plus the header.
LAST_ROW = MAX_ROWS + 1

NOTES = (
    _l("Fill in one project per row of the sheet Projects, from row 3 on."),
    _l("Columns marked * are required."),
    _l("The row whose row key is “Example” shows how to fill in a row; it is never imported."),
    _l(
        "Row key: any number or text you choose, different on each row; the sheet"
        " Lecturers lists each lecturer with the row key of the lecturer's project."
    ),
    _l(
        "Import key: optional, your own code for the project. A later file with the same"
        " import key updates that project (while it is not reported or returned for"
        " changes) instead of adding it again; the lecturers are then replaced by the file's."
    ),
    _l("Dates are written like 2026-03-01; hours and credits in steps of 0.5."),
    _l("Organizer left empty: your unit's name is used."),
    _l("Enter values, not formulas. At most %(rows)s rows and 10 MB per file.", rows=MAX_ROWS),
    _l(
        "A CSV file (UTF-8 or GB18030) may hold the sheet Projects alone, with the same"
        " headers; its projects then have no lecturers."
    ),
    _l(
        "After the upload you see a preview: the rows to add or update and every row with"
        " an error. Nothing is saved until you confirm."
    ),
)


def build(account, disciplines: list[str], today: date | None = None) -> bytes:
    """The template for ``account``'s unit; ``disciplines`` are the active names, in order."""
    issuer = account.unit.kind is UnitKind.ISSUER
    levels = [chinese(level.title) for level in LEVELS_OF_KIND[account.unit.kind]]
    modes = [chinese(mode.title) for mode in ProjectMode]
    workbook = Workbook()
    projects = workbook.active
    projects.title = chinese(PROJECT_SHEET)
    lecturers = workbook.create_sheet(chinese(LECTURER_SHEET))
    notes = workbook.create_sheet(chinese(NOTES_SHEET))

    p_columns = project_columns(issuer)
    write_headers(projects, p_columns)
    example = _example_project(account, levels, modes, disciplines, today or date.today())
    example_row(projects, 2, [example.get(c.field, "") for c in p_columns])
    l_columns = lecturer_columns()
    write_headers(lecturers, l_columns)
    example_row(
        lecturers, 2, [chinese(EXAMPLE), "张三", "主任医师", "北京协和医院", "心力衰竭新进展", 2]
    )

    lists = {"level": levels, "discipline": disciplines, "mode": modes}
    write_notes(notes, NOTES, lists)
    add_drop_downs(projects, notes, lists, p_columns)
    return save(workbook, (projects, lecturers))


def add_drop_downs(sheet, notes, lists: dict[str, list[str]], columns: list[Column]) -> None:
    """A drop-down on each column of ``sheet`` named in ``lists``, offering the values
    ``write_notes`` listed on the sheet ``notes`` (in the same order)."""
    column_of = {c.field: i for i, c in enumerate(columns, start=1)}
    for offset, (name, values) in enumerate(lists.items()):
        letter = get_column_letter(3 + offset)
        source = f"{quote_sheetname(notes.title)}!${letter}$2:${letter}${len(values) + 1}"
        validation = DataValidation(type="list", formula1=source, allow_blank=True)
        validation.error = chinese(_l("Choose one of the listed options."))
        validation.showErrorMessage = True
        target = get_column_letter(column_of[name])
        validation.add(f"{target}2:{target}{LAST_ROW}")
        sheet.add_data_validation(validation)


def save(workbook: Workbook, data_sheets) -> bytes:
    """The workbook's bytes, the header row of each of ``data_sheets`` kept in view."""
    for sheet in data_sheets:
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_headers(sheet, columns: list[Column]) -> None:
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header())
        cell.font = HEADER_FONT
        if column.required:
            cell.fill = REQUIRED_FILL
        # Wide enough for the Chinese header (two units per character) and a value.
        sheet.column_dimensions[get_column_letter(index)].width = max(12, 2 * len(cell.value) + 4)


def example_row(sheet, row: int, values: list) -> None:
    """The template's example row (grey italics; never imported)."""
    for index, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=index, value=value if value != "" else None)
        cell.font = EXAMPLE_FONT
        if isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"


def _example_project(account, levels, modes, disciplines, today: date) -> dict:
    start = today + timedelta(days=60)
    return {
        "row_key": chinese(EXAMPLE),
        "import_key": "",
        "year": start.year,
        "project_no": f"{start.year}-00-00-000",
        "name": "心力衰竭诊治新进展学习班",
        "level": levels[0],
        "discipline": disciplines[0] if disciplines else "",
        "organizer": account.unit.name,
        "co_organizer": "",
        "principal": "王五",
        "principal_title": "主任医师",
        "contact": "李四",
        "phone": "010-12345678",
        "start_date": start,
        "end_date": start + timedelta(days=2),
        "venue": "北京市东城区",
        "mode": modes[0],
        "audience": "心内科医师",
        "planned_participants": 100,
        "theory_hours": 12,
        "practice_hours": 0,
        "credits": 4,
        "remarks": "",
    }


def write_notes(sheet, notes, lists: dict[str, list[str]], labels=None) -> None:
    """The sheet 说明: ``notes`` in column A, then the drop-downs' lists, one column each
    from C on, headed by their field's label (``labels``, default the project fields')."""
    from models.vocabulary import label

    sheet.column_dimensions["A"].width = 100
    sheet.cell(row=1, column=1, value=chinese(NOTES_SHEET)).font = HEADER_FONT
    for row, note in enumerate(notes, start=2):
        sheet.cell(row=row, column=1, value=chinese(note))
    # The drop-downs' lists, one column each (the validations refer to them).
    for offset, (name, values) in enumerate(lists.items()):
        column = 3 + offset
        sheet.column_dimensions[get_column_letter(column)].width = 20
        title = chinese(labels[name] if labels else label(name))
        sheet.cell(row=1, column=column, value=title).font = HEADER_FONT
        for row, value in enumerate(values, start=2):
            sheet.cell(row=row, column=column, value=value)
