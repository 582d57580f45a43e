"""The three project lists (docs/domain.md#screens): 我的项目 (entry units), 项目审阅
(societies) and 项目审核 (the committee).

Every view scopes through ``permissions.project_visibility``; every state
change goes through ``workflow``; the views only translate requests and
results into pages and messages.
"""

from __future__ import annotations

import operator

from flask import flash, redirect, request, session
from flask_admin import expose
from flask_admin.babel import ngettext as admin_ngettext
from flask_admin.model.template import DeleteRowAction, EditRowAction
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import String, case, func, select, type_coerce
from sqlalchemy.orm import aliased, joinedload

import exports
import permissions
import workflow
from admin_views.base import ScopedModelView, account, day
from admin_views.capped_count import CappedCountMixin
from admin_views.filing_rules import name_cell as rules_name_cell
from admin_views.list_context import list_context
from admin_views.project_actions import ProjectActionsMixin
from admin_views.project_form import FORM_FIELDS, ProjectFormMixin
from admin_views.project_list_bar import STATUS_ALL, STATUS_HELD, ProjectListBarMixin
from admin_views.project_versions import VersionsMixin
from admin_views.wording import RewordedMixin
from models import (
    Discipline,
    Project,
    ProjectEvent,
    ProjectLevel,
    ProjectMode,
    ProjectState,
    Unit,
    UnitKind,
    search_index,
)
from models.vocabulary import PROJECT_LABELS, label
from workflow import Action, WorkflowError


def period_cell(start, end) -> Markup:
    """举办日期 on a list: one date, or two that each stay whole (a narrow column
    breaks the line after the dash, never inside a date)."""
    if start == end:
        return Markup('<span class="text-nowrap">{}</span>').format(day(start))
    return Markup(
        '<span class="text-nowrap">{} —</span> <span class="text-nowrap">{}</span>'
    ).format(day(start), day(end))


def _state_cell(view, context, project, name):
    state = ProjectState(project.state)
    note = list_context().reason_notes.get(project.id)
    if note is None and state is ProjectState.RETURNED and project.return_reason:
        note = gettext("Reason for return: %(reason)s", reason=project.return_reason)
    if note:
        return Markup('{}<br><small class="text-danger cme-reason">{}</small>').format(
            state.title, note
        )
    return state.title


# Only the computed columns: every other value is shown by its type
# (ScopedModelView.column_type_formatters: enums, dates, Beijing times).
FORMATTERS = {
    "state": _state_cell,
    "modifiable": lambda v, c, p, n: ProjectState(p.state).modifiable_title,
    "period": lambda v, c, p, n: period_cell(p.start_date, p.end_date),
    # The filing-rule warnings a project moved up with, under its name.
    "name": rules_name_cell,
}


class PredicateRowAction:
    """A row action shown only on rows where ``predicate(account, row)`` holds,
    so nobody is offered an edit or delete the workflow would refuse."""

    def __init__(self, inner, predicate):
        self.inner, self.predicate = inner, predicate

    @pass_context
    def render_ctx(self, context, row_id, row):
        return self.inner.render_ctx(context, row_id, row) if self.predicate(account(), row) else ""


class ProjectView(
    ProjectActionsMixin,
    VersionsMixin,
    RewordedMixin,
    ProjectListBarMixin,
    CappedCountMixin,
    ScopedModelView,
):
    """What every project list shares: columns, filters, search, details with
    history, export, and bulk actions through the workflow engine."""

    can_create = can_edit = can_delete = False
    can_export = True
    # The 状态 tabs count the list's own WHERE (its search and filters): the pager's
    # total is the current tab's (admin_views/project_list_bar.py).
    tabs_count_the_list = True
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
    list_template = "admin/project_list.html"
    # The 状态 choice a list opens on, and its tab's title: the rows waiting for
    # this account (docs/domain.md#screens). "all" means no state filter.
    work_status = STATUS_ALL
    work_title = _l("All")
    # (attribute, header): the export's columns; enum values are written as
    # their titles, looked up once per export rather than once per row.
    export_columns = tuple(
        (name, label(name))
        for name in (
            *(f for f in FORM_FIELDS if f != "remarks"),
            "state",
            "modifiable",
            "owner_unit",
            # When it moved: Beijing times in the file as on the screen (exports.cell_value).
            "reported_at",
            "published_at",
            "remarks",
        )
    )

    def export_loader(self, user):
        """Plain rows, not ORM objects: the export's columns in its order (the discipline's
        and the owner unit's names joined, enum values as their translated titles), one
        SELECT per batch, within the account's scope.

        The titles are chosen by the database (a CASE over the stored value, translated
        once, now): no enum object and no title lookup per cell in Python."""
        owner = aliased(Unit)
        titles = {
            "level": (Project.level, {m.value: str(m.title) for m in ProjectLevel}),
            "mode": (Project.mode, {m.value: str(m.title) for m in ProjectMode}),
            "state": (Project.state, {m.value: str(m.title) for m in ProjectState}),
            "modifiable": (
                Project.state,
                {m.value: str(m.modifiable_title) for m in ProjectState},
            ),
        }
        source = {"discipline": Discipline.name, "owner_unit": owner.name}
        for name, (stored, by_value) in titles.items():
            # The stored text, compared as text: the Enum type's own processing is skipped.
            source[name] = case(by_value, value=type_coerce(stored, String))
        columns = [
            source.get(name, getattr(Project, name, None)) for name, _ in self.export_columns
        ]
        stmt = (
            select(Project.id, *columns)
            .join(Discipline, Discipline.id == Project.discipline_id)
            .join(owner, owner.id == Project.owner_unit_id)
            .where(self.scope(user))
        )
        return exports.rows_by_ids(stmt, Project.id)

    def export_rows(self, rows):
        """Each row without its leading id (the titles are in the row already); sliced
        in C, row after row."""
        return map(operator.itemgetter(slice(1, None)), rows)

    def scope(self, user):
        return permissions.project_visibility(user)

    def get_query(self):
        return super().get_query().options(joinedload(Project.society))

    def get_list(self, *args, execute=True, **kwargs):
        # The bar's filters are added by ProjectListBarMixin.get_list.
        count, data = super().get_list(*args, execute=execute, **kwargs)
        if execute:
            # The page's rows are known now: their reasons in one query, for the state cells.
            list_context().reason_notes = self.reason_notes(data)
        return count, data

    def search_query(self, query, count_query, joins, count_joins, search):
        """Flask-Admin's ILIKE per term, plus the trigram index's candidates for the
        terms it can look up (SQLite; PostgreSQL's index serves the ILIKE itself), in
        the form that suits the page and the count (``search_index.list_conditions``)."""
        query, count_query, joins, count_joins = super().search_query(
            query, count_query, joins, count_joins, search
        )
        terms = [search_index.unprefixed(word) for word in search_index.box_words(search)]
        user = self.list_account()
        for_page, for_count = search_index.list_conditions(
            self.db_session,
            self.column_searchable_list,
            terms,
            wildcards=True,
            # The committee sees its whole tree: as many rows as the index's candidates.
            wide_scope=user is None or user.unit.kind is UnitKind.COMMITTEE,
        )
        if for_page is not None:
            query = query.filter(for_page)
            if count_query is not None:
                count_query = count_query.filter(for_count)
        return query, count_query, joins, count_joins

    def reason_notes(self, projects) -> dict[int, str]:
        """For each project last returned or withdrawn with a reason: that reason,
        introduced ("退回原因：…"). A returned project carries its reason
        (``return_reason``); only a project back at the committee may have been
        withdrawn, so only those are looked up: one query, none without them."""
        notes = {
            p.id: gettext("Reason for return: %(reason)s", reason=p.return_reason)
            for p in projects
            if p.state is ProjectState.RETURNED and p.return_reason
        }
        ids = [p.id for p in projects if p.state is ProjectState.AT_COMMITTEE]
        if not ids:
            return notes
        latest = (
            select(func.max(ProjectEvent.id))
            .where(ProjectEvent.project_id.in_(ids))
            .group_by(ProjectEvent.project_id)
        )
        stmt = permissions.visible_events(account()).where(
            ProjectEvent.id.in_(latest),
            ProjectEvent.action == Action.WITHDRAW.value,
            ProjectEvent.reason.is_not(None),
        )
        for event in self.db_session.scalars(stmt):
            notes[event.project_id] = gettext(
                "Reason for withdrawal: %(reason)s", reason=event.reason
            )
        return notes

    def reason_note(self, project) -> str | None:
        """The details page's banner: why the project was returned or withdrawn."""
        return self.reason_notes([project]).get(project.id)

    def get_empty_list_message(self) -> str:
        if self.db_session.execute(self._scoped(Project.id).limit(1)).first() is None:
            return str(self.empty_list_message)  # nothing yet: say how to start
        return gettext("No project matches: choose another state or year, or All.")

    # -- details -----------------------------------------------------------
    def history(self, project):
        """The project's events, oldest first (scoped like the project)."""
        stmt = permissions.visible_events(account()).where(ProjectEvent.project_id == project.id)
        return self.db_session.scalars(stmt.order_by(ProjectEvent.id)).all()

    def state_title(self, value):
        return ProjectState(value).title if value else ""

    def action_title(self, value):
        return Action(value).title

    # The columns a phone shows on a project's card; the others are a tap away,
    # on its details page.
    phone_columns = frozenset({"year", "project_no", "name", "period", "state"})

    @staticmethod
    def plain_columns(list_columns) -> list[tuple[str, str]]:
        """The list's (column, title) with each title translated now: the rows repeat
        them in every cell's ``data-label`` (the phone layout's captions)."""
        return [(column, str(title)) for column, title in list_columns]

    def row_links(self, project) -> dict[str, bool]:
        """Which of a row's links the account may follow now (修改 only while the
        entry unit holds the project)."""
        return {"edit": bool(self.can_edit) and workflow.can_edit_project(account(), project)}

    # -- the manual's words in Flask-Admin's messages ------------------------
    # Flask-Admin flashes "Record was successfully deleted." from its own catalog,
    # which ours cannot override (the form's add/save messages: project_form.py).
    @expose("/delete/", methods=("POST",))
    def delete_view(self):
        response = super().delete_view()
        if (name := list_context().deleted_project) is not None:
            theirs = admin_ngettext(
                "Record was successfully deleted.",
                "%(count)s records were successfully deleted.",
                1,
                count=1,
            )
            ours = gettext("Project “%(name)s” deleted.", name=name)
            session["_flashes"] = [
                (c, ours if m == theirs else m) for c, m in session.get("_flashes", [])
            ]
        return response

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, WorkflowError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)


class MyProjectsView(ProjectFormMixin, ProjectView):
    """我的项目: an entry unit adds, edits, deletes and reports its own projects."""

    permission = "project-enter"
    bulk_actions = (Action.REPORT, Action.DELETE)
    work_status = STATUS_HELD
    work_title = _l("To do (not reported or returned)")
    empty_list_message = _l("No projects yet: click Add project to enter your first one.")
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
        list_context().deleted_project = model.name
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
    work_status = ProjectState.AT_SOCIETY.value
    work_title = _l("Awaiting review")
    empty_list_message = _l("No project matches.")
    column_list = [*ProjectView.column_list, "owner_unit"]


class AuditView(ProjectView):
    """项目审核: the committee audits and publishes."""

    permission = "project-audit"
    bulk_actions = (Action.PUBLISH, Action.UNLOCK, Action.WITHDRAW)
    work_status = ProjectState.AT_COMMITTEE.value
    work_title = _l("Awaiting audit")
    empty_list_message = _l("No project matches.")
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
