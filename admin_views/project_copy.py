"""复制为新项目: the add form of 我的项目, filled in from one of the unit's own
projects (any state, any year).

Nothing is written until the unit submits the form: 开始日期 and 结束日期 are
required (NOT NULL in ``projects``, and a draft without dates could never be
reported), so the copy cannot be stored as a draft with its dates cleared. The
form opens with every field and lecturer copied, 年度 set to this year and the
dates empty; submitting it adds the draft the usual way (``workflow.create``,
with its history event).
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from flask import request

from models.rules import PROJECT_FIELDS
from models.vocabulary import LECTURER_FIELDS

# Not copied: the new project gets its own number (an issuer enters the one it
# was approved under), its own dates and this year.
NOT_COPIED = frozenset({"project_no", "start_date", "end_date", "year"})
COPY_ARG = "copy"


def copy_source(view):
    """The project to copy, from ``?copy=<id>`` on the add form's first GET, or
    None; a project outside the unit's own answers 404 (``view.get_one``)."""
    wanted = request.args.get(COPY_ARG)
    if request.method != "GET" or not wanted:
        return None
    return prefill(view.get_one(wanted))


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
