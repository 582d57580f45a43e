"""The three project lists (docs/domain.md#screens): 我的项目 (entry units), 项目审阅
(societies) and 项目审核 (the committee).

Every view scopes through ``permissions.project_visibility``; every state
change goes through ``workflow``; the views only translate requests and
results into pages and messages.
"""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.model.template import DeleteRowAction, EditRowAction
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

import permissions
import workflow
from admin_views.base import (
    ChoiceFilter,
    ScopedModelView,
    account,
    day,
    row_ids,
)
from admin_views.project_form import FORM_FIELDS, ProjectFormMixin
from models import (
    Discipline,
    Project,
    ProjectLevel,
    ProjectMode,
    ProjectState,
    Unit,
)
from models.vocabulary import PROJECT_LABELS, label
from workflow import Action, WorkflowError


def _period(project) -> str:
    if project.start_date == project.end_date:
        return day(project.start_date)
    return f"{day(project.start_date)} — {day(project.end_date)}"


def _state_cell(view, context, project, name):
    state = ProjectState(project.state)
    if state is ProjectState.RETURNED and project.return_reason:
        return Markup('{}<br><small class="text-danger">{}</small>').format(
            state.title, project.return_reason
        )
    return state.title


# Only the computed columns: every other value is shown by its type
# (ScopedModelView.column_type_formatters: enums, dates, Beijing times).
FORMATTERS = {
    "state": _state_cell,
    "modifiable": lambda v, c, p, n: ProjectState(p.state).modifiable_title,
    "period": lambda v, c, p, n: _period(p),
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
    column_labels = dict(PROJECT_LABELS)
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
        (name, label(name))
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
            ChoiceFilter(Project.year, label("year"), self._year_options, coerce=int),
            ChoiceFilter(Project.state, label("state"), self._state_options, coerce=ProjectState),
            ModifiableFilter(
                Project.state,
                label("modifiable"),
                lambda: [("1", ProjectState.DRAFT.modifiable_title), ("0", _l("Not modifiable"))],
            ),
            ChoiceFilter(
                Project.level,
                label("level"),
                lambda: [(lv.value, lv.title) for lv in ProjectLevel],
                coerce=ProjectLevel,
            ),
            ChoiceFilter(
                Project.discipline_id, label("discipline"), self._discipline_options, coerce=int
            ),
            ChoiceFilter(
                Project.owner_unit_id, label("owner_unit"), self._unit_options, coerce=int
            ),
        ]

    FILTER_KEYS = ("year", "state", "modifiable", "level", "discipline", "unit")

    @classmethod
    def filter_url(cls, endpoint: str, **wanted) -> str:
        """The URL of project list ``endpoint`` filtered by ``wanted`` (keys of
        FILTER_KEYS; every project list has the same filters, in that order)."""
        args = {
            f"flt{n}_{cls.FILTER_KEYS.index(key)}": value
            for n, (key, value) in enumerate(wanted.items())
        }
        return url_for(f"{endpoint}.index_view", **args)

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
            # Committed there; run once more if the database picked it as the
            # victim of a deadlock with another user's action.
            result = workflow.retrying(
                self.db_session,
                lambda: workflow.apply_bulk(
                    self.db_session, action_, account(), row_ids(ids), reason
                ),
            )
        except WorkflowError as error:
            self.db_session.rollback()
            flash(str(error), "error")
            return None
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

    # Each button says its workflow action's own title.
    @action(Action.REPORT.value, Action.REPORT.title, _l("Report the selected projects upward?"))
    def action_report(self, ids):
        return self.run_bulk(Action.REPORT, ids)

    @action(Action.UNLOCK.value, Action.UNLOCK.title)
    def action_unlock(self, ids):
        return self.ask_reason(Action.UNLOCK, ids, required=False)

    @action(
        Action.PUBLISH.value, Action.PUBLISH.title, _l("Approve and publish the selected projects?")
    )
    def action_publish(self, ids):
        return self.run_bulk(Action.PUBLISH, ids)

    @action(Action.WITHDRAW.value, Action.WITHDRAW.title)
    def action_withdraw(self, ids):
        return self.ask_reason(Action.WITHDRAW, ids, required=True)

    @action(Action.DELETE.value, Action.DELETE.title, _l("Delete the selected projects?"))
    def action_delete(self, ids):
        return self.run_bulk(Action.DELETE, ids)

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, WorkflowError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)


class MyProjectsView(ProjectFormMixin, ProjectView):
    """我的项目: an entry unit adds, edits, deletes and reports its own projects."""

    permission = "project-enter"
    bulk_actions = (Action.REPORT, Action.DELETE)
    can_create = can_edit = can_delete = True

    def get_list_row_actions(self):
        wrap = {
            EditRowAction: workflow.can_edit_project,
            DeleteRowAction: workflow.can_delete_project,
        }
        return [
            PredicateRowAction(a, wrap[type(a)]) if type(a) in wrap else a
            for a in super().get_list_row_actions()
        ]

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
