"""How a published project looks outside: JSON for the API, rows for the exports.

Only the fields of the national published lists and the project's public description go
out; internal fields (state, version, return reason, reviewers) never do.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app, url_for

from models import Project
from models.vocabulary import label
from public.held import Held
from public.search import Withdrawn


def site_url(endpoint: str, **values) -> str:
    """The address of a page or API resource as the API hands it out: ``SITE_URL``
    (the site's public address, e.g. ``https://cme.example.cn``) followed by the path, or
    the path alone when it is not set. Never built from the request's ``Host`` header,
    which the client chooses (``Host: evil.example`` would come back in the links)."""
    base = (current_app.config.get("SITE_URL") or "").rstrip("/")
    return base + url_for(endpoint, **values)


def iso_datetime(value: datetime | None) -> str | None:
    """A naive UTC datetime as RFC 3339 text with a ``Z`` (whole seconds)."""
    if value is None:
        return None
    return value.replace(microsecond=0).isoformat() + "Z"


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _number(value: float | None) -> float | int | None:
    """4.0 → 4, 4.5 → 4.5: JSON readers see the same value either way, people see less noise."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def lecturer_json(lecturer) -> dict:
    return {
        "name": lecturer.name,
        "title": lecturer.title,
        "unit": lecturer.unit,
        "topic": lecturer.topic,
        "hours": _number(lecturer.hours),
    }


def held_json(held: Held | None) -> dict | None:
    """已举办 (schema ``Held``): the dates it was held and its number of learners, for a
    project whose execution report the committee accepted; None otherwise."""
    if held is None:
        return None
    return {
        "start_date": iso_date(held.start_date),
        "end_date": iso_date(held.end_date),
        "learners": held.learners,
    }


def project_json(project: Project, held: Held | None = None) -> dict:
    """The API representation of one published project (schema ``Project`` in openapi.py).

    The ``*_label`` fields are in the current locale: the API renders them in Chinese.
    ``held``: ``public.held``'s facts of its accepted execution report, if any.
    """
    return {
        "id": project.id,
        "status": "published",
        "url": site_url("public_api.project", project_id=project.id),
        "html_url": site_url("public.project", project_id=project.id),
        "project_no": project.project_no,
        "year": project.year,
        "name": project.name,
        "level": project.level.value,
        "level_label": str(project.level.title),
        "discipline": project.discipline.name,
        "discipline_id": project.discipline_id,
        "organizer": project.organizer,
        "organizer_unit": project.owner_unit.name,
        "organizer_unit_id": project.owner_unit_id,
        "co_organizer": project.co_organizer,
        "principal": project.principal,
        "principal_title": project.principal_title,
        "contact": project.contact,
        "phone": project.phone,
        "start_date": iso_date(project.start_date),
        "end_date": iso_date(project.end_date),
        "venue": project.venue,
        "mode": project.mode.value,
        "mode_label": str(project.mode.title),
        "audience": project.audience,
        "planned_participants": project.planned_participants,
        "theory_hours": _number(project.theory_hours),
        "practice_hours": _number(project.practice_hours or 0),
        "total_hours": _number(project.total_hours),
        "credits": _number(project.credits),
        "remarks": project.remarks,
        "lecturers": [lecturer_json(lecturer) for lecturer in project.lecturers],
        "held": held_json(held),
        "published_at": iso_datetime(project.published_at),
        "updated_at": iso_datetime(project.updated_at),
    }


def withdrawn_json(entry: Withdrawn) -> dict:
    """A changes-feed entry for a project taken off the catalog: its id and when, nothing
    of its current (no longer public) content."""
    return {"id": entry.id, "status": entry.status, "updated_at": iso_datetime(entry.updated_at)}


def item_json(item, held: dict[int, Held] | None = None) -> dict:
    if isinstance(item, Withdrawn):
        return withdrawn_json(item)
    return project_json(item, (held or {}).get(item.id))


# The columns of the national published lists, plus year and level; the dates (举办日期) are
# split in two so that a spreadsheet can sort and filter them.
EXPORT_COLUMNS = (
    "project_no",
    "discipline",
    "name",
    "level",
    "year",
    "organizer",
    "principal",
    "start_date",
    "end_date",
    "venue",
    "credits",
    "contact",
    "phone",
    "planned_participants",
)


def export_headers() -> list[str]:
    return [str(label(name)) for name in EXPORT_COLUMNS]


def export_row(project: Project) -> tuple:
    """One export row, typed: numbers and dates stay numbers and dates."""
    principal = project.principal
    if project.principal_title:
        principal = f"{principal}（{project.principal_title}）"
    return (
        project.project_no,
        project.discipline.name,
        project.name,
        str(project.level.title),
        project.year,
        project.organizer,
        principal,
        project.start_date,
        project.end_date,
        project.venue,
        _number(project.credits),
        project.contact,
        project.phone,
        project.planned_participants,
    )
