"""The project form of 我的项目: its fields, its checks (``models.rules``) and the
hooks that scope it to the entry unit filling it in.

``ProjectFormMixin`` goes before ``ProjectView`` in ``MyProjectsView``'s bases, so
the list code and the form code can change independently. The merge page of two
editors (its fields and its POST) is ``admin_views/project_merge.py``'s.
"""

from __future__ import annotations

import json
import secrets
from datetime import date

from flask import current_app, flash, g, redirect, request, session
from flask_admin import expose
from flask_admin.babel import gettext as admin_gettext
from flask_admin.form import BaseForm
from flask_admin.model.form import InlineFormAdmin
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import SelectChoice, fields, validators
from wtforms.validators import ValidationError

import permissions
import workflow
from admin_views.base import ChoiceField, ScopedSelectField, account
from admin_views.filing_rules import flash_rule_check
from admin_views.forms import BoundedText, CheckedForm, rules_decide_required, show_errors
from admin_views.list_context import list_context
from admin_views.project_copy import copy_source, warn_unchanged_name
from admin_views.project_merge import Merge, merge_formdata, stored_values
from extensions import db
from models import (
    LEVELS_OF_KIND,
    Lecturer,
    Project,
    ProjectEvent,
    ProjectLevel,
    ProjectMode,
    ProjectState,
    Submission,
    UnitKind,
    rules,
)
from models.base import beijing_today
from models.submission import TOKEN_LENGTH
from models.vocabulary import (
    LECTURER_FIELDS,
    LECTURER_LABELS,
    LECTURER_REQUIRED,
    is_required,
)
from workflow import Action, ProjectChanged

FORM_FIELDS = rules.PROJECT_FIELDS
# The hidden fields read by the view, never written to the project: ``seen_version``,
# the version the form was opened at (compared before a save); ``seen_values``, the
# values it was opened with (a merge tells which fields this tab changed);
# ``submission``, the create form's one-time token (submit once).
NOT_STORED = ("seen_version", "seen_values", "submission")
SUBMISSION_KIND = "project-create"

# The form's sections, in the order of the manual's form; ``wide`` fields take the
# whole row (two columns on a wide screen, one on a phone).
# FORM_FIELDS is in the form's order: the basic information up to 开始日期, the event
# details up to 理论学时 (with 备注, the list's last field, at their end), then the hours.
_EVENT, _HOURS = FORM_FIELDS.index("start_date"), FORM_FIELDS.index("theory_hours")
SECTIONS = (
    (_l("Basic information"), FORM_FIELDS[:_EVENT]),
    (_l("Event details"), (*FORM_FIELDS[_EVENT:_HOURS], "remarks")),
    (_l("Hours and credits"), ("theory_hours", "practice_hours", "credits")),
)
WIDE = frozenset({"name", "remarks"})
CHOOSE = _l("Please choose")
# The empty first option of a select: a forgotten choice is refused by the
# project rules instead of silently taking the first option.
BLANK_CHOICE = ("", CHOOSE)


class ProjectForm(CheckedForm):
    """The project form: WTForms' field checks, then the project rules of
    ``models.rules`` (errors in Chinese, next to their fields), for the project and
    each lecturer row. ``issuer`` is set by the view for a 发放证书单位, which must give
    its project number."""

    issuer = False
    text_model = Project
    # Set by the view: why a 项目编号 typed in cannot be used (another project of
    # the committee's tree has it), or None.
    number_refusal = staticmethod(lambda number: None)

    def validate(self, extra_validators=None) -> bool:
        self._propose_year()
        valid = super().validate(extra_validators)
        lecturers_valid = self._validate_lecturers() if "lecturers" in self else True
        return valid and lecturers_valid

    def _propose_year(self) -> None:
        """A 年度 left blank takes the year of 开始日期 (what the page's script
        proposes as the start date is typed)."""
        if "year" not in self or "start_date" not in self:
            return
        year, start = self.year, self.start_date.data
        typed = (year.raw_data or [""])[0]
        if isinstance(start, date) and not str(typed).strip():
            year.data, year.raw_data, year.process_errors = start.year, [str(start.year)], []

    def required_fields(self) -> list[str]:
        """The project fields required of this form's unit, from the same vocabulary
        the rules use (``is_required``): the label's ``*`` and the message."""
        return [name for name in FORM_FIELDS if is_required(name, issuer=self.issuer)]

    def record_errors(self) -> dict:
        return self._project_errors()

    def _project_errors(self) -> dict:
        """The field rules' verdict on the project's values, and a 项目编号 typed in that
        another project of the tree already has."""
        values = {name: self[name].data for name in FORM_FIELDS if name in self}
        number = self._fields.get("project_no")
        kept = number.object_data if number is not None else None
        errors = rules.validate_project(
            values, issuer=self.issuer, kept_number=kept, last_day=filing_horizon()
        )
        changed = number is not None and number.data and number.data != number.object_data
        if changed and "project_no" not in errors and (taken := self.number_refusal(number.data)):
            errors["project_no"] = taken
        return errors

    def _validate_lecturers(self) -> bool:
        """The field rules on each lecturer row kept; a row added and left empty is
        dropped, neither refused nor saved."""
        rows = self.lecturers
        rows.entries = [e for e in rows.entries if e.get_pk() or not _blank_lecturer(e.form)]
        valid = True
        for entry in rows.entries:
            if rows.should_delete(entry):
                continue
            lecturer = entry.form
            lecturer.refuse_too_long()
            show_errors(lecturer, rules.validate_lecturer(lecturer.data))
            valid = valid and not any(lecturer[name].errors for name in LECTURER_FIELDS)
        return valid

    @staticmethod
    def lecturer_required(name: str) -> bool:
        return name in LECTURER_REQUIRED

    def lecturer_template(self):
        """An empty lecturer row named ``lecturers-__i__-…``, which the page's
        script copies with the next free index (Flask-Admin's inline naming)."""
        rows = self.lecturers
        template = rows.unbound_field.bind(form=None, name=f"{rows.id}-__i__", _meta=rows.meta)
        template.process(None)
        return template

    def populate_obj(self, obj) -> None:
        for field in self:
            if field.short_name not in NOT_STORED:
                field.populate_obj(obj, field.short_name)


def filing_horizon() -> date:
    """The last day a project's dates may fall on (``FILING_HORIZON_YEARS``)."""
    return rules.horizon(current_app.config["FILING_HORIZON_YEARS"])


def _blank_lecturer(form) -> bool:
    return not any(value for key, value in form.data.items() if key not in ("id", "csrf_token"))


class BlankOrListedField(ScopedSelectField):
    """A select of rows that starts on 请选择: a value that is neither blank nor
    one of the listed rows is refused (with a blank allowed, Flask-Admin's field
    would take an unknown id for blank)."""

    def pre_validate(self, form) -> None:
        chosen = self.raw_data[0] if self.raw_data else ""
        if chosen not in ("", "__None") and self.data is None:
            raise ValidationError(gettext("Choose one of the listed options."))
        super().pre_validate(form)


class LecturerRowForm(BoundedText, BaseForm):
    """A lecturer row: its text fields bounded by the lecturer's columns."""

    text_model = Lecturer

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bound()


class LecturerRows(InlineFormAdmin):
    """The lecturer rows of the form; required lecturer fields are judged by
    ``models.rules`` like the project's."""

    form_base_class = LecturerRowForm
    form_columns = ["id", *LECTURER_FIELDS]
    column_labels = dict(LECTURER_LABELS)
    form_overrides = {"hours": fields.FloatField}
    form_args = {"hours": {"validators": [validators.Optional()]}}

    def postprocess_form(self, form_class):
        return rules_decide_required(form_class)


def return_notice(project) -> list[ProjectEvent]:
    """Why a returned project is back with its owner: the 设为可修改 that returned
    it and any 撤销公布 since the owner last reported it, newest first. Empty for
    a project not in 退回修改."""
    if project is None or ProjectState(project.state) is not ProjectState.RETURNED:
        return []
    events = db.session.scalars(
        permissions.visible_events(account())
        .where(ProjectEvent.project_id == project.id)
        .order_by(ProjectEvent.id.desc())
    )
    notice = []
    for event in events:
        if event.action == Action.REPORT.value and event.actor_unit_id == project.owner_unit_id:
            break
        if event.action == Action.UNLOCK.value and notice:
            continue  # an older return, superseded by the latest one
        if event.action in (Action.UNLOCK.value, Action.WITHDRAW.value):
            notice.append(event)
    return notice


def _reword_flash(generic: str, ours: str) -> None:
    """Replace Flask-Admin's generic success flash, which its create and edit
    views send after every hook of ours has run, by the manual's wording."""
    flashes = session.get("_flashes")
    if flashes:
        session["_flashes"] = [(c, ours if m == generic else m) for c, m in flashes]


def _token(value) -> str | None:
    """A posted one-time token, or None for none (or for what is no token of ours)."""
    value = (value or "").strip()
    return value if 0 < len(value) <= TOKEN_LENGTH else None


class ProjectFormMixin:
    """The add/edit form of a project for a ModelView of ``Project``."""

    form_columns = (*FORM_FIELDS, *NOT_STORED)
    # The token is a text field kept out of sight, not a hidden one: Chromium restores a
    # text field's value on Back (the token the form was sent with), not a hidden one's.
    form_extra_fields = {
        "seen_version": fields.HiddenField(),
        "seen_values": fields.HiddenField(),
        "submission": fields.StringField(),
    }
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
        "discipline": BlankOrListedField,
    }
    form_args = {
        "mode": {"choices": [SelectChoice(m.value, m.title) for m in ProjectMode]},
        "level": {"choices": [SelectChoice(lv.value, lv.title) for lv in ProjectLevel]},
        # Beijing's year until a start date is typed: then the page's script (and, for
        # a 年度 left blank, ``ProjectForm._propose_year``) takes the start date's.
        "year": {"default": lambda: beijing_today().year},
        "practice_hours": {"default": 0, "validators": [validators.Optional()]},
        "planned_participants": {"validators": [validators.Optional()]},
        "theory_hours": {"validators": [validators.Optional()]},
        "credits": {"validators": [validators.Optional()]},
    }
    inline_models = [LecturerRows(Lecturer)]
    sections = SECTIONS
    wide_fields = WIDE
    lecturer_fields = LECTURER_FIELDS

    def scaffold_form(self):
        # The fields come from the model; the checks from ProjectForm. Not through
        # ``form_base_class``: Flask-Admin derives its delete and action forms from
        # that class too, and those must not run the project rules.
        scaffolded = rules_decide_required(super().scaffold_form())
        return type("ProjectForm", (ProjectForm, scaffolded), {})

    def return_notice(self, project):
        return return_notice(project)

    @staticmethod
    def event_title(event) -> str:
        return str(Action(event.action).title)

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        # Submit once: a token already spent answers with the project it created.
        if request.method == "POST" and (spent := self._spent_submission()) is not None:
            return self._already_created(spent)
        response = super().create_view()
        if g.get("submission_clash") and (spent := self._spent_submission()) is not None:
            # A second POST raced the first and lost on the token: the same answer.
            return self._already_created(spent)
        if (name := list_context().saved_project) is not None:
            _reword_flash(
                admin_gettext("Record was successfully created."),
                gettext("Project “%(name)s” added.", name=name),
            )
        return response

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        response = super().edit_view()
        if (stale := g.get("stale_form")) is not None:
            return self._merge_page(stale)
        if (name := list_context().saved_project) is not None:
            _reword_flash(
                admin_gettext("Record was successfully saved."),
                gettext("Project “%(name)s” saved.", name=name),
            )
        return response

    def after_model_change(self, form, model, is_created) -> None:
        super().after_model_change(form, model, is_created)
        # Per request (the view object is shared by every request).
        list_context().saved_project = model.name
        flash_rule_check(self.db_session, model)
        if is_created:
            warn_unchanged_name(model)  # 复制为新项目 under the copied project's name

    def scope_form(self, form) -> None:
        unit = account().unit
        form.issuer = unit.kind is UnitKind.ISSUER
        form.number_refusal = lambda number: workflow.number_refusal(
            self.db_session, account(), number
        )
        levels = [SelectChoice(lv.value, lv.title) for lv in LEVELS_OF_KIND[unit.kind]]
        # One possible level is simply that level; with more, the unit chooses.
        form.level.choices = levels if len(levels) == 1 else [BLANK_CHOICE, *levels]
        form.mode.choices = [BLANK_CHOICE, *form.mode.choices]
        # The active disciplines of the unit's own committee only.
        form.discipline.query_factory = lambda: self.db_session.scalars(
            permissions.committee_disciplines(account())
        ).all()
        form.discipline.allow_blank = True
        form.discipline.blank_text = str(CHOOSE)
        if unit.kind is not UnitKind.ISSUER:
            # A society project gets its number when the committee publishes it.
            del form.project_no

    def render(self, template: str, **kwargs):
        # A form sent back with its messages says where they are, not Flask-Admin's
        # "创建记录失败。" / "保存记录失败。" (flashed just before the page is drawn).
        correct = gettext("Please correct the fields marked below.")
        _reword_flash(admin_gettext("Failed to create record."), correct)
        _reword_flash(admin_gettext("Failed to save record."), correct)
        return super().render(template, **kwargs)

    def create_form(self, obj=None):
        # 复制为新项目: ?copy=<id> opens the form filled in from that project.
        form = super().create_form(obj if obj is not None else copy_source(self))
        if request.method == "GET":
            if not form.organizer.data:
                form.organizer.data = account().unit.name
            # Made with the page, stored only by the POST that creates the project. The
            # page's script puts it in the hidden field (a field filled by script is one
            # the browser restores on Back, with the token of the form as it was sent).
            form.submission_token = secrets.token_urlsafe(32)
        return form

    def edit_form(self, obj=None):
        if request.method == "POST" and request.form.get("merge") and obj is not None:
            # The merge page's choices, as the form's own fields (merge_formdata).
            form = self._edit_form_class(merge_formdata(request.form, obj), obj=obj)
            self.scope_form(form)
        else:
            form = super().edit_form(obj)
        if request.method == "GET" and obj is not None:
            form.seen_version.data = obj.version
            form.seen_values.data = json.dumps(stored_values(obj), ensure_ascii=False)
        return form

    def update_model(self, form, model) -> bool:
        # A form without the version it was opened at is refused like a stale one:
        # nothing tells what it would overwrite. Either way the merge page follows.
        seen = form.seen_version.data
        if str(seen or "") != str(model.version):
            g.stale_form = form
            return False
        return super().update_model(form, model)

    def on_model_change(self, form, model, is_created) -> None:
        if is_created:
            workflow.create(self.db_session, account(), model)
            if token := _token(form.submission.data):
                # In the creation's transaction: both are kept, or neither.
                self.db_session.add(
                    Submission(
                        account_id=account().id,
                        token=token,
                        kind=SUBMISSION_KIND,
                        project_id=model.id,
                    )
                )
        else:
            g.editing_form = form
            workflow.edit(self.db_session, account(), model)

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, IntegrityError) and "submissions" in str(exc.orig):
            g.submission_clash = True  # create_view answers it
            return True
        if isinstance(exc, ProjectChanged) and g.get("editing_form") is not None:
            g.stale_form = g.editing_form  # saved by another meanwhile: edit_view merges
            return True
        return super().handle_view_exception(exc)

    # -- submit once -------------------------------------------------------
    def _spent_submission(self) -> Submission | None:
        """This account's use of the posted token, if it was used already (one SELECT)."""
        token = _token(request.form.get("submission"))
        if token is None:
            return None
        return self.db_session.scalar(
            select(Submission).where(
                Submission.account_id == account().id,
                Submission.token == token,
                Submission.kind == SUBMISSION_KIND,
            )
        )

    def _already_created(self, spent: Submission):
        """The project the first POST of this form created, instead of a second one."""
        self.db_session.rollback()
        name = self.db_session.scalar(
            self._scoped(Project.name).where(Project.id == spent.project_id)
        )
        if name is None:
            flash(
                gettext(
                    "This form was submitted already; the project it added has been"
                    " deleted since. Nothing was added again."
                ),
                "warning",
            )
            return redirect(self.get_url(".index_view"))
        flash(
            gettext(
                "This form was submitted already: project “%(name)s” was added then."
                " Nothing was added again.",
                name=name,
            ),
            "info",
        )
        return redirect(self.get_url(".details_view", id=spent.project_id))

    # -- two editors ---------------------------------------------------------
    def _merge_page(self, form):
        """Someone saved the project since this form was opened: their values and the
        ones typed here side by side, to keep or take per field (the lecturers as a
        block), saved against the version now stored. Nothing typed is lost: it is all
        in the page."""
        self.db_session.rollback()
        project = self.get_one(request.args.get("id"))
        if project is None or not workflow.can_edit_project(account(), project):
            flash(str(ProjectChanged(getattr(project, "id", None))), "error")
            return redirect(self.get_url(".index_view"))
        merge = Merge.of(form, project)
        if not merge.rows and merge.lecturers is None:
            # The same values as stored (e.g. Back and 提交 after a save): nothing to do.
            flash(gettext("These changes are saved already."), "info")
            return redirect(self.get_url(".details_view", id=project.id))
        return_url = self.get_url(".details_view", id=project.id)
        return self.render(
            "admin/project_merge.html",
            project=project,
            merge=merge,
            return_url=return_url,
        )
