"""The product's words for its fields: one label per concept, used everywhere.

The admin lists, forms and exports, the public pages and exports, and the API
documentation all name a project field through this module, so a field is called
the same on every screen (the Chinese words follow the filing manual and the
field table in ``docs/``). Import it from anywhere: it depends only on
``models.fields``.

API::

    label("principal")            # the project field's label (lazy: translated when shown)
    lecturer_label("topic")       # a lecturer field's label
    PROJECT_FIELDS_LABELS         # {field: label}, in the order of the form
    is_required("project_no", issuer=True)
    chinese(label("principal"))   # "项目负责人" whatever the request's language

Action labels are not here: each workflow action carries its own title
(``workflow.Action.REPORT.title``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from models.fields import PROJECT_FIELDS, PROJECT_REQUIRED

CHINESE = "zh_Hans_CN"

# Every column a project list, details page, form or export can show: the fields
# the owner fills in (models.fields.PROJECT_FIELDS) and the derived ones.
PROJECT_LABELS: Mapping[str, object] = MappingProxyType(
    {
        "year": _l("Year"),
        "project_no": _l("Project number"),
        "name": _l("Project name"),
        "level": _l("Project level"),
        "discipline": _l("Discipline"),
        "organizer": _l("Organizer"),
        "co_organizer": _l("Co-organizer"),
        "principal": _l("Project lead"),
        "principal_title": _l("Project lead's title"),
        "contact": _l("Contact"),
        "phone": _l("Contact telephone"),
        "start_date": _l("Start date"),
        "end_date": _l("End date"),
        "venue": _l("Venue"),
        "mode": _l("Mode"),
        "audience": _l("Audience"),
        "planned_participants": _l("Planned participants"),
        "theory_hours": _l("Theory hours"),
        "practice_hours": _l("Practice hours"),
        "credits": _l("Credits"),
        "remarks": _l("Remarks"),
        # derived: shown, never typed in
        "period": _l("Dates"),
        "total_hours": _l("Total hours"),
        "lecturers": _l("Lecturers"),
        "state": _l("Status"),
        "modifiable": _l("Modification status"),
        "return_reason": _l("Reason for return"),
        "owner_unit": _l("Filing unit"),
        "society": _l("Society"),
        "created_at": _l("Created"),
        "updated_at": _l("Updated"),
        "reported_at": _l("Reported"),
        "published_at": _l("Published"),
        # combined columns of the public catalog (the national published lists)
        "contact_phone": _l("Contact / telephone"),
        "hours": _l("Hours (theory / practice / total)"),
    }
)

# The fields the owner fills in, in the order of the form.
PROJECT_FIELDS_LABELS: Mapping[str, object] = MappingProxyType(
    {name: PROJECT_LABELS[name] for name in PROJECT_FIELDS}
)

LECTURER_FIELDS = ("name", "title", "unit", "topic", "hours")
LECTURER_LABELS: Mapping[str, object] = MappingProxyType(
    {
        "name": _l("Name"),
        "title": _l("Title"),
        "unit": _l("Workplace"),
        "topic": _l("Topic"),
        "hours": _l("Hours"),
    }
)
LECTURER_REQUIRED = ("name", "topic")


def label(name: str):
    """The label of project field ``name`` (KeyError for a name we never show)."""
    return PROJECT_LABELS[name]


def lecturer_label(name: str):
    """The label of lecturer field ``name``."""
    return LECTURER_LABELS[name]


def is_required(name: str, *, issuer: bool = False) -> bool:
    """Whether the owner must fill project field ``name`` in before saving; an issuer
    (发放证书单位) must also give the number its project was approved under."""
    return name in PROJECT_REQUIRED or (issuer and name == "project_no")


def chinese(text) -> str:
    """A lazy label rendered in Chinese whatever the current language: for texts that
    are always Chinese, such as the API documentation's field descriptions."""
    with force_locale(CHINESE):
        return str(text)


def template_vocabulary() -> dict:
    """What templates see (registered as a context processor): ``field_label(name)``,
    ``lecturer_label(name)`` and the two label maps."""
    return {
        "field_label": label,
        "lecturer_label": lecturer_label,
        "project_labels": PROJECT_LABELS,
        "lecturer_labels": LECTURER_LABELS,
    }
