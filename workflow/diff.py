"""What changed between two versions of a project (修改对比).

Pure: two snapshots in, the changes out, no database. A snapshot is the
``data`` of a ``models.ProjectVersion``: the fields of
``models.rules.PROJECT_FIELDS`` as stored (enum values, ISO dates, the
discipline by name) and ``lecturers``, a list of mappings with ``id``,
``name``, ``title``, ``unit``, ``topic`` and ``hours``.

Values are shown the way the details page shows them: enum values by their
titles, dates as ``2026-05-01``, hours and credits without a needless ``.0``;
labels come from ``models.vocabulary``. A lecturer of the older version is
matched with one of the newer by id first (a lecturer edited in the form keeps
its row), then by name (a row removed and typed in again), so one edited
lecturer reads as changed, not as removed and added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from models.base import NUMBER, field_kinds
from models.project import Lecturer, Project
from models.rules import PROJECT_FIELDS
from models.vocabulary import LECTURER_FIELDS, label, lecturer_label

# How a stored value is shown, from the model's column types (``models.base.field_kinds``).
_KINDS = field_kinds(Project, PROJECT_FIELDS) | field_kinds(Lecturer, LECTURER_FIELDS)
ENUMS = {name: kind for name, kind in _KINDS.items() if isinstance(kind, type)}
NUMBERS = frozenset(name for name, kind in _KINDS.items() if kind == NUMBER)

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
LECTURER_TITLES = {
    ADDED: _l("Lecturer added"),
    REMOVED: _l("Lecturer removed"),
    CHANGED: _l("Lecturer changed"),
}


@dataclass(frozen=True)
class FieldChange:
    """One field: its name, label and the old and new values as shown ("" for none)."""

    name: str
    label: object
    old: object
    new: object


@dataclass(frozen=True)
class LecturerChange:
    """One lecturer added, removed or changed. ``fields`` are the changed
    fields of a changed lecturer, or every filled-in field of one added
    (``new``) or removed (``old``)."""

    kind: str
    name: str
    fields: tuple[FieldChange, ...]

    @property
    def title(self):
        return LECTURER_TITLES[self.kind]


@dataclass(frozen=True)
class Changes:
    fields: tuple[FieldChange, ...] = ()
    lecturers: tuple[LecturerChange, ...] = ()

    @property
    def count(self) -> int:
        """What "已修改 N 项" counts: each changed field, and each lecturer added,
        removed or changed."""
        return len(self.fields) + len(self.lecturers)

    def __bool__(self) -> bool:
        return self.count > 0


def shown(name: str, value) -> object:
    """``value`` of field ``name`` as the details page shows it."""
    if value is None or value == "":
        return ""
    if name in ENUMS:
        try:
            return ENUMS[name](value).title
        except ValueError:
            return str(value)
    if name in NUMBERS and isinstance(value, int | float):
        value = float(value)
        return str(int(value)) if value.is_integer() else f"{value:g}"
    return str(value)


def _same(name: str, old, new) -> bool:
    """Equal as shown: 12 and 12.0 hours, None and "" are no change."""
    return str(shown(name, old)) == str(shown(name, new))


def diff(old: Mapping, new: Mapping) -> Changes:
    """The changes from snapshot ``old`` to snapshot ``new``."""
    fields = tuple(
        FieldChange(name, label(name), shown(name, old.get(name)), shown(name, new.get(name)))
        for name in PROJECT_FIELDS
        if not _same(name, old.get(name), new.get(name))
    )
    return Changes(fields, lecturer_changes(old.get("lecturers") or (), new.get("lecturers") or ()))


def _lecturer_fields(before: Mapping, after: Mapping, *, all_filled: bool = False):
    return tuple(
        FieldChange(
            name, lecturer_label(name), shown(name, before.get(name)), shown(name, after.get(name))
        )
        for name in LECTURER_FIELDS
        if (
            all_filled and (before.get(name) not in (None, "") or after.get(name) not in (None, ""))
        )
        or (not all_filled and not _same(name, before.get(name), after.get(name)))
    )


def _pair(old: Sequence[Mapping], new: Sequence[Mapping]) -> tuple[list, list, list]:
    """(matched pairs, removed, added): by id, then by name among the rest."""
    remaining_new = list(new)
    pairs, unmatched_old = [], []
    by_id = {lec.get("id"): lec for lec in new if lec.get("id") is not None}
    for lec in old:
        match = by_id.pop(lec.get("id"), None) if lec.get("id") is not None else None
        if match is not None:
            pairs.append((lec, match))
            remaining_new.remove(match)
        else:
            unmatched_old.append(lec)
    removed = []
    for lec in unmatched_old:
        match = next((n for n in remaining_new if n.get("name") == lec.get("name")), None)
        if match is not None:
            pairs.append((lec, match))
            remaining_new.remove(match)
        else:
            removed.append(lec)
    return pairs, removed, remaining_new


def lecturer_changes(old: Sequence[Mapping], new: Sequence[Mapping]) -> tuple:
    """Lecturers removed, changed and added, in that order (each in its list's order)."""
    pairs, removed, added = _pair(old, new)
    found = [
        LecturerChange(REMOVED, lec.get("name") or "", _lecturer_fields(lec, {}, all_filled=True))
        for lec in removed
    ]
    for before, after in pairs:
        if changed := _lecturer_fields(before, after):
            found.append(LecturerChange(CHANGED, after.get("name") or "", changed))
    found += [
        LecturerChange(ADDED, lec.get("name") or "", _lecturer_fields({}, lec, all_filled=True))
        for lec in added
    ]
    return tuple(found)
