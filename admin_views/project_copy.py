"""复制为新项目: the add form of 我的项目, filled in from one of the unit's own
projects (any state, any year).

Nothing is written until the unit submits the form: 开始日期 and 结束日期 are
required (NOT NULL in ``projects``, and a draft without dates could never be
reported), so the copy cannot be stored as a draft with its dates cleared. The
form opens with every field and lecturer copied, 年度 set to this year and the
dates empty; submitting it adds the draft the usual way (``workflow.create``,
with its history event).

The name is copied too (a project held again next year keeps its name), but not
silently: a notice above the 项目名称 field names the project copied and asks for
a new name unless it is the same project in a new year, and a copy saved under the
copied project's name gets a warning (of the same year: the filing rules count
it as a 重复项目 at 上报).
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from flask import flash, g, request
from flask_babel import gettext

from admin_views.base import parse_id
from models.rules import PROJECT_FIELDS
from models.vocabulary import LECTURER_FIELDS

# Not copied: the new project gets its own number (an issuer enters the one it
# was approved under), its own dates and this year.
NOT_COPIED = frozenset({"project_no", "start_date", "end_date", "year"})
COPY_ARG = "copy"


def copy_source(view):
    """The add form's starting values copied from ``?copy=<id>`` on its first GET,
    or None; a project outside the unit's own answers 404 (``view.get_one``).

    The form posts to its own address, so the POST knows the copied project too:
    ``g.copied_from`` (its id, name and year) on both, for the notice above the
    name field and the warning when the copy is saved (``warn_unchanged_name``).
    """
    wanted = request.args.get(COPY_ARG)
    if not wanted:
        return None
    if request.method != "GET":
        # Deleted since the form was opened: what was typed is saved all the same.
        key = parse_id(wanted)
        _remember(view.get_query().filter_by(id=key).one_or_none() if key is not None else None)
        return None
    source = view.get_one(wanted)
    _remember(source)
    return prefill(source)


def _remember(source) -> None:
    if source is not None:
        g.copied_from = SimpleNamespace(id=source.id, name=source.name, year=source.year)


def warn_unchanged_name(project) -> None:
    """After a copy is added: a warning if it kept the copied project's name."""
    source = g.get("copied_from")
    if source is None or (project.name or "").strip() != (source.name or "").strip():
        return
    if project.year == source.year:
        message = gettext(
            "Project “%(name)s” has the name and year of the project it was copied from:"
            " it would count as a duplicate when reported. Change its name.",
            name=project.name,
        )
    else:
        message = gettext(
            "Project “%(name)s” keeps the name of the project it was copied from"
            " (%(year)s). Unless it is the same project in a new year, change its name"
            " before reporting it.",
            name=project.name,
            year=source.year,
        )
    flash(message, "warning")


def prefill(project) -> SimpleNamespace:
    """The form's starting values: the project's fields and lecturers, this year,
    no dates and no number."""
    values = {name: getattr(project, name) for name in PROJECT_FIELDS if name not in NOT_COPIED}
    values |= {"year": date.today().year, "start_date": None, "end_date": None, "project_no": None}
    values["lecturers"] = [
        SimpleNamespace(id=None, **{name: getattr(lecturer, name) for name in LECTURER_FIELDS})
        for lecturer in project.lecturers
    ]
    return SimpleNamespace(**values)
