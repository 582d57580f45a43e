"""The merge page of the project form: someone saved the project since the form was
opened (``ProjectFormMixin._merge_page``). Each field's three values (as the form was
opened, as stored, as typed), which the page proposes to keep, and the page's POST read
back as the edit form's own fields (``merge_formdata``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date
from enum import Enum

from werkzeug.datastructures import MultiDict

from models import rules
from models.vocabulary import LECTURER_FIELDS, label
from workflow.diff import lecturer_changes, shown

FORM_FIELDS = rules.PROJECT_FIELDS


def _raw(value) -> str:
    """A value as the form posts it: what is compared between two editors and what
    the merge page posts back."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int | str):
        return str(value)
    return str(value.id)  # a row chosen in a select (学科)


def _lecturer_key(row: dict) -> tuple:
    return tuple(row.get(name, "") for name in ("id", *LECTURER_FIELDS))


def stored_values(project) -> dict:
    """The project's fields and lecturers as the form posts them."""
    values = {name: _raw(getattr(project, name)) for name in FORM_FIELDS}
    values["lecturers"] = [
        {"id": str(lec.id), **{name: _raw(getattr(lec, name)) for name in LECTURER_FIELDS}}
        for lec in project.lecturers
    ]
    return values


def typed_values(form) -> dict:
    """What the form posted, in the same terms as ``stored_values``."""
    values = {name: _raw(form[name].data) for name in FORM_FIELDS if name in form}
    values["lecturers"] = [
        {
            "id": _raw(entry.get_pk()),
            **{name: _raw(entry.form[name].data) for name in LECTURER_FIELDS},
        }
        for entry in form.lecturers.entries
        if not form.lecturers.should_delete(entry)
    ]
    return values


@dataclass
class MergeRow:
    """One field the two editors left different: the stored value and the typed one
    (as posted and as shown), and which the page proposes to keep."""

    name: str
    label: object
    theirs: str
    mine: str
    theirs_shown: object
    mine_shown: object
    keep: str  # "mine" or "theirs"
    both_changed: bool


@dataclass
class LecturerMerge:
    theirs: list[dict]
    mine: list[dict]
    changes: tuple  # what keeping mine changes in theirs (workflow.diff)
    keep: str
    both_changed: bool


@dataclass
class Merge:
    rows: list[MergeRow] = dataclasses.field(default_factory=list)
    same: dict[str, str] = dataclasses.field(default_factory=dict)
    lecturers: LecturerMerge | None = None
    mine_lecturers: list[dict] = dataclasses.field(default_factory=list)
    version: int = 0
    seen_values: str = ""

    @classmethod
    def of(cls, form, project) -> Merge:
        """Three values per field: the one the form was opened with (``seen_values``,
        when the form has it), the stored one and the typed one. A field changed only
        here keeps what was typed; one changed only by the other editor takes theirs;
        one changed by both is proposed as typed (nothing typed is dropped unasked)."""
        base = _opened_with(form)
        theirs, mine = stored_values(project), typed_values(form)
        names = {
            "discipline": (
                project.discipline.name if project.discipline else "",
                form.discipline.data.name if form.discipline.data else "",
            )
        }
        merge = cls(
            version=project.version,
            seen_values=json.dumps(theirs, ensure_ascii=False),
            mine_lecturers=mine["lecturers"],
        )
        for name in FORM_FIELDS:
            if name not in mine:
                continue
            if mine[name] == theirs[name]:
                merge.same[name] = theirs[name]
                continue
            shown_as = names.get(name, (shown(name, theirs[name]), shown(name, mine[name])))
            merge.rows.append(_field_row(name, theirs[name], mine[name], base.get(name), shown_as))
        merge.lecturers = _lecturer_merge(theirs["lecturers"], mine["lecturers"], base)
        return merge


def _opened_with(form) -> dict:
    """The values the form was opened with (its ``seen_values``); empty when it has none."""
    try:
        base = json.loads(form.seen_values.data or "null")
    except ValueError:
        return {}
    return base if isinstance(base, dict) else {}


def _field_row(name: str, theirs: str, mine: str, seen, shown_as: tuple) -> MergeRow:
    """A field the two editors left different: what was typed is proposed, but for a
    field the form was opened with as typed (only the other editor changed it)."""
    return MergeRow(
        name=name,
        label=label(name),
        theirs=theirs,
        mine=mine,
        theirs_shown=shown_as[0],
        mine_shown=shown_as[1],
        keep="theirs" if seen == mine else "mine",
        both_changed=seen is None or seen not in (theirs, mine),
    )


def _lecturer_keys(rows: list) -> list[tuple]:
    """A block of lecturer rows, in an order that compares two blocks as sets of rows."""
    return sorted(map(_lecturer_key, rows))


def _lecturer_merge(stored: list, ours: list, base: dict) -> LecturerMerge | None:
    """The lecturers as one block, when the two editors left them different (else None),
    judged like a field against the block the form was opened with."""
    if _lecturer_keys(ours) == _lecturer_keys(stored):
        return None
    seen = base.get("lecturers")
    seen_keys = _lecturer_keys(seen) if isinstance(seen, list) else None
    return LecturerMerge(
        theirs=stored,
        mine=ours,
        changes=lecturer_changes(stored, ours),
        keep="theirs" if seen_keys == _lecturer_keys(ours) else "mine",
        both_changed=seen_keys is None
        or seen_keys not in (_lecturer_keys(stored), _lecturer_keys(ours)),
    )


# The posted keys of the lecturer rows (the form's and the merge page's own copy).
LECTURER_KEYS = ("lecturers-", "del-lecturers-", "mine-lecturers-")


def merge_formdata(posted, project) -> MultiDict:
    """The merge page's POST as the edit form's own fields. Each field's radio is
    already named as the field. The lecturers, as one block: "mine" posts the rows typed
    (``mine-lecturers-N-…``), "theirs" the rows the page showed as saved (its
    ``seen_values``); either way as the form's rows, every stored lecturer not among
    them deleted, so the project's lecturers become exactly the block chosen."""
    data = MultiDict(
        [(k, v) for k, v in posted.items(multi=True) if not k.startswith(LECTURER_KEYS)]
    )
    if posted.get("merge_lecturers") == "mine":
        rows = _typed_lecturers(posted)
    else:
        rows = _shown_lecturers(posted)
    current = {str(lec.id) for lec in project.lecturers}
    kept, n = set(), 0
    for index in sorted(rows):
        row = rows[index]
        if row.get("id") in current:
            kept.add(row["id"])
        else:
            # A new row, or one the other editor removed meanwhile: added (again). Its
            # empty id is posted, else the row would take the stored lecturer at its index.
            row["id"] = ""
        for name, value in row.items():
            data[f"lecturers-{n}-{name}"] = value
        n += 1
    for lecturer_id in sorted(current - kept, key=int):
        data[f"lecturers-{n}-id"] = lecturer_id
        data[f"del-lecturers-{n}"] = "y"
        n += 1
    return data


def _typed_lecturers(posted) -> dict[int, dict]:
    """The lecturer rows the editor typed (``mine-lecturers-N-<field>``), by index."""
    rows: dict[int, dict] = {}
    prefix = "mine-lecturers-"
    for key, value in posted.items():
        if key.startswith(prefix):
            index, _, name = key[len(prefix) :].partition("-")
            if index.isdigit() and name in ("id", *LECTURER_FIELDS):
                rows.setdefault(int(index), {})[name] = value
    return rows


def _shown_lecturers(posted) -> dict[int, dict]:
    """The lecturer rows the merge page showed as saved (its ``seen_values``), by index."""
    try:
        shown_rows = json.loads(posted.get("seen_values") or "{}").get("lecturers") or []
    except (ValueError, AttributeError):
        shown_rows = []
    return {
        index: {k: str(v) for k, v in row.items() if k in ("id", *LECTURER_FIELDS) and v}
        for index, row in enumerate(shown_rows)
        if isinstance(row, dict)
    }
