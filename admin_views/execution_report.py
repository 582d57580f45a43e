"""One execution report (执行情况) in the panel: its page, its form and its roster.

``/admin/execution/<id>/`` shows the report to the accounts of its project's review
chain (``workflow.execution.visible_report``: anyone else gets 404): what was held,
the comparison with what was filed (申报内容 / 实际执行, the diff of the project
pages), the roster (学员名单, paged, ID numbers masked but for the owner while it is
editable), the roster's changes since the last report, the history and the
buttons of the actions the account may take now. ``/edit`` is the report's form,
``/roster/…`` add, change and remove learners; every change goes through
``workflow.execution`` (the report's own transition table, its rules), never by
hand. The 执行情况 menu and the lists are ``admin_views/executions.py``'s; the
forms are ``admin_views/execution_forms.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.routing import BuildError

import permissions
import workflow
from admin_views.base import account, row_ids
from admin_views.certificates import report_certificates
from admin_views.execution_forms import (
    LearnerForm,
    ReportForm,
    learner_values_judged,
    lecturer_values,
    report_data,
)
from admin_views.forms import show_errors
from admin_views.registry import find_view
from admin_views.signed_in import SignedInView
from extensions import db
from models import (
    ExecutionEvent,
    ExecutionReport,
    ExecutionState,
    IdType,
    Project,
    ProjectState,
    RosterEntry,
    rules,
)
from models.vocabulary import LECTURER_FIELDS, LECTURER_REQUIRED
from permissions.relations import OWNERS, relation
from workflow import Action, WorkflowError, execution
from workflow.errors import ReportChanged, ReportNotFound
from workflow.machines import EXECUTIONS

PAGE_SIZE = 50
# The buttons of one report's page: the report's own transitions but 修改 (the form).
PAGE_ACTIONS = (Action.REPORT, Action.UNLOCK, Action.ACCEPT)
BUTTONS = {
    Action.REPORT: (_l("Report this execution report"), _l("Report this execution report upward?")),
    Action.UNLOCK: (Action.UNLOCK.title, ""),
    Action.ACCEPT: (Action.ACCEPT.title, _l("Approve this execution report?")),
}
DONE = {
    Action.REPORT: _l("Execution report “%(name)s” reported."),
    Action.UNLOCK: _l("Execution report “%(name)s” set modifiable and returned to its unit."),
    Action.ACCEPT: _l("Execution report “%(name)s” approved."),
}
# Columns of the comparison: what the published project says, what the report says.
FILED, HELD = _l("Filed"), _l("Held")
ROSTER_COLUMNS = execution.ROSTER_FIELDS
OPEN_REPORT = "executions.open_report"
# The 执行情况 lists (admin_views/executions.py).
LISTS = ("executions", "execution_review", "execution_audit")


# -- what the page shows -----------------------------------------------------------------
@dataclass(frozen=True)
class Button:
    value: str
    title: str
    confirm: str
    reason: bool


def buttons(report: ExecutionReport, user) -> list[Button]:
    """The actions ``user`` may take on ``report`` now, as the page's buttons."""
    found = []
    for act in execution.available_actions(report, user):
        if act not in PAGE_ACTIONS:
            continue
        title, confirm = BUTTONS[act]
        found.append(Button(act.value, str(title), str(confirm), act is Action.UNLOCK))
    return found


def shown(value) -> str:
    """A report's or learner's value as the page shows it: an enum by its title, a
    number without a needless ``.0``, a date as ``2026-05-01``, nothing as ""."""
    if value is None:
        return ""
    if isinstance(getattr(type(value), "title", None), property):
        return str(value.title)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def held_value(report: ExecutionReport, name: str) -> str:
    """A held field as the page shows it; 学员人数 with the roster's attended count
    beside it when the two differ (the organiser's number or the roster's)."""
    value = shown(getattr(report, name))
    attended = report.attended_learners or 0
    if name == "learners" and attended and attended != report.learners:
        return gettext(
            "%(typed)s (the roster: %(attended)s attended)", typed=value, attended=attended
        )
    return value


def state_title(value) -> str:
    return str(ExecutionState(value).title) if value else ""


def action_title(value) -> str:
    """An action in the report's history, as the report's buttons name it."""
    return str(EXECUTIONS.action_title(Action(value)))


def _visible(report_id: int) -> ExecutionReport:
    try:
        return execution.visible_report(db.session, account(), report_id)
    except ReportNotFound:
        abort(404)


def _entry(report: ExecutionReport, entry_id: int) -> RosterEntry:
    """A learner of ``report`` the account may see; another report's answers 404."""
    entry = db.session.scalar(
        permissions.visible_roster(account()).where(
            RosterEntry.id == entry_id, RosterEntry.report_id == report.id
        )
    )
    if entry is None:
        abort(404)
    return entry


def _stale(form, report: ExecutionReport) -> bool:
    """The form was opened at another version of the report (someone changed it)."""
    return str(form.seen_version.data or "") != str(report.version)


def open_lists() -> list[tuple[str, str]]:
    """(name, address) of each 执行情况 list the signed-in account may open."""
    lists = []
    for endpoint in LISTS:
        view = find_view(endpoint)
        if view is not None and view.is_accessible():
            lists.append((view.name, url_for(f"{endpoint}.index_view")))
    return lists


def _posted_action() -> tuple[Action, ExecutionState]:
    """The button pressed and the state the page showed; 400 for what no button posts."""
    try:
        act = Action(request.form.get("action", ""))
        shown = ExecutionState(request.form.get("state", ""))
    except ValueError:
        abort(400)
    if act not in PAGE_ACTIONS:
        abort(400)
    return act, shown


def _reason_refusal(act: Action, reason: str | None) -> str | None:
    """Why the reason typed will not do (none for 设为可修改, or one the rules refuse)."""
    if act is Action.UNLOCK and not reason:
        return gettext("A reason is required for this action.")
    if reason and (message := rules.reason_error(reason)):
        return str(message)
    return None


def _show_report_errors(form, rows: list, errors: dict) -> None:
    """The rules' messages on the report's form: a lecturer's (``lecturers-N-field``)
    next to that field of its row, every other next to the report's field."""
    show_errors(form, {k: v for k, v in errors.items() if not k.startswith("lecturers-")})
    for key, message in errors.items():
        if key.startswith("lecturers-"):
            _, index, name = key.split("-", 2)
            show_errors(rows[int(index)].form, {name: message})


class ExecutionReportView(SignedInView):
    """Open to every signed-in account; each report only along its review chain."""

    in_menu = False  # reached from the 执行情况 lists and the project's page

    @expose("/")
    def index(self):
        """No report named (a bookmark, an address typed in): the 执行情况 lists this
        account may open, whence each report is reached."""
        return self.render("admin/execution_index.html", lists=open_lists())

    # -- the page --------------------------------------------------------------------
    @expose("/<id:id>/")
    def details(self, id: int):
        report = _visible(id)
        user = account()
        page = max(request.args.get("page", 1, type=int), 1)
        figures = execution.roster_figures(db.session, report.id)
        pages = max((figures.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        roster = db.session.scalars(
            permissions.visible_roster(user)
            .where(RosterEntry.report_id == report.id)
            .order_by(RosterEntry.id)
            .limit(PAGE_SIZE)
            .offset((min(page, pages) - 1) * PAGE_SIZE)
        ).all()
        history = db.session.scalars(
            permissions.visible_execution_events(user)
            .where(ExecutionEvent.report_id == report.id)
            .order_by(ExecutionEvent.id)
        ).all()
        editable = execution.can_edit(user, report)
        return self.render(
            "admin/execution_details.html",
            report=report,
            project=report.project,
            report_state=ExecutionState(report.state),
            overdue=execution.is_overdue(report),
            held=execution.filed_vs_held(report),
            filed_title=FILED,
            held_title=HELD,
            warnings=execution.roster_warnings(db.session, report),
            since=execution.since_last_report(db.session, report),
            roster=[
                (entry, execution.shown_id_number(user, report, entry.id_number))
                for entry in roster
            ],
            roster_columns=ROSTER_COLUMNS,
            roster_labels=rules.ROSTER_LABELS,
            held_values=[
                (name, label, held_value(report, name))
                for name, label in rules.EXECUTION_LABELS.items()
            ],
            shown=shown,
            figures=figures,
            page=min(page, pages),
            pages=pages,
            history=history,
            buttons=buttons(report, user),
            back_url=next((address for _, address in open_lists()), None),
            editable=editable,
            state_title=state_title,
            action_title=action_title,
            certificates=report_certificates(report),
        )

    @expose("/<id:id>/action", methods=("POST",))
    def action(self, id: int):
        """One of the page's buttons: compare-and-set against the state the page showed."""
        report = _visible(id)
        act, shown = _posted_action()
        reason = (request.form.get("reason") or "").strip() or None
        back = redirect(url_for(".details", id=id))
        if (refusal := _reason_refusal(act, reason)) is not None:
            flash(refusal, "error")
            return back
        name = report.name
        try:
            if ExecutionState(report.state) is not shown:
                raise ReportChanged(report.id, name)
            workflow.retrying(
                db.session,
                lambda: execution.move(db.session, _visible(id), act, account(), reason),
            )
        except WorkflowError as error:
            db.session.rollback()
            flash(str(error), "error")
            return back
        flash(str(DONE[act]) % {"name": name}, "success")
        return back

    # -- the report's form ------------------------------------------------------------
    @expose("/<id:id>/edit", methods=("GET", "POST"))
    def edit(self, id: int):
        report = _visible(id)
        user = account()
        if not execution.can_edit(user, report):
            flash(str(workflow.refusal(report, Action.EDIT, user, execution.EXECUTIONS)), "error")
            return redirect(url_for(".details", id=id))
        if request.method == "GET":
            form = ReportForm(data=report_data(report))
            return self._render_edit(report, form)
        form = ReportForm(request.form)
        valid = form.validate()
        if _stale(form, report):
            flash(str(ReportChanged(report.id, report.name)), "error")
            return self._render_edit(report, form)
        if not valid:
            # Every message at once: the rules also judge what WTForms could read.
            self._judge(report, form)
            return self._render_edit(report, form)
        return self._save(report, form)

    def _save(self, report, form):
        """The form's values saved through the workflow; what its rules refuse goes back
        to the form, each message next to its field (a lecturer's by its row)."""
        rows = form.lecturer_rows()
        try:
            errors = execution.save_report(
                db.session,
                account(),
                report,
                form.values(),
                [lecturer_values(entry.form) for entry in rows],
            )
            if not errors:
                db.session.commit()
        except ReportChanged as error:
            db.session.rollback()
            flash(str(error), "error")
            return self._render_edit(report, form)
        except WorkflowError as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for(".details", id=report.id))
        if errors:
            db.session.rollback()
            _show_report_errors(form, rows, errors)
            return self._render_edit(report, form)
        flash(gettext("Execution report “%(name)s” saved.", name=report.name), "success")
        return redirect(url_for(".details", id=report.id))

    @staticmethod
    def _judge(report, form) -> None:
        """The report's rules on the form's values, each message next to its field."""
        show_errors(
            form, rules.validate_execution(form.values(), published_credits=report.project.credits)
        )
        for entry in form.lecturer_rows():
            show_errors(entry.form, rules.validate_lecturer(lecturer_values(entry.form)))

    def _render_edit(self, report, form):
        return self.render(
            "admin/execution_edit.html",
            report=report,
            form=form,
            lecturer_fields=LECTURER_FIELDS,
            lecturer_required=LECTURER_REQUIRED,
            published_credits=report.project.credits,
        )

    # -- the roster -------------------------------------------------------------------
    def _editable(self, report):
        """None when the account may change the roster now; else where to go."""
        user = account()
        if execution.can_edit(user, report):
            return None
        flash(str(workflow.refusal(report, Action.EDIT, user, execution.EXECUTIONS)), "error")
        return redirect(url_for(".details", id=report.id))

    @expose("/<id:id>/roster/add", methods=("GET", "POST"))
    def roster_add(self, id: int):
        report = _visible(id)
        if (refused := self._editable(report)) is not None:
            return refused
        if request.method == "GET":
            form = LearnerForm(data={"seen_version": report.version, "credits": report.credits})
            return self._render_learner(report, form, None)
        form = LearnerForm(request.form)
        if not form.validate():
            show_errors(form, execution.learner_errors(report, learner_values_judged(form)))
            return self._render_learner(report, form, None)
        try:
            entry, errors = execution.add_learner(db.session, account(), report, form.values())
            if not errors:
                db.session.commit()
        except WorkflowError as error:
            db.session.rollback()
            flash(str(error), "error")
            return self._render_learner(report, form, None)
        if errors:
            db.session.rollback()
            show_errors(form, errors)
            return self._render_learner(report, form, None)
        flash(gettext("Learner “%(name)s” added to the roster.", name=entry.name), "success")
        if request.form.get("_add_another"):
            return redirect(url_for(".roster_add", id=id))
        return redirect(url_for(".details", id=id, _anchor="roster"))

    @expose("/<id:id>/roster/<id:entry_id>/edit", methods=("GET", "POST"))
    def roster_edit(self, id: int, entry_id: int):
        report = _visible(id)
        entry = _entry(report, entry_id)
        if (refused := self._editable(report)) is not None:
            return refused
        if request.method == "GET":
            data = {name: getattr(entry, name) for name in execution.ROSTER_FIELDS}
            data["id_type"] = IdType(entry.id_type).value
            form = LearnerForm(data=data | {"seen_version": report.version})
            return self._render_learner(report, form, entry)
        form = LearnerForm(request.form)
        valid = form.validate()
        if _stale(form, report):
            flash(str(ReportChanged(report.id, report.name)), "error")
            return self._render_learner(report, form, entry)
        if not valid:
            show_errors(form, execution.learner_errors(report, learner_values_judged(form)))
            return self._render_learner(report, form, entry)
        try:
            errors = execution.update_learner(db.session, account(), report, entry, form.values())
            if not errors:
                db.session.commit()
        except WorkflowError as error:
            db.session.rollback()
            flash(str(error), "error")
            return self._render_learner(report, form, entry)
        if errors:
            db.session.rollback()
            show_errors(form, errors)
            return self._render_learner(report, form, entry)
        flash(gettext("Learner “%(name)s” saved.", name=entry.name), "success")
        return redirect(url_for(".details", id=id, _anchor="roster"))

    def _render_learner(self, report, form, entry):
        return self.render(
            "admin/execution_learner.html",
            report=report,
            form=form,
            entry=entry,
            max_credits=report.credits,
        )

    @expose("/<id:id>/roster/remove", methods=("POST",))
    def roster_remove(self, id: int):
        report = _visible(id)
        if (refused := self._editable(report)) is not None:
            return refused
        back = redirect(url_for(".details", id=id, _anchor="roster"))
        wanted = set(row_ids(request.form.getlist("entry")))
        if not wanted:
            flash(gettext("Tick at least one learner first."), "warning")
            return back
        found = db.session.scalar(
            select(func.count())
            .select_from(RosterEntry)
            .where(RosterEntry.report_id == report.id, RosterEntry.id.in_(wanted))
        )
        if found != len(wanted):
            abort(404)
        try:
            removed = execution.remove_learners(db.session, account(), report, wanted)
            db.session.commit()
        except WorkflowError as error:
            db.session.rollback()
            flash(str(error), "error")
            return back
        flash(gettext("%(num)s learner(s) removed from the roster.", num=removed), "success")
        return back


# -- on the project's page ---------------------------------------------------------------
@dataclass(frozen=True)
class ProjectExecution:
    """What a project's page offers about its execution report."""

    report_id: int | None
    can_open: bool
    open_url: str | None


def project_execution(project: Project) -> ProjectExecution | None:
    """For a published project: its report's page (if opened and visible to the
    account), and 填报执行情况 for its owner unit (once the lists' route exists)."""
    user = account()
    if user is None or project is None or ProjectState(project.state) is not ProjectState.PUBLISHED:
        return None
    report_id = db.session.scalar(
        select(ExecutionReport.id).where(
            ExecutionReport.project_id == project.id, permissions.execution_visibility(user)
        )
    )
    owner = relation(user, project) in OWNERS
    can_open = owner and report_id is None
    open_url = None
    if can_open:
        try:
            open_url = url_for(OPEN_REPORT, project_id=project.id)
        except BuildError:
            can_open = False
    if report_id is None and not can_open:
        return None
    return ProjectExecution(report_id, can_open, open_url)


def register(admin) -> None:
    admin.app.add_template_global(project_execution, "project_execution")
    admin.add_view(
        ExecutionReportView(name=_l("Execution report"), endpoint="execution", url="execution")
    )
