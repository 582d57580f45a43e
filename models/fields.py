"""A project's fields, by name: the ones its owner fills in and the ones it must.

A module of its own, importing nothing: ``models.rules`` (which checks them, naming each
by its label) and ``models.vocabulary`` (which labels them) both read these lists, and
neither imports the other's way round (``make lint`` refuses an import circle).
"""

from __future__ import annotations

# Every field a project's owner fills in, in the order of the form (docs/domain.md#projects).
PROJECT_FIELDS = (
    "year",
    "project_no",
    "name",
    "level",
    "discipline",
    "organizer",
    "co_organizer",
    "principal",
    "principal_title",
    "contact",
    "phone",
    "start_date",
    "end_date",
    "venue",
    "mode",
    "audience",
    "planned_participants",
    "theory_hours",
    "practice_hours",
    "credits",
    "remarks",
)
OPTIONAL_PROJECT_FIELDS = {
    "project_no",
    "co_organizer",
    "principal_title",
    "practice_hours",
    "remarks",
}
PROJECT_REQUIRED = tuple(f for f in PROJECT_FIELDS if f not in OPTIONAL_PROJECT_FIELDS)
