"""The three project lists (docs/domain.md#screens): 我的项目 (entry units), 项目审阅
(societies) and 项目审核 (the committee).

Every view scopes through ``permissions.project_visibility``; every state
change goes through ``workflow``; the views only translate requests and
results into pages and messages.
"""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.model.template import DeleteRowAction, EditRowAction
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice, fields, validators

import permissions
import workflow
from admin_views.base import (
    ChoiceField,
    ChoiceFilter,
    ScopedModelView,
    ScopedSelectField,
    account,
    row_ids,
)
from models import (
    LEVELS_OF_KIND,
    Discipline,
    Lecturer,
    Project,
    ProjectLevel,
    ProjectMode,
    ProjectState,
    Unit,
    UnitKind,
    rules,
)
from workflow import Action, WorkflowError

LABELS = {
    "year": _l("Year"),
    "project_no": _l("Project number"),
    "name": _l("Project name"),
    "level": _l("Project level"),
    "discipline": _l("Discipline"),
    "organizer": _l("Organizer"),
    "co_organizer": _l("Co-organizer"),
    "principal": _l("Principal"),
    "principal_title": _l("Principal's title"),
    "contact": _l("Contact"),
    "phone": _l("Contact telephone"),
    "start_date": _l("Start date"),
    "end_date": _l("End date"),
    "period": _l("Dates"),
    "venue": _l("Venue"),
    "mode": _l("Mode"),
    "audience": _l("Audience"),
    "planned_participants": _l("Planned participants"),
    "theory_hours": _l("Theory hours"),
    "practice_hours": _l("Practice hours"),
    "total_hours": _l("Total hours"),
    "credits": _l("Credits"),
    "remarks": _l("Remarks"),
    "state": _l("Status"),
    "modifiable": _l("Modification status"),
    "owner_unit": _l("Filing unit"),
    "society": _l("Society"),
    "return_reason": _l("Reason for return"),
    "created_at": _l("Created"),
    "updated_at": _l("Updated"),
    "reported_at": _l("Reported"),
    "published_at": _l("Published"),
    "lecturers": _l("Lecturers"),
}
LECTURER_LABELS = {
    "name": _l("Name"),
    "title": _l("Title"),
    "unit": _l("Workplace"),
    "topic": _l("Topic"),
    "hours": _l("Hours"),
}
FORM_FIELDS = rules.PROJECT_FIELDS


def _day(value) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def _period(project) -> str:
    if project.start_date == project.end_date:
        return _day(project.start_date)
    return f"{_day(project.start_date)} — {_day(project.end_date)}"


def _state_cell(view, context, project, name):
    state = ProjectState(project.state)
    if state is ProjectState.RETURNED and project.return_reason:
        return Markup('{}<br><small class="text-danger">{}</small>').format(
            state.title, project.return_reason
        )
    return state.title


FORMATTERS = {
    "state": _state_cell,
    "modifiable": lambda v, c, p, n: ProjectState(p.state).modifiable_title,
    "level": lambda v, c, p, n: ProjectLevel(p.level).title,
    "mode": lambda v, c, p, n: ProjectMode(p.mode).title,
    "period": lambda v, c, p, n: _period(p),
    "start_date": lambda v, c, p, n: _day(p.start_date),
    "end_date": lambda v, c, p, n: _day(p.end_date),
    "owner_unit": lambda v, c, p, n: p.owner_unit.name,
    "society": lambda v, c, p, n: p.society.name if p.society else "",
    "created_at": lambda v, c, p, n: _day(p.created_at),
    "updated_at": lambda v, c, p, n: _day(p.updated_at),
    "reported_at": lambda v, c, p, n: _day(p.reported_at),
    "published_at": lambda v, c, p, n: _day(p.published_at),
}


class ModifiableFilter(ChoiceFilter):
    """修改状态: 可修改 = held by the entry unit (draft or returned)."""

    def apply(self, query, value, alias=None):
        held = Project.state.in_([s for s in ProjectState if s.modifiable])
        return query.filter(held if value == "1" else ~held)


class PredicateRowAction:
    """A row action shown only on rows where ``predicate(account, row)`` holds,
    so nobody is offered an edit or delete the workflow would refuse."""

    def __init__(self, inner, predicate):
        self.inner, self.predicate = inner, predicate

    @pass_context
    def render_ctx(self, context, row_id, row):
        return self.inner.render_ctx(context, row_id, row) if self.predicate(account(), row) else ""


class ProjectView(ScopedModelView):
    """What every project list shares: columns, filters, search, details with
    history, export, and bulk actions through the workflow engine."""

    bulk_actions: tuple[Action, ...] = ()
    can_create = can_edit = can_delete = False
    can_export = True
    column_list = [
        "year",
        "project_no",
        "name",
        "level",
        "credits",
        "period",
        "state",
        "modifiable",
    ]
    column_details_list = [
        *FORM_FIELDS,
        "total_hours",
        "state",
        "modifiable",
        "return_reason",
        "owner_unit",
        "society",
        "created_at",
        "updated_at",
        "reported_at",
        "published_at",
    ]
    column_labels = LABELS
    column_formatters = FORMATTERS
    column_formatters_detail = FORMATTERS
    column_sortable_list = [
        "year",
        "project_no",
        "name",
        "credits",
        ("period", "start_date"),
        "state",
    ]
    column_default_sort = [("updated_at", True), ("id", True)]
    column_searchable_list = ["name", "project_no", "principal"]
    column_display_pk = False
    details_template = "admin/project_details.html"
    # (attribute, header): the export's columns; enum values are written as
    # their titles, looked up once per export rather than once per row.
    export_columns = tuple(
        (name, LABELS[name])
        for name in (
            *(f for f in FORM_FIELDS if f != "remarks"),
            "state",
            "modifiable",
            "owner_unit",
            "remarks",
        )
    )

    def export_rows(self, query):
        titles = {
            "level": {m: str(m.title) for m in ProjectLevel},
            "mode": {m: str(m.title) for m in ProjectMode},
            "state": {m: str(m.title) for m in ProjectState},
            "modifiable": {m: str(m.modifiable_title) for m in ProjectState},
        }
        getters = []
        for name, _ in self.export_columns:
            if name in titles:
                source = "state" if name == "modifiable" else name
                getters.append(lambda p, t=titles[name], a=source: t[getattr(p, a)])
            elif name in ("discipline", "owner_unit"):
                getters.append(lambda p, a=name: getattr(p, a).name)
            else:
                getters.append(lambda p, a=name: getattr(p, a))
        for project in query:
            yield [get(project) for get in getters]

    def scope(self):
        return permissions.project_visibility(account())

    def get_query(self):
        return super().get_query().options(joinedload(Project.society))

    # -- filters -----------------------------------------------------------
    def get_filters(self):
        return [
            ChoiceFilter(Project.year, _l("Year"), self._year_options, coerce=int),
            ChoiceFilter(Project.state, _l("Status"), self._state_options, coerce=ProjectState),
            ModifiableFilter(
                Project.state,
                _l("Modification status"),
                lambda: [("1", ProjectState.DRAFT.modifiable_title), ("0", _l("Not modifiable"))],
            ),
            ChoiceFilter(
                Project.level,
                _l("Project level"),
                lambda: [(lv.value, lv.title) for lv in ProjectLevel],
                coerce=ProjectLevel,
            ),
            ChoiceFilter(
                Project.discipline_id, _l("Discipline"), self._discipline_options, coerce=int
            ),
            ChoiceFilter(Project.owner_unit_id, _l("Filing unit"), self._unit_options, coerce=int),
        ]

    FILTER_KEYS = ("year", "state", "modifiable", "level", "discipline", "unit")

    def filter_url(self, **wanted) -> str:
        """The list URL filtered by ``wanted`` (keys of FILTER_KEYS)."""
        args = {
            f"flt{n}_{self.FILTER_KEYS.index(key)}": value
            for n, (key, value) in enumerate(wanted.items())
        }
        return self.get_url(f"{self.endpoint}.index_view", **args)

    def _scoped(self, *columns):
        return select(*columns).where(self.scope())

    def _year_options(self):
        """Every year from the scope's first to its last (or this year): two
        index probes rather than a DISTINCT over the whole scope."""
        first = self._scoped(Project.year).order_by(Project.year).limit(1)
        last = self._scoped(Project.year).order_by(Project.year.desc()).limit(1)
        low, high = self.db_session.execute(
            select(first.scalar_subquery(), last.scalar_subquery())
        ).one()
        if low is None:
            return []
        return [(y, y) for y in range(max(high, date.today().year), low - 1, -1)]

    def _state_options(self):
        hidden = () if account().unit.kind.is_entry else (ProjectState.DRAFT,)
        return [(s.value, s.title) for s in ProjectState if s not in hidden]

    def _discipline_options(self):
        rows = self.db_session.execute(
            select(Discipline.id, Discipline.name).order_by(Discipline.sort_order)
        )
        return [(r.id, r.name) for r in rows]

    def _unit_options(self):
        units = permissions.filing_units(account()).order_by(Unit.name)
        return [(u.id, u.name) for u in self.db_session.scalars(units)]

    # -- details -----------------------------------------------------------
    def history(self, project):
        """The project's events, oldest first (scoped like the project)."""
        from models import ProjectEvent

        stmt = permissions.visible_events(account()).where(ProjectEvent.project_id == project.id)
        return self.db_session.scalars(stmt.order_by(ProjectEvent.id)).all()

    def state_title(self, value):
        return ProjectState(value).title if value else ""

    def action_title(self, value):
        return Action(value).title

    def available_actions(self, project):
        return [a for a in workflow.available_actions(project, account()) if a in self.bulk_actions]

    # -- bulk actions --------------------------------------------------------
    def is_action_allowed(self, name: str) -> bool:
        user = account()
        if user is None or name not in {a.value for a in self.bulk_actions}:
            return False
        return Action(name) in workflow.possible_actions(user)

    def run_bulk(self, action_: Action, ids, reason=None):
        """Apply ``action_`` to the ticked rows in one transaction and say what
        happened to each: done, or skipped and why."""
        try:
            result = workflow.apply_bulk(self.db_session, action_, account(), row_ids(ids), reason)
        except WorkflowError as error:
            self.db_session.rollback()
            flash(str(error), "error")
            return None
        self.db_session.commit()
        if result.done:
            flash(
                ngettext(
                    "%(action)s: %(num)d project done.",
                    "%(action)s: %(num)d projects done.",
                    len(result.done),
                    action=action_.title,
                ),
                "success",
            )
        if result.skipped:
            details = "；".join(
                f"“{e.project_name}”：{e}" if e.project_name else f"#{e.project_id}：{e}"
                for e in result.skipped
            )
            flash(
                ngettext(
                    "%(num)d project not processed: %(details)s",
                    "%(num)d projects not processed: %(details)s",
                    len(result.skipped),
                    details=details,
                ),
                "warning",
            )
        return None

    def ask_reason(self, action_: Action, ids, *, required: bool):
        """A confirmation page listing the ticked projects with a reason box;
        it posts back to this action with ``reason_confirmed`` set."""
        if request.form.get("reason_confirmed"):
            reason = (request.form.get("reason") or "").strip()
            if required and not reason:
                flash(gettext("A reason is required for this action."), "error")
            else:
                return self.run_bulk(action_, ids, reason)
        projects = self.get_query().filter(Project.id.in_(row_ids(ids))).all()
        return self.render(
            "admin/project_reason.html",
            action=action_,
            projects=projects,
            required=required,
            return_url=request.form.get("url") or self.get_url(".index_view"),
        )

    @action("report", _l("Report selected projects"), _l("Report the selected projects upward?"))
    def action_report(self, ids):
        return self.run_bulk(Action.REPORT, ids)

    @action("unlock", _l("Set modifiable"))
    def action_unlock(self, ids):
        return self.ask_reason(Action.UNLOCK, ids, required=False)

    @action("publish", _l("Approve and publish"), _l("Approve and publish the selected projects?"))
    def action_publish(self, ids):
        return self.run_bulk(Action.PUBLISH, ids)

    @action("withdraw", _l("Withdraw publication"))
    def action_withdraw(self, ids):
        return self.ask_reason(Action.WITHDRAW, ids, required=True)

    @action("delete", _l("Delete"), _l("Delete the selected projects?"))
    def action_delete(self, ids):
        return self.run_bulk(Action.DELETE, ids)

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, WorkflowError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)


class MyProjectsView(ProjectView):
    """我的项目: an entry unit adds, edits, deletes and reports its own projects."""

    permission = "project-enter"
    bulk_actions = (Action.REPORT, Action.DELETE)
    can_create = can_edit = can_delete = True
    form_columns = (*FORM_FIELDS, "seen_version")
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
                "column_labels": LECTURER_LABELS,
                "form_overrides": {"hours": fields.FloatField},
                "form_args": {"hours": {"validators": [validators.Optional()]}},
            },
        )
    ]

    def get_list_row_actions(self):
        wrap = {
            EditRowAction: workflow.can_edit_project,
            DeleteRowAction: workflow.can_delete_project,
        }
        return [
            PredicateRowAction(a, wrap[type(a)]) if type(a) in wrap else a
            for a in super().get_list_row_actions()
        ]

    def scope_form(self, form) -> None:
        unit = account().unit
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

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        if not hasattr(form, "credits") or request.method != "POST":
            return valid
        values = {name: form[name].data for name in FORM_FIELDS if name in form}
        issuer = account().unit.kind is UnitKind.ISSUER
        errors = rules.validate_project(values, issuer=issuer)
        for name, message in errors.items():
            if name in form:
                form[name].errors = [*form[name].errors, str(message)]
        for entry in form.lecturers.entries if "lecturers" in form else ():
            lecturer = entry.form
            if lecturer.data.get("delete-lecturers") or _blank_lecturer(lecturer):
                continue
            for name, message in rules.validate_lecturer(lecturer.data).items():
                lecturer[name].errors = [*lecturer[name].errors, str(message)]
                errors[name] = message
        return valid and not errors

    def update_model(self, form, model) -> bool:
        seen = form.seen_version.data
        if seen and str(seen) != str(model.version):
            flash(str(workflow.ProjectChanged(model.id, model.name)), "error")
            return False
        return super().update_model(form, model)

    def on_model_change(self, form, model, is_created) -> None:
        model.__dict__.pop("seen_version", None)
        if is_created:
            workflow.create(self.db_session, account(), model)
        else:
            workflow.edit(self.db_session, account(), model)

    def delete_model(self, model) -> bool:
        try:
            workflow.apply(self.db_session, model, Action.DELETE, account())
            self.db_session.commit()
        except WorkflowError as error:
            self.db_session.rollback()
            flash(str(error), "error")
            return False
        return True

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        """An entry unit opens the form only while it holds the project."""
        if request.args.get("id"):
            project = self.get_one(request.args.get("id"))
            if not workflow.can_edit_project(account(), project):
                flash(str(workflow.refusal(project, Action.EDIT, account())), "error")
                return redirect(self.get_url(".details_view", id=project.id))
        return super().edit_view()


def _blank_lecturer(form) -> bool:
    return not any(value for key, value in form.data.items() if key not in ("id", "csrf_token"))


class ReviewView(ProjectView):
    """项目审阅: a society reviews its branches' projects."""

    permission = "project-review"
    bulk_actions = (Action.REPORT, Action.UNLOCK)
    column_list = [*ProjectView.column_list, "owner_unit"]


class AuditView(ProjectView):
    """项目审核: the committee audits and publishes."""

    permission = "project-audit"
    bulk_actions = (Action.PUBLISH, Action.UNLOCK, Action.WITHDRAW)
    column_list = [*ProjectView.column_list, "owner_unit", "society"]


def register(admin) -> None:
    from extensions import db

    admin.add_view(
        MyProjectsView(Project, db, name=_l("My projects"), endpoint="projects", url="projects")
    )
    admin.add_view(
        ReviewView(Project, db, name=_l("Project review"), endpoint="review", url="review")
    )
    admin.add_view(AuditView(Project, db, name=_l("Project audit"), endpoint="audit", url="audit"))
