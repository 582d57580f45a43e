"""学员名单导入: an execution report's roster from Excel or CSV, through the same pipeline
as the projects' batch import: the template (``*`` on the required headers, a 说明
sheet, drop-downs), the reader in its child process within the same limits
(``imports.isolation``), the batch kept between the preview and the confirmation
(``imports.service``), and an all-or-nothing confirmation.

A row is judged by the roster's own rules (``workflow.execution.clean_learner`` and
``learner_errors``, that is ``models.rules.validate_roster_entry``), as the panel's form
is. An ID number twice in the file is an error on its second row; an ID number already on
the roster updates that learner, so the same file imported twice changes nothing. The rows
are judged, matched with the roster and packed a chunk at a time: a file without errors is
kept as its judged learners packed in one string (``LEARNERS``: JSON lines, zlib, base64),
not as its cells, written as judged while the report's version is unchanged, judged again
from those values otherwise; neither the preview nor the confirmation holds every judged
learner at once. The rows are written by ``workflow.execution.import_learners``: one INSERT
and one UPDATE per 1,000 rows, one version step and one history event for the whole file.

API::

    imports.roster.template_bytes(report)                            # the XLSX's bytes
    preview = imports.roster.preview(session, account, report, filename, data, limits)
    preview.plan.added, .updated, .unchanged, .count, .errors        # FileRefused, NotAllowed
    imports.roster.plan_of(session, report, batch, shown)            # .rows: the first shown
    imports.roster.confirm(session, account, report, batch_id)       # ImportRefused, …
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from imports import isolation, template
from imports.columns import (
    EXAMPLE,
    NOTES_SHEET,
    BadValue,
    Column,
    enum_choices,
    normalise_header,
    parse_number,
)
from imports.reader import MAX_ROWS, Table, Titles
from imports.rows import IN_CHUNK, Plan, RowError, cells_of, column_map, table_of, table_payload
from imports.service import (
    HISTORY_NOTE,
    ImportRefused,
    Preview,
    claim,
    counted,
    find,
    keep,
    load,
)
from models import ExecutionReport, IdType, RosterEntry, rules
from models.vocabulary import chinese
from workflow import engine, execution
from workflow.machines import EXECUTIONS
from workflow.transitions import Action

ROSTER_SHEET = _l("Roster")
FIELDS = execution.ROSTER_FIELDS
# Columns whose cells the template formats as text: a long number typed into a number
# cell loses its last digits (an ID number's check digit among them).
TEXT_COLUMNS = ("id_number", "license_no", "phone")
YES, NO = _l("Yes"), _l("No")
# What a cell of 出勤 may say besides 是 / 否 (and Yes / No): a boolean cell, a tick.
YES_WORDS = ("true", "1", "√", "✓", "y")
NO_WORDS = ("false", "0", "×", "✗", "n")


def columns() -> list[Column]:
    """The roster's columns, in the template's order, ``*`` on the required ones."""
    required = rules.ROSTER_REQUIRED
    return [Column(name, rules.ROSTER_LABELS[name], name in required) for name in FIELDS]


def titles() -> Titles:
    """The reader's texts for a roster: one sheet, 学员名单."""
    return Titles(chinese(ROSTER_SHEET), None, chinese(EXAMPLE))


# -- the template -----------------------------------------------------------------------------
def notes(report: ExecutionReport) -> tuple:
    """The sheet 说明 of ``report``'s template."""
    return (
        _l("Fill in one learner per row of the sheet Roster, from row 3 on."),
        _l("Columns marked * are required."),
        _l("The row whose name is “Example” shows how to fill in a row; it is never imported."),
        _l(
            "Document type: resident identity card when left empty. The number of a resident"
            " identity card or a residence permit has 18 characters, the last one a check"
            " character, which is verified."
        ),
        _l(
            "A learner whose ID number is already on the roster is updated with the row's"
            " values, not added twice: importing the same file again changes nothing. Learners"
            " on the roster who are not in the file stay on it."
        ),
        _l("Attended: Yes or No (Yes when left empty)."),
        _l(
            "Credits awarded: 0 to %(credits)s in steps of 0.5; when left empty, the report's"
            " credits for a learner who attended, otherwise 0.",
            credits=f"{report.credits:g}",
        ),
        _l("Enter values, not formulas. At most %(rows)s rows and 10 MB per file.", rows=MAX_ROWS),
        _l(
            "A CSV file (UTF-8, or GBK as Excel saves it on Chinese Windows) may be uploaded"
            " instead, with the same headers."
        ),
        _l(
            "After the upload you see a preview: the learners to add or update and every row"
            " with an error. Nothing is saved until you confirm, and then every row is saved"
            " or none."
        ),
    )


def _example_id_number() -> str:
    first17 = "11010519800101001"
    return first17 + rules.id_check_character(first17)


def template_bytes(report: ExecutionReport) -> bytes:
    """The roster template of ``report``: the sheet 学员名单 (headers, an example row,
    drop-downs for 证件类型 and 出勤) and the sheet 说明."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = chinese(ROSTER_SHEET)
    notes_sheet = workbook.create_sheet(chinese(NOTES_SHEET))
    roster_columns = columns()
    template.write_headers(sheet, roster_columns)
    example = {
        "name": chinese(EXAMPLE),
        "id_type": chinese(IdType.RESIDENT.title),
        "id_number": _example_id_number(),
        "workplace": "北京协和医院",
        "title": "主治医师",
        "license_no": "",
        "phone": "13800000000",
        "attended": chinese(YES),
        "credits": report.credits,
    }
    template.example_row(sheet, 2, [example[c.field] for c in roster_columns])
    for index, column in enumerate(roster_columns, start=1):
        if column.field in TEXT_COLUMNS:
            sheet.column_dimensions[get_column_letter(index)].number_format = "@"
    lists = {
        "id_type": [chinese(kind.title) for kind in IdType],
        "attended": [chinese(YES), chinese(NO)],
    }
    template.write_notes(notes_sheet, notes(report), lists, rules.ROSTER_LABELS)
    template.add_drop_downs(sheet, notes_sheet, lists, roster_columns)
    return template.save(workbook, (sheet,))


# -- checking ---------------------------------------------------------------------------------
# A judged learner is one list, as the plan shows it and the batch keeps it (one JSON line
# of ``packed``) for the confirmation: [row, target_id, changed, defaulted, *the values in
# FIELDS order]. ``target_id`` is the roster entry the row updates (same ID number), None
# for a new learner; ``changed`` is False when that entry already holds exactly these
# values; ``defaulted`` says the file left 授予学分 empty (the report's default was filled
# in, and is filled in again when the row is judged again). Lists, not dicts: the shortest
# JSON line, the least held per chunk.
ROW, TARGET, CHANGED, DEFAULTED, VALUES = range(5)
ID_NUMBER = VALUES + FIELDS.index("id_number")


class LearnerRow:
    """One learner of the file as judged: a view of its list (``item``)."""

    __slots__ = ("item",)

    def __init__(self, item: list) -> None:
        self.item = item

    @property
    def row(self) -> int:
        return self.item[ROW]

    @property
    def values(self) -> dict:
        return _values(self.item)

    @property
    def target_id(self) -> int | None:
        return self.item[TARGET]

    @property
    def changed(self) -> bool:
        return self.item[CHANGED]


@dataclass
class RosterPlan(Plan):
    """The file's judgement: its first learners (``rows``: the ``shown`` the caller asked
    for), its errors, how many learners it has (``count``) and what confirming it would do;
    every learner packed (``packed``, see ``LEARNERS``) while the file has no error."""

    count: int = 0
    counts: tuple[int, int, int] = (0, 0, 0)  # added, updated, unchanged
    packed: str | None = None

    @property
    def added(self) -> int:
        return self.counts[0]

    @property
    def updated(self) -> int:
        return self.counts[1]

    @property
    def unchanged(self) -> int:
        return self.counts[2]


class _Checker:
    def __init__(self, report: ExecutionReport, sheet: str, by_field: dict[str, Column]) -> None:
        self.report = report
        self.sheet = sheet
        self.by_field = by_field
        self.id_types = enum_choices(IdType)
        self.attended = _attended_choices()
        self.normal: dict[str, str] = {}
        self.errors: list[RowError] = []

    def error(self, row: int, name: str, value, reason) -> None:
        column = self.by_field.get(name)
        label = chinese(column.label if column else rules.ROSTER_LABELS[name])
        self.errors.append(RowError(self.sheet, row, label, str(value), str(reason)))

    def from_cells(self, row_no: int, cells: dict[str, str]) -> tuple[LearnerRow, bool, str]:
        """A row of the file's texts judged: (the learner, whether it has no error, its ID
        number as the file gives it)."""
        values: dict = {}
        failed = set()
        for name in self.by_field:
            text = cells.get(name, "")
            try:
                values[name] = self._value(name, text)
            except BadValue as bad:
                failed.add(name)
                self.error(row_no, name, text, bad.message)
        return self._judged(row_no, values, failed, lambda name: cells.get(name, ""))

    def from_kept(self, item: list) -> tuple[LearnerRow, bool, str]:
        """A learner the preview judged without error (its kept list) judged again through
        the same rules, for the report and roster as they are now; an error names the
        value as kept (``_shown``)."""
        values = dict(zip(FIELDS, item[VALUES:], strict=True))
        if item[DEFAULTED]:
            values["credits"] = None
        return self._judged(item[ROW], values, set(), lambda name: _shown(values, name))

    def _judged(self, row_no: int, values: dict, failed: set, text_of) -> tuple:
        row = execution.clean_learner(values)
        defaulted = row["credits"] is None and "credits" not in failed
        if defaulted:
            row["credits"] = self.report.credits if row["attended"] else 0
        before = len(self.errors)
        for name, message in execution.learner_errors(self.report, row).items():
            if name not in failed:
                self.error(row_no, name, text_of(name), message)
        item = [row_no, None, True, defaulted, *(row[name] for name in FIELDS)]
        return LearnerRow(item), not failed and len(self.errors) == before, text_of("id_number")

    def _value(self, name: str, text: str):
        if not text:
            return None
        if name == "id_type":
            return self._choice(self.id_types, text)
        if name == "attended":
            return self._choice(self.attended, text)
        if name == "credits":
            return parse_number(text, whole=False)
        return text

    def _choice(self, choices: dict, text: str):
        # A column of choices repeats a few texts thousands of times: each normalised once.
        if (normal := self.normal.get(text)) is None:
            normal = self.normal[text] = normalise_header(text)
        found = choices.get(normal)
        if found is None:
            raise BadValue(_l("Choose one of the listed options."))
        return found


def _shown(values: dict, name: str) -> str:
    """A kept value as the file would show it (an error's value when judged again)."""
    value = values.get(name)
    if value is None:
        return ""
    if name == "id_type":
        return chinese(IdType(value).title)
    if name == "attended":
        return chinese(YES if value else NO)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _attended_choices() -> dict[str, bool]:
    choices = {}
    for value, word, extra in ((True, YES, YES_WORDS), (False, NO, NO_WORDS)):
        with force_locale("en"):
            english = str(word)
        for text in (chinese(word), english, *extra):
            choices[normalise_header(text)] = value
    return choices


def check(session: Session, report: ExecutionReport, payload: dict, shown: int = 0) -> RosterPlan:
    """Every row of a batch's ``payload`` judged for ``report``'s roster as it is now: the
    one function the preview page and the confirmation both call. The payload holds the
    file's table (``{"roster": table}``: a file with errors, or a batch kept before the
    judgement was), or the learners the preview judged without error (``LEARNERS``), judged
    again from their values through the same rules. The plan keeps the first ``shown``
    learners. Headers that are not the template's refuse the file (``FileRefused``); every
    other problem is a ``RowError``."""
    kept = payload.get(LEARNERS)
    if payload.get("roster") is None and kept is not None:
        checker = _Checker(report, kept["sheet"], {c.field: c for c in columns()})
        judged = (checker.from_kept(item) for item in kept_learners(kept))
        return _plan(session, checker, judged, shown)
    return judge_table(session, report, table_of(payload["roster"]), shown)


def judge_table(
    session: Session, report: ExecutionReport, table: Table, shown: int = 0
) -> RosterPlan:
    """Every row of the file's ``table`` judged, one row at a time."""
    mapping = column_map(table, columns())
    checker = _Checker(report, table.sheet, {c.field: c for c in mapping.values()})
    example = normalise_header(chinese(EXAMPLE))

    def judged():
        for row_no, texts in table.rows:
            cells = cells_of(texts, mapping)
            if normalise_header(cells.get("name", "")) != example:
                yield checker.from_cells(row_no, cells)

    return _plan(session, checker, judged(), shown)


# Learners judged, matched with the roster and packed a chunk at a time: the plan never
# holds every judged learner (only the first ``shown``), the batch keeps them packed.
JUDGE_CHUNK = IN_CHUNK


def _plan(session: Session, checker: _Checker, judged, shown: int = 0) -> RosterPlan:
    """The learners ``judged`` gives (each with whether it has no error), a chunk at a
    time: an ID number twice is an error on its second row, each chunk's good rows are
    matched to the roster (one SELECT), then packed while the file has no error; the plan
    counts them and keeps the first ``shown``."""
    rows: list[LearnerRow] = []
    seen: dict[str, int] = {}  # an ID number → the row it first appears on
    packer: _Packer | None = _Packer()
    count = added = updated = 0
    judged = iter(judged)
    while chunk := list(islice(judged, JUDGE_CHUNK)):
        items = _matched(session, checker, chunk, seen)
        del chunk
        count += len(items)
        new, changed = _tally(items)
        added, updated = added + new, updated + changed
        if len(rows) < shown:
            rows += [LearnerRow(item) for item in items[: shown - len(rows)]]
        if checker.errors:
            packer = None  # a file with errors is kept as its table
        elif packer is not None:
            packer.add(items)
        del items  # before the next chunk is judged: one chunk held at a time
    del seen  # before the packed string is joined
    checker.errors.sort(key=lambda e: e.row)
    return RosterPlan(
        rows,
        checker.errors,
        count=count,
        counts=(added, updated, count - added - updated),
        packed=packer.packed() if packer is not None else None,
    )


def _matched(session: Session, checker: _Checker, chunk: list, seen: dict[str, int]) -> list:
    """A chunk's judged learners' lists, those without error matched with the roster
    (``_match``: one SELECT); the chunk's ID numbers by number let go before the lists
    are gathered."""
    fresh = _fresh(checker, chunk, seen)
    _match(session, checker.report, fresh)
    del fresh
    return [learner.item for learner, _, _ in chunk]


def _fresh(checker: _Checker, chunk: list, seen: dict[str, int]) -> dict[str, list]:
    """A chunk's learners without error by ID number, to be matched with the roster: an
    ID number ``seen`` on an earlier row is an error on this one instead (``seen`` keeps
    each number's first row, as the rows come)."""
    fresh: dict[str, list] = {}
    for learner, ok, text in chunk:
        number = learner.item[ID_NUMBER]
        if not ok or not number:
            continue
        if (first := seen.get(number)) is not None:
            message = _l("Row %(row)s already has this value.", row=first)
            checker.error(learner.row, "id_number", text, message)
        else:
            # The cell's own string when the file gave the number as cleaned: the
            # table holds it already (the numbers of 5,000 rows are not copied).
            seen[text if text == number else number] = learner.row
            fresh[number] = learner.item
    return fresh


def _tally(items: list[list]) -> tuple[int, int]:
    """(how many of a chunk's learners confirming adds, how many it updates)."""
    added = sum(1 for item in items if item[TARGET] is None)
    return added, sum(1 for item in items if _updates(item))


def _match(session: Session, report: ExecutionReport, fresh: dict[str, list]) -> None:
    """Rows whose ID number is on the roster update that learner (``target_id``), and are
    marked unchanged when the learner already holds the row's values; ``fresh`` is a
    chunk's judged learners by ID number, read in one SELECT."""
    if not fresh:
        return
    fields = [getattr(RosterEntry, name) for name in FIELDS]
    # The numbers given at execution, not in the statement: the engine's statement cache
    # keeps the statement it compiled, with any values in it (ID numbers, a chunk's worth).
    stmt = select(RosterEntry.id, *fields).where(
        RosterEntry.report_id == report.id,
        RosterEntry.id_number.in_(bindparam("numbers", expanding=True)),
    )
    for found in session.execute(stmt, {"numbers": list(fresh)}):
        item = fresh[found.id_number]
        item[TARGET] = found.id
        item[CHANGED] = any(a != b for a, b in zip(found[1:], item[VALUES:], strict=True))


# -- the kept learners ------------------------------------------------------------------------
# A file without errors is kept in its batch as its judged learners, not its cells:
# ``{"roster": null, "learners": {"version", "sheet", "count", "added", "updated",
# "packed"}}``. ``packed`` is every learner's list (``ROW`` … ``VALUES``), one JSON line
# each, compressed (zlib) and base64'd: one string, written a chunk of learners at a time
# as the preview judges them and read back a piece at a time, so neither the preview nor
# the confirmation holds every learner at once (nor the JSON text of them all). ``version``
# is the report's at the preview: while it is unchanged the confirmation writes the
# learners as packed, with the counts kept beside them. (Batches kept earlier: the table
# with a "judged" entry, judged from their table; ``"rows"``, a list of the learners'
# lists instead of ``packed``, judged again from those lists.)
LEARNERS = "learners"
PACK_LEVEL = 6
UNPACK_PIECE = 4 << 10  # characters of ``packed`` unpacked at a time (a multiple of 4)


class _Packer:
    """Judged learners packed as they come (``add`` a chunk), one string at the end."""

    def __init__(self) -> None:
        self.zip = zlib.compressobj(PACK_LEVEL)
        self.parts: list[bytes] = []

    def add(self, items: list[list]) -> None:
        lines = "".join(
            json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n" for item in items
        )
        self.parts.append(self.zip.compress(lines.encode()))

    def packed(self) -> str:
        self.parts.append(self.zip.flush())
        data = b"".join(self.parts)
        self.parts = []
        return base64.b64encode(data).decode("ascii")


def pack(items) -> str:
    """Learners' lists as ``packed`` keeps them (``unpack`` reads them back)."""
    packer = _Packer()
    items = iter(items)
    while chunk := list(islice(items, JUDGE_CHUNK)):
        packer.add(chunk)
    return packer.packed()


def unpack(packed: str) -> Iterator[list]:
    """The learners' lists of ``packed``, one at a time: a piece of the string decoded,
    unpacked and parsed at a time (no whole copy of it, nor of its text)."""
    unzip = zlib.decompressobj()
    rest = b""
    for start in range(0, len(packed), UNPACK_PIECE):
        text = rest + unzip.decompress(base64.b64decode(packed[start : start + UNPACK_PIECE]))
        end = text.rfind(b"\n") + 1
        rest = text[end:]
        if end:
            yield from _parsed(text[: end - 1])
    rest += unzip.flush()
    if rest.strip():
        yield from _parsed(rest.strip())


def _parsed(lines: bytes) -> list:
    """JSON lines parsed at once, as one JSON array."""
    return json.loads(b"[" + lines.replace(b"\n", b",") + b"]")


def kept_learners(kept: dict) -> Iterator[list]:
    """The learners' lists a batch keeps (``packed``, or the lists of an earlier batch)."""
    if kept.get("packed") is not None:
        return unpack(kept["packed"])
    return iter(kept["rows"])


# -- preview and confirmation -------------------------------------------------------------------
def _ensure_editable(report: ExecutionReport, account) -> None:
    """The owner unit, while it holds the report (else ``NotAllowed`` saying why)."""
    engine.ensure_allowed(report, Action.EDIT, account, EXECUTIONS)


def digest(report: ExecutionReport, data: bytes) -> str:
    """The batch's key: the file's bytes and the report's id (the same file for two
    reports is two batches)."""
    return hashlib.sha256(b"roster %d\n" % report.id + data).hexdigest()


def preview(
    session: Session,
    account,
    report: ExecutionReport,
    filename: str,
    data: bytes,
    limits: isolation.Limits | None = None,
    shown: int = 0,
) -> Preview:
    """Read and check ``data`` as ``report``'s roster, kept as a pending batch (flushed,
    not committed); the plan keeps the first ``shown`` learners. A file imported before is
    read again and may be confirmed again: it updates nothing that did not change since. A
    file without errors is kept as its judged learners (``LEARNERS``: packed), not as its
    cells; a file with errors as its table."""
    _ensure_editable(report, account)
    key = digest(report, data)
    batch = find(session, account, key)
    table = isolation.read(filename, data, limits, titles()).main
    plan = judge_table(session, report, table, shown)
    if plan.ok:
        payload = {"roster": None, LEARNERS: _kept(report, table.sheet, plan)}
        plan.packed = None  # the batch holds it
    else:
        payload = {"roster": table_payload(table)}
    del table  # its texts are no longer needed while the batch is written
    return Preview(keep(session, account, filename, key, payload, batch, report.id), plan)


def _kept(report: ExecutionReport, sheet: str, plan: RosterPlan) -> dict:
    return {
        "version": report.version,
        "sheet": sheet,
        "count": plan.count,
        "added": plan.added,
        "updated": plan.updated,
        "packed": plan.packed,
    }


def load_batch(session: Session, account, report: ExecutionReport, batch_id):
    """The batch ``batch_id`` of ``report``'s roster in the account's unit (``BatchNotFound``)."""
    return load(session, account, batch_id, report.id)


def plan_of(session: Session, report: ExecutionReport, batch, shown: int = 0) -> RosterPlan:
    """The batch judged for the report and roster as they are now (its first ``shown``
    learners kept for the page)."""
    plan = check(session, report, batch.payload, shown)
    plan.packed = None
    return plan


def confirm(session: Session, account, report: ExecutionReport, batch_id):
    """Write every learner of the batch, or raise and write none (the caller rolls back):
    ``(batch, how many learners the file left as they were)``.

    Every change of the roster or of the report moves the report's version, so while the
    version is the one the preview judged at, the preview's judgement holds and is written
    as it is (5,000 rows are not judged twice); at another version the rows are judged
    again (``check``: from the kept values, through the same rules). Either way the write's
    own compare-and-set on the version (``import_learners``) refuses it if the report
    changes meanwhile. The learners are unpacked and written a chunk at a time, never all
    held at once."""
    _ensure_editable(report, account)
    batch = load_batch(session, account, report, batch_id)
    packed, count, added, changed = _claimed(session, report, batch)
    news, updates = _writes(packed, added, changed)
    execution.import_learners(
        session,
        account,
        report,
        news,
        updates,
        reason=HISTORY_NOTE % batch.filename,
    )
    return batch, count - added - changed


def _claimed(session: Session, report: ExecutionReport, batch) -> tuple[str, int, int, int]:
    """The batch claimed with what it writes: (its learners packed, how many, how many
    added, how many updated), as the preview kept them while the report's version is the
    one it judged at, else judged again (``_judged_again``)."""
    kept = batch.payload.get(LEARNERS)
    if kept is not None and kept.get("packed") is not None and kept["version"] == report.version:
        packed, count = kept["packed"], kept["count"]
        added, changed = kept["added"], kept["updated"]
        claim(session, batch, added, changed)  # and what it writes, in one UPDATE
        return packed, count, added, changed
    claim(session, batch)
    return _judged_again(session, report, batch)


def _judged_again(session: Session, report: ExecutionReport, batch) -> tuple[str, int, int, int]:
    """The claimed batch judged for the report and roster as they are now (``check``):
    ``ImportRefused`` when a row has an error, else as ``_claimed`` and counted."""
    plan = check(session, report, batch.payload)
    if not plan.ok:
        raise ImportRefused(
            _l("The file has rows with errors: correct them and upload the file again."),
            plan,
        )
    packed, count, added, changed = plan.packed, plan.count, plan.added, plan.updated
    del plan
    counted(session, batch, added, changed)
    return packed, count, added, changed


def _writes(packed: str, added: int, changed: int) -> tuple[Iterable, Iterable]:
    """(the values of the learners to add, the (target, values) of those to update): each
    a pass over the packed learners as they are written, none when the counts say there
    is nothing."""
    news = (item[VALUES:] for item in unpack(packed) if item[TARGET] is None) if added else ()
    updates = (
        ((item[TARGET], item[VALUES:]) for item in unpack(packed) if _updates(item))
        if changed
        else ()
    )
    return news, updates


def _values(item: list) -> dict:
    """A judged learner's values by field."""
    return dict(zip(FIELDS, item[VALUES:], strict=True))


def _updates(item: list) -> bool:
    return item[TARGET] is not None and item[CHANGED]
