"""Check every row of an upload: ``check(session, account, payload)`` is the one
function the preview and the confirmation both call, so what is written is what
was shown.

A row is checked against the same field rules as the project form
(``models.rules``), the columns' lengths, the rows of the same file (a 序号,
导入编号 or 项目编号 given twice) and the unit's existing projects (a match is
updated if the unit may still edit it, refused otherwise), then the committee's
filing rules (``workflow.filing_rules.check_values``, called by name). A feature that
adds checks may connect to ``checking`` in ``receivers.py``: a receiver gets the rows
that passed and returns more ``RowError``\\ s (none does today).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from blinker import Namespace
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

import permissions
import workflow
from imports.columns import (
    DATES,
    ENUMS,
    EXAMPLE,
    IMPORT_KEY,
    INTEGERS,
    LECTURER_MODEL,
    LECTURER_NUMBERS,
    NUMBERS,
    PROJECT_MODEL,
    ROW_KEY,
    BadValue,
    Column,
    enum_choices,
    header_names,
    lecturer_columns,
    normalise_header,
    parse_date,
    parse_number,
    project_columns,
    text_too_long,
)
from imports.reader import FileRefused, Table, Upload
from models import LEVELS_OF_KIND, Project, UnitKind, rules
from models.import_batch import ImportKey
from models.vocabulary import chinese

_signals = Namespace()
#: ``checking.send(session=…, account=…, rows=[ProjectRow, …])`` → receivers
#: return an iterable of ``RowError`` for the rows they refuse.
checking = _signals.signal("import-checking")
RULE_COLUMN = _l("Filing rules")
BLOCKS_REPORT = _l("Will block reporting: ")
WARNS_ON_REPORT = _l("Warning on reporting: ")

# Read with the project in one statement, as the workflow engine reads a row.
ROW_COLUMNS = workflow.engine.ROW_COLUMNS
IN_CHUNK = 900  # ids per IN (...): far below every backend's parameter limit


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int
    column: str  # the column's Chinese header, without the ``*``
    value: str
    reason: str


@dataclass
class ProjectRow:
    row: int
    values: dict
    row_key: str = ""
    import_key: str = ""
    lecturers: list[dict] = field(default_factory=list)
    # The existing project this row updates, or None for a new one.
    target_id: int | None = None


@dataclass
class Plan:
    rows: list[ProjectRow]
    errors: list[RowError]
    # The committee's filing rules the rows would break when reported: shown in
    # the preview so the unit learns before reporting; they do not stop the
    # import (a rule of severity "block" stops the report, not the draft).
    warnings: list[RowError] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(1 for r in self.rows if r.target_id is None)

    @property
    def updated(self) -> int:
        return sum(1 for r in self.rows if r.target_id is not None)

    @property
    def ok(self) -> bool:
        return not self.errors


# -- payload: the upload as JSON, stored between preview and confirmation -----


def table_payload(table: Table | None) -> dict | None:
    """A sheet as read, as JSON (``table_of`` reads it back)."""
    if table is None:
        return None
    return {"sheet": table.sheet, "headers": table.headers, "rows": [[n, r] for n, r in table.rows]}


def to_payload(upload: Upload) -> dict:
    return {"projects": table_payload(upload.main), "lecturers": table_payload(upload.second)}


def table_of(data: dict | None) -> Table | None:
    if data is None:
        return None
    return Table(data["sheet"], data["headers"], [(n, r) for n, r in data["rows"]])


# -- headers ------------------------------------------------------------------


def column_map(table: Table, columns: list[Column]) -> dict[int, Column]:
    """Column index → column; unknown or missing required headers refuse the file
    (any import's: the projects', the lecturers', a roster's)."""
    found, unknown = _read_headers(table, columns)
    given = {c.field for c in found.values()}
    missing = [chinese(c.label) for c in columns if c.required and c.field not in given]
    if missing or unknown:
        raise _headers_refused(table.sheet, missing, unknown)
    return found


def _read_headers(table: Table, columns: list[Column]) -> tuple[dict[int, Column], list]:
    """The columns the sheet's headers name, by index, and the headers that name none
    (an unknown one, one given twice, a column of values without a header)."""
    by_field = {c.field: c for c in columns}
    names = header_names(columns)
    found: dict[int, Column] = {}
    unknown = []
    for index, header in enumerate(table.headers):
        if not header:
            if any(index < len(r) and r[index] for _, r in table.rows):
                unknown.append(_l("(column %(n)s has no header)", n=index + 1))
            continue
        name = names.get(normalise_header(header))
        if name is None:
            unknown.append(header)
        elif name in (c.field for c in found.values()):
            unknown.append(header)  # the same column twice
        else:
            found[index] = by_field[name]
    return found, unknown


def _headers_refused(sheet: str, missing: list, unknown: list) -> FileRefused:
    """The file refused for its sheet's headers: the columns missing, the unknown ones."""
    parts = []
    if missing:
        parts.append(_l("missing columns: %(names)s", names="、".join(missing)))
    if unknown:
        parts.append(_l("unknown columns: %(names)s", names="、".join(str(u) for u in unknown)))
    return FileRefused(
        _l(
            "Sheet %(sheet)s does not have the template's headers (%(problems)s):"
            " download the template and copy your rows into it.",
            sheet=sheet,
            problems="；".join(str(p) for p in parts),
        )
    )


def cells_of(row: list[str], columns: dict[int, Column]) -> dict[str, str]:
    return {c.field: (row[i] if i < len(row) else "") for i, c in columns.items()}


# -- checking -----------------------------------------------------------------


class _Checker:
    """The state of one check: the unit's choices and the errors found."""

    def __init__(self, session: Session, account) -> None:
        self.session = session
        self.account = account
        self.unit = account.unit
        self.issuer = self.unit.kind is UnitKind.ISSUER
        self.levels = LEVELS_OF_KIND.get(self.unit.kind, ())
        self.choices = {
            "level": enum_choices(ENUMS["level"], self.levels),
            "mode": enum_choices(ENUMS["mode"]),
        }
        # The unit's own committee's active list: never another tree's ids.
        disciplines = session.scalars(permissions.committee_disciplines(account)).all()
        self.disciplines = {normalise_header(d.name): d.id for d in disciplines}
        self.last_day = filing_horizon()
        self.errors: list[RowError] = []

    def error(self, sheet: str, row: int, column: Column | str, value, reason) -> None:
        label = chinese(column.label) if isinstance(column, Column) else column
        self.errors.append(RowError(sheet, row, label, str(value), str(reason)))

    # one project row ----------------------------------------------------------
    def project(self, sheet: str, row_no: int, cells: dict[str, str], columns) -> ProjectRow:
        values: dict = {}
        failed = set()
        for name, column in columns.items():
            if name in (ROW_KEY, IMPORT_KEY):
                continue
            text = cells.get(name, "")
            try:
                values[name] = self._value(name, text)
            except BadValue as bad:
                failed.add(name)
                self.error(sheet, row_no, column, text, bad.message)
                continue
            if isinstance(values[name], str) and (msg := text_too_long(PROJECT_MODEL, name, text)):
                failed.add(name)
                self.error(sheet, row_no, column, text, msg)
        self._fill_in(values, failed)
        judged = rules.validate_project(values, issuer=self.issuer, last_day=self.last_day)
        for name, message in judged.items():
            if name not in failed and name in columns:
                self.error(sheet, row_no, columns[name], cells.get(name, ""), message)
            elif name not in failed:
                self.error(sheet, row_no, chinese(_field_label(name)), "", message)
        return ProjectRow(
            row=row_no,
            values=values,
            row_key=cells.get(ROW_KEY, ""),
            import_key=cells.get(IMPORT_KEY, ""),
        )

    def _fill_in(self, values: dict, failed: set) -> None:
        """What the form fills in for a row that leaves it blank."""
        if values.get("level") is None and len(self.levels) == 1:
            values["level"] = self.levels[0]  # the only level this unit files
        if not values.get("organizer"):
            values["organizer"] = self.unit.name  # as the form fills it in
        if values.get("practice_hours") is None:
            values["practice_hours"] = 0.0
        if values.get("year") is None and "year" not in failed and values.get("start_date"):
            values["year"] = values["start_date"].year  # as the form proposes it
        if not self.issuer:
            values.pop("project_no", None)

    def _value(self, name: str, text: str):
        if not text:
            return None
        if name in INTEGERS:
            return parse_number(text, whole=True)
        if name in NUMBERS:
            return parse_number(text, whole=False)
        if name in DATES:
            return parse_date(text)
        if name in self.choices:
            member = self.choices[name].get(normalise_header(text))
            if member is None:
                raise BadValue(_l("Choose one of the listed options."))
            return member
        if name == "discipline":
            found = self.disciplines.get(normalise_header(text))
            if found is None:
                raise BadValue(_l("Choose one of the listed options."))
            return found
        return text

    # one lecturer row ---------------------------------------------------------
    def lecturer(self, sheet: str, row_no: int, cells: dict[str, str], columns) -> dict:
        values: dict = {}
        failed = set()
        for name, column in columns.items():
            if name == ROW_KEY:
                continue
            text = cells.get(name, "")
            if name in LECTURER_NUMBERS:
                try:
                    values[name] = parse_number(text, whole=False) if text else None
                except BadValue as bad:
                    failed.add(name)
                    self.error(sheet, row_no, column, text, bad.message)
                continue
            values[name] = text or None
            if text and (msg := text_too_long(LECTURER_MODEL, name, text)):
                failed.add(name)
                self.error(sheet, row_no, column, text, msg)
        for name, message in rules.validate_lecturer(values).items():
            if name not in failed and name in columns:
                self.error(sheet, row_no, columns[name], cells.get(name, ""), message)
        return values


def filing_horizon():
    """The last day a project's dates may fall on: ``FILING_HORIZON_YEARS`` of the
    application (the default outside one)."""
    years = (
        current_app.config["FILING_HORIZON_YEARS"]
        if has_app_context()
        else rules.DEFAULT_HORIZON_YEARS
    )
    return rules.horizon(years)


def _field_label(name: str):
    from models.vocabulary import PROJECT_LABELS

    return PROJECT_LABELS[name]


def check(session: Session, account, payload: dict) -> Plan:
    """Every row of ``payload`` (see ``to_payload``) checked for ``account``'s unit.

    Raises ``FileRefused`` for headers that are not the template's; every other
    problem is a ``RowError`` of the plan, with its sheet, row, column and value."""
    checker = _Checker(session, account)
    projects = table_of(payload["projects"])
    p_columns = project_columns(checker.issuer)
    p_map = column_map(projects, p_columns)
    by_field = {c.field: c for c in p_map.values()}
    example = normalise_header(chinese(EXAMPLE))
    rows: list[ProjectRow] = []
    for row_no, texts in projects.rows:
        cells = cells_of(texts, p_map)
        if normalise_header(cells.get(ROW_KEY, "")) == example:
            continue
        rows.append(checker.project(projects.sheet, row_no, cells, by_field))
    _check_keys_in_file(checker, projects.sheet, rows, by_field)
    if (lecturers := table_of(payload.get("lecturers"))) is not None:
        _check_lecturers(checker, lecturers, rows, example)
    _match_existing(checker, projects.sheet, rows, by_field)
    bad_rows = {(e.sheet, e.row) for e in checker.errors}
    good = [r for r in rows if (projects.sheet, r.row) not in bad_rows]
    for _receiver, found in checking.send(session=session, account=account, rows=good):
        checker.errors.extend(found or ())
    checker.errors.sort(key=lambda e: (e.sheet != projects.sheet, e.row))
    return Plan(rows, checker.errors, _filing_warnings(session, account, projects.sheet, good))


def _filing_warnings(session, account, sheet: str, rows: list[ProjectRow]) -> list[RowError]:
    """The filing rules each good row would break if reported today
    (``workflow.filing_rules.check_values``: a constant number of statements)."""
    if not rows:
        return []
    values = [{**row.values, "lecturers": row.lecturers, "id": row.target_id} for row in rows]
    warnings = []
    for row, broken in zip(
        rows, workflow.filing_rules.check_values(session, account, values), strict=True
    ):
        for violation in broken:
            prefix = BLOCKS_REPORT if violation.blocks else WARNS_ON_REPORT
            warnings.append(
                RowError(
                    sheet,
                    row.row,
                    str(RULE_COLUMN),
                    row.values.get("name") or "",
                    f"{prefix}{violation.message()}",
                )
            )
    return warnings


def _check_keys_in_file(checker, sheet: str, rows: list[ProjectRow], columns) -> None:
    """A 序号, 导入编号 or 项目编号 may name one row only."""
    for name, key in ((ROW_KEY, "row_key"), (IMPORT_KEY, "import_key"), ("project_no", None)):
        if name not in columns:
            continue
        _check_once(checker, sheet, rows, columns[name], key)
        if name == IMPORT_KEY:
            for row in rows:
                if row.import_key and (msg := text_too_long(ImportKey, "key", row.import_key)):
                    checker.error(sheet, row.row, columns[name], row.import_key, msg)


def _check_once(checker, sheet: str, rows: list[ProjectRow], column, key: str | None) -> None:
    """Each value of one key column (a row's attribute ``key``, or its 项目编号 for
    None) on one row only: a later row with the same value is refused."""
    seen: dict[str, int] = {}
    for row in rows:
        value = getattr(row, key) if key else (row.values.get("project_no") or "")
        if not value:
            continue
        if value in seen:
            checker.error(
                sheet,
                row.row,
                column,
                value,
                _l("Row %(row)s already has this value.", row=seen[value]),
            )
        else:
            seen[value] = row.row


def _check_lecturers(checker, table: Table, rows: list[ProjectRow], example: str) -> None:
    columns = lecturer_columns()
    l_map = column_map(table, columns)
    by_field = {c.field: c for c in l_map.values()}
    by_key = {r.row_key: r for r in rows if r.row_key}
    for row_no, texts in table.rows:
        cells = cells_of(texts, l_map)
        key = cells.get(ROW_KEY, "")
        if normalise_header(key) == example:
            continue
        values = checker.lecturer(table.sheet, row_no, cells, by_field)
        project = by_key.get(key)
        if project is None:
            reason = (
                _l("No project row has this row key.")
                if key
                else _l("Enter the row key of the lecturer's project.")
            )
            checker.error(table.sheet, row_no, by_field[ROW_KEY], key, reason)
            continue
        values["position"] = len(project.lecturers)
        project.lecturers.append(values)


def _match_existing(checker, sheet: str, rows: list[ProjectRow], columns) -> None:
    """Rows naming an existing project (by 导入编号, or an issuer's 项目编号) update
    it if the unit may still edit it; anything else is refused with the reason."""
    by_key, by_number, found = _existing(checker, rows)
    claimed: dict[int, int] = defaultdict(int)
    for row in rows:
        by_import_key = found.get(by_key.get(row.import_key)) if row.import_key else None
        matched = _matched_project(checker, sheet, row, columns, by_import_key, by_number)
        if matched is None:
            continue
        target, column, value = matched
        if (refusal := workflow.refusal(target, workflow.Action.EDIT, checker.account)) is not None:
            checker.error(
                sheet,
                row.row,
                column,
                value,
                _l(
                    "It matches project “%(name)s”, which cannot be updated: %(why)s",
                    name=target.name,
                    why=str(refusal),
                ),
            )
            continue
        if claimed[target.id]:
            checker.error(
                sheet,
                row.row,
                column,
                value,
                _l("Row %(row)s already updates the same project.", row=claimed[target.id]),
            )
            continue
        claimed[target.id] = row.row
        row.target_id = target.id


def _existing(checker, rows: list[ProjectRow]) -> tuple[dict, dict, dict]:
    """The unit's import keys the rows name (key → project id), the committee's
    projects by the 项目编号 the rows name, and the projects of those keys by id."""
    unit = checker.unit
    keys = [r.import_key for r in rows if r.import_key]
    by_key: dict[str, int] = {}
    for chunk in chunks(keys):
        by_key |= dict(
            checker.session.execute(
                select(ImportKey.key, ImportKey.project_id).where(
                    ImportKey.unit_id == unit.id, ImportKey.key.in_(chunk)
                )
            ).all()
        )
    numbers = [r.values.get("project_no") for r in rows if r.values.get("project_no")]
    by_number: dict[str, object] = {}
    for chunk in chunks(numbers):
        stmt = select(*ROW_COLUMNS).where(
            Project.committee_id == unit.committee_id, Project.project_no.in_(chunk)
        )
        by_number |= {r.project_no: r for r in checker.session.execute(stmt)}
    found: dict[int, object] = {}
    for chunk in chunks(list(set(by_key.values()))):
        stmt = select(*ROW_COLUMNS).where(Project.id.in_(chunk))
        found |= {r.id: r for r in checker.session.execute(stmt)}
    return by_key, by_number, found


def _matched_project(checker, sheet: str, row: ProjectRow, columns, target, by_number: dict):
    """The project a row names, with the column and value naming it: its 项目编号's
    (which must be the unit's own, and the 导入编号's project if both are given), else
    its 导入编号's (``target``). None when it names none, or refused here."""
    number = row.values.get("project_no")
    if not number or (other := by_number.get(number)) is None:
        return None if target is None else (target, columns.get(IMPORT_KEY), row.import_key)
    if target is not None and other.id != target.id:
        checker.error(
            sheet,
            row.row,
            columns["project_no"],
            number,
            _l("This project number belongs to another project than the import key."),
        )
        return None
    if other.owner_unit_id != checker.unit.id:
        checker.error(
            sheet,
            row.row,
            columns["project_no"],
            number,
            _l("This project number is already used by another unit's project."),
        )
        return None
    return other, columns["project_no"], number


def chunks(values: list) -> Iterable[list]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]
