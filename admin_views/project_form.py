"""The project form of 我的项目: its fields, its checks (``models.rules``) and the
hooks that scope it to the entry unit filling it in.

``ProjectFormMixin`` goes before ``ProjectView`` in ``MyProjectsView``'s bases, so
the list code and the form code can change independently.
"""

from __future__ import annotations

from datetime import date

from flask import flash, request
from flask_admin.form import BaseForm
from sqlalchemy import select
from wtforms import SelectChoice, fields, validators

import workflow
from admin_views.base import ChoiceField, ScopedSelectField, account
from models import (
    LEVELS_OF_KIND,
    Discipline,
    Lecturer,
    ProjectLevel,
    ProjectMode,
    UnitKind,
    rules,
)
from models.vocabulary import LECTURER_LABELS

FORM_FIELDS = rules.PROJECT_FIELDS
# The seen_version hidden field carries the version the form was opened at; it is
# compared by the view, never written to the project.
NOT_STORED = ("seen_version",)


class ProjectForm(BaseForm):
    """The project form: WTForms' field checks, then the project rules of
    ``models.rules`` (errors in Chinese, next to their fields), for the project and
    each lecturer row. ``issuer`` is set by the view for a 发放证书单位, which must give
    its project number."""

    issuer = False

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        values = {name: self[name].data for name in FORM_FIELDS if name in self}
        errors = rules.validate_project(values, issuer=self.issuer)
        for name, message in errors.items():
            if name in self:
                self[name].errors = [*self[name].errors, str(message)]
        for entry in self.lecturers.entries if "lecturers" in self else ():
            lecturer = entry.form
            if lecturer.data.get("delete-lecturers") or _blank_lecturer(lecturer):
                continue
            for name, message in rules.validate_lecturer(lecturer.data).items():
                lecturer[name].errors = [*lecturer[name].errors, str(message)]
                errors[name] = message
        return valid and not errors

    def populate_obj(self, obj) -> None:
        for field in self:
            if field.short_name not in NOT_STORED:
                field.populate_obj(obj, field.short_name)


def _blank_lecturer(form) -> bool:
    return not any(value for key, value in form.data.items() if key not in ("id", "csrf_token"))


class ProjectFormMixin:
    """The add/edit form of a project for a ModelView of ``Project``."""

    form_columns = (*FORM_FIELDS, *NOT_STORED)
    form_extra_fields = {"seen_version": fields.HiddenField()}
    create_template = edit_template = "admin/project_form.html"
    form_overrides = {
        "level": ChoiceField,
        "mode": ChoiceField,
        "year": fields.IntegerField,
        "planned_participants": fields.IntegerField,
        "theory_hours": fields.FloatField,
        "practice_hours": fields.FloatField,
        "credits": fields.FloatField,
        "start_date": fields.DateField,
        "end_date": fields.DateField,
        "remarks": fields.TextAreaField,
        "discipline": ScopedSelectField,
    }
    form_args = {
        "mode": {"choices": [SelectChoice(m.value, m.title) for m in ProjectMode]},
        "level": {"choices": [SelectChoice(lv.value, lv.title) for lv in ProjectLevel]},
        "year": {"default": lambda: date.today().year},
        "practice_hours": {"default": 0, "validators": [validators.Optional()]},
        "planned_participants": {"validators": [validators.Optional()]},
        "theory_hours": {"validators": [validators.Optional()]},
        "credits": {"validators": [validators.Optional()]},
    }
    inline_models = [
        (
            Lecturer,
            {
                "form_columns": ["id", "name", "title", "unit", "topic", "hours"],
                "column_labels": dict(LECTURER_LABELS),
                "form_overrides": {"hours": fields.FloatField},
                "form_args": {"hours": {"validators": [validators.Optional()]}},
            },
        )
    ]

    def scaffold_form(self):
        # The fields come from the model; the checks from ProjectForm. Not through
        # ``form_base_class``: Flask-Admin derives its delete and action forms from
        # that class too, and those must not run the project rules.
        scaffolded = super().scaffold_form()
        return type("ProjectForm", (ProjectForm, scaffolded), {})

    def scope_form(self, form) -> None:
        unit = account().unit
        form.issuer = unit.kind is UnitKind.ISSUER
        form.level.choices = [SelectChoice(lv.value, lv.title) for lv in LEVELS_OF_KIND[unit.kind]]
        form.discipline.query_factory = lambda: self.db_session.scalars(
            select(Discipline).where(Discipline.active).order_by(Discipline.sort_order)
        ).all()
        if unit.kind is not UnitKind.ISSUER:
            # A society project gets its number when the committee publishes it.
            del form.project_no

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if request.method == "GET" and not form.organizer.data:
            form.organizer.data = account().unit.name
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if request.method == "GET" and obj is not None:
            form.seen_version.data = obj.version
        return form

    def update_model(self, form, model) -> bool:
        seen = form.seen_version.data
        if seen and str(seen) != str(model.version):
            flash(str(workflow.ProjectChanged(model.id, model.name)), "error")
            return False
        return super().update_model(form, model)

    def on_model_change(self, form, model, is_created) -> None:
        if is_created:
            workflow.create(self.db_session, account(), model)
        else:
            workflow.edit(self.db_session, account(), model)
