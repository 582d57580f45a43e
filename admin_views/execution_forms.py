"""The forms of one execution report's pages (``admin_views/execution_report.py``):
the report's own fields and its lecturers, one learner of its roster, and the values
each gives the workflow (``workflow.execution``) or is filled in from.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FloatField,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    StringField,
    TextAreaField,
    validators,
)

from admin_views.base import ChoiceField
from admin_views.forms import CheckedForm, blank
from models import ExecutionLecturer, ExecutionReport, IdType, ProjectMode, RosterEntry, rules
from models.vocabulary import LECTURER_FIELDS, LECTURER_LABELS, LECTURER_REQUIRED
from workflow import execution


class LecturerForm(CheckedForm):
    """One lecturer who taught; required fields are the rules' (``validate_lecturer``)."""

    text_model = ExecutionLecturer

    name = StringField(LECTURER_LABELS["name"])
    title = StringField(LECTURER_LABELS["title"])
    unit = StringField(LECTURER_LABELS["unit"])
    topic = StringField(LECTURER_LABELS["topic"])
    hours = FloatField(LECTURER_LABELS["hours"], validators=[validators.Optional()])

    def required_fields(self):
        return list(LECTURER_REQUIRED)


def _optional():
    return [validators.Optional()]


class ReportForm(CheckedForm):
    """The report's fields (``workflow.execution.REPORT_FIELDS``) and its lecturers."""

    text_model = ExecutionReport

    start_date = DateField(rules.EXECUTION_LABELS["start_date"], validators=_optional())
    end_date = DateField(rules.EXECUTION_LABELS["end_date"], validators=_optional())
    venue = StringField(rules.EXECUTION_LABELS["venue"])
    mode = ChoiceField(
        rules.EXECUTION_LABELS["mode"],
        choices=[SelectChoice(m.value, m.title) for m in ProjectMode],
    )
    theory_hours = FloatField(rules.EXECUTION_LABELS["theory_hours"], validators=_optional())
    practice_hours = FloatField(rules.EXECUTION_LABELS["practice_hours"], validators=_optional())
    credits = FloatField(rules.EXECUTION_LABELS["credits"], validators=_optional())
    learners = IntegerField(rules.EXECUTION_LABELS["learners"], validators=_optional())
    pass_rate = FloatField(rules.EXECUTION_LABELS["pass_rate"], validators=_optional())
    summary = TextAreaField(rules.EXECUTION_LABELS["summary"])
    seen_version = HiddenField()
    lecturers = FieldList(FormField(LecturerForm, separator="-"), label=_l("Lecturers"))

    def required_fields(self):
        return list(rules.EXECUTION_REQUIRED)

    def validate(self, extra_validators=None) -> bool:
        # A lecturer row added and left empty is dropped, neither refused nor saved.
        self.lecturers.entries = self.lecturer_rows()
        return super().validate(extra_validators)

    def values(self) -> dict:
        values = {name: self[name].data for name in execution.REPORT_FIELDS}
        for name in ("venue", "summary"):
            if isinstance(values[name], str):
                values[name] = values[name].strip() or None
        return values

    def lecturer_rows(self) -> list:
        """The lecturer rows filled in (a row left empty is dropped, not refused)."""
        return [
            entry
            for entry in self.lecturers.entries
            if not all(blank(entry.form[name].data) for name in LECTURER_FIELDS)
        ]

    def lecturer_template(self):
        """An empty row named ``lecturers-__i__-…``, which the page's script copies
        with the next free index (static/project_form.js)."""
        rows = self.lecturers
        template = rows.unbound_field.bind(form=None, name=f"{rows.id}-__i__", _meta=rows.meta)
        template.process(None)
        return template


def lecturer_values(form) -> dict:
    """A lecturer row's values as the workflow takes them (texts trimmed, blank as None)."""
    values = {name: form[name].data for name in LECTURER_FIELDS}
    for name in ("name", "title", "unit", "topic"):
        values[name] = (values[name] or "").strip() or None
    return values


class LearnerForm(CheckedForm):
    """One learner of the roster (``workflow.execution.ROSTER_FIELDS``)."""

    text_model = RosterEntry

    name = StringField(rules.ROSTER_LABELS["name"])
    id_type = ChoiceField(
        rules.ROSTER_LABELS["id_type"],
        choices=[SelectChoice(t.value, t.title) for t in IdType],
        default=IdType.RESIDENT.value,
    )
    id_number = StringField(rules.ROSTER_LABELS["id_number"])
    workplace = StringField(rules.ROSTER_LABELS["workplace"])
    title = StringField(rules.ROSTER_LABELS["title"])
    license_no = StringField(rules.ROSTER_LABELS["license_no"])
    phone = StringField(rules.ROSTER_LABELS["phone"])
    attended = BooleanField(rules.ROSTER_LABELS["attended"], default=True)
    credits = FloatField(rules.ROSTER_LABELS["credits"], validators=_optional())
    seen_version = HiddenField()

    def required_fields(self):
        return list(rules.ROSTER_REQUIRED)

    def values(self) -> dict:
        return {name: self[name].data for name in execution.ROSTER_FIELDS}


def learner_values_judged(form: LearnerForm) -> dict:
    """The learner's values as the rules judge them (an unknown 证件类型 as the form's
    own message says, judged as a resident's card)."""
    values = form.values()
    if values["id_type"] not in {t.value for t in IdType}:
        values["id_type"] = None
    return execution.clean_learner(values)


def report_data(report: ExecutionReport) -> dict:
    """The report's stored values and lecturers, to fill the form in with."""
    data = {name: getattr(report, name) for name in execution.REPORT_FIELDS}
    data["mode"] = ProjectMode(report.mode).value
    data["seen_version"] = report.version
    data["lecturers"] = [
        {name: getattr(lec, name) for name in LECTURER_FIELDS} for lec in report.lecturers
    ]
    return data
