"""The project lists' workflow buttons: the bulk actions of the list and the buttons
of a project's page, each applied through ``workflow`` (docs/domain.md#transitions).

The bulk actions are made from the transition table: one Flask-Admin ``@action`` per
action of ``workflow.TRANSITIONS`` (but 修改, which is the form), named by the action's
own title. An action whose ``Effects`` take a reason (a column receives it, or it is
refused without one) first asks for it on a confirmation page; the others ask the
list's plain confirmation.
"""

from __future__ import annotations

import secrets

from flask import flash, request
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import workflow
from admin_views.base import account, row_ids
from models import Submission, rules
from models.submission import TOKEN_LENGTH
from workflow import Action, WorkflowError
from workflow.machines import PROJECTS, Machine

# The list's confirmation of an action that takes no reason.
CONFIRMATIONS = {
    Action.REPORT: _l("Report the selected projects upward?"),
    Action.PUBLISH: _l("Approve and publish the selected projects?"),
    Action.DELETE: _l("Delete the selected projects?"),
}
# On one project's page a button speaks of that project, not of "the selected".
SINGLE = {
    Action.REPORT: (_l("Report this project"), _l("Report this project upward?")),
    Action.PUBLISH: (Action.PUBLISH.title, _l("Approve and publish this project?")),
    Action.DELETE: (_l("Delete this project"), _l("Delete this project?")),
}


def table_actions() -> list[Action]:
    """The actions of the transition table that a list applies to ticked rows."""
    found = {t.action for t in workflow.TRANSITIONS} - {Action.EDIT}
    return [a for a in Action if a in found]


def reason_of(act: Action, transitions=None) -> tuple[bool, bool]:
    """(whether ``act`` takes a reason, whether it is refused without one), read from
    the ``Effects`` of its transitions (of ``transitions``, the projects' by default)."""
    transitions = workflow.TRANSITIONS if transitions is None else transitions
    effects = [t.effects for t in transitions if t.action is act]
    required = any(e.reason_required for e in effects)
    return required or any(e.reason_column for e in effects), required


def skipped_details(errors) -> str:
    """The skipped projects and why, one clause each: “名称”：原因；… ending in
    one full stop (each reason is a sentence of its own)."""
    clauses = []
    for error in errors:
        who = f"“{error.project_name}”" if error.project_name else f"#{error.project_id}"
        clauses.append(f"{who}：{str(error).rstrip('。.')}")
    return "；".join(clauses) + "。"


def bulk_action(act: Action, machine: Machine = PROJECTS):
    """The ``@action`` method of ``act`` on ``machine``'s rows, named as that machine
    names it: straight to the workflow, or by way of the reason page."""
    takes_reason, required = reason_of(act, machine.transitions)

    def run(self, ids):
        if takes_reason:
            return self.ask_reason(act, ids, required=required)
        return self.run_bulk(act, ids)

    run.__name__ = run.__qualname__ = f"action_{act.value}"
    confirmation = None if takes_reason else CONFIRMATIONS.get(act)
    return action(act.value, machine.action_title(act), confirmation)(run)


def with_table_actions(cls):
    """Give ``cls`` an ``action_<name>`` per action of the transition table."""
    for act in table_actions():
        setattr(cls, f"action_{act.value}", bulk_action(act))
    return cls


@with_table_actions
class ProjectActionsMixin:
    """For a project ModelView: the actions of ``bulk_actions`` the account can take,
    as the list's bulk actions and as a project page's buttons."""

    bulk_actions: tuple[Action, ...] = ()
    # The transition table the rows move by (its actions' reasons and titles).
    machine: Machine = PROJECTS

    def available_actions(self, project):
        return [a for a in workflow.available_actions(project, account()) if a in self.bulk_actions]

    def list_buttons(self) -> list[dict]:
        """The list's workflow buttons: one per action this account can take."""
        actions, confirmations = self.get_actions_list()
        return [
            {"value": name, "title": title, "confirm": confirmations.get(name, "")}
            for name, title in actions
        ]

    def project_buttons(self, project) -> list[dict]:
        """The details page's buttons: only what the account may do to it now."""
        buttons = []
        for act in self.available_actions(project):
            title, confirm = SINGLE.get(act, (act.title, ""))
            buttons.append({"value": act.value, "title": str(title), "confirm": str(confirm)})
        return buttons

    def is_action_allowed(self, name: str) -> bool:
        user = account()
        if user is None or name not in {a.value for a in self.bulk_actions}:
            return False
        return Action(name) in workflow.possible_actions(user, self.machine.transitions)

    @staticmethod
    def bulk_token() -> str:
        """A one-time token for the list's action form (``submission``): the POST that
        uses it stores it with the move, so a retried POST moves nothing and says so."""
        return secrets.token_urlsafe(32)

    def run_bulk(self, action_: Action, ids, reason=None):
        """Apply ``action_`` to the ticked rows in one transaction and say what
        happened to each: done, or skipped and why. A form's token already used (a
        retried or repeated POST) moves nothing and says it was done before."""
        if not row_ids(ids):
            flash(gettext("Tick at least one project first."), "warning")
            return None
        token = _token(request.form.get("submission"))
        kind = f"bulk-{action_.value}"
        title = self.machine.action_title(action_)
        if token and (spent := self._spent(token, kind)) is not None:
            _flash_repeated(title, spent)
            return None

        def work():
            result = self.bulk_move(action_, row_ids(ids), reason)
            if token:
                # In the move's transaction: both are kept, or neither.
                self.db_session.add(
                    Submission(
                        account_id=account().id, token=token, kind=kind, done=len(result.done)
                    )
                )
                self.db_session.flush()
            return result

        try:
            # Committed there; run once more if the database picked it as the
            # victim of a deadlock with another user's action.
            result = workflow.retrying(self.db_session, work)
        except WorkflowError as error:
            self.db_session.rollback()
            flash(str(error), "error")
            return None
        except IntegrityError:
            # The same token, posted twice at once: the other POST did the work.
            self.db_session.rollback()
            if token and (spent := self._spent(token, kind)) is not None:
                _flash_repeated(title, spent)
                return None
            raise
        _flash_result(title, result)
        return None

    def _spent(self, token: str, kind: str) -> Submission | None:
        return self.db_session.scalar(
            select(Submission).where(
                Submission.account_id == account().id,
                Submission.token == token,
                Submission.kind == kind,
            )
        )

    def bulk_move(self, action_: Action, ids: list[int], reason):
        """Move the rows ``ids`` through the workflow (a list of execution reports
        moves them through ``workflow.execution.move_bulk`` instead)."""
        return workflow.apply_bulk(self.db_session, action_, account(), ids, reason)

    def ask_reason(self, action_: Action, ids, *, required: bool):
        """A confirmation page listing the ticked projects with a reason box;
        it posts back to this action with ``reason_confirmed`` set."""
        if not row_ids(ids):
            return self.run_bulk(action_, ids)
        if request.form.get("reason_confirmed"):
            reason = (request.form.get("reason") or "").strip()
            if required and not reason:
                flash(gettext("A reason is required for this action."), "error")
            elif message := rules.reason_error(reason):
                flash(str(message), "error")
            else:
                return self.run_bulk(action_, ids, reason)
        projects = self.get_query().filter(self.model.id.in_(row_ids(ids))).all()
        return self.render(
            "admin/project_reason.html",
            action=action_,
            projects=projects,
            required=required,
            # Only a same-site address (never ``javascript:``) becomes the Cancel link.
            return_url=get_redirect_target() or self.get_url(".index_view"),
        )


def _token(value) -> str | None:
    value = (value or "").strip()
    return value if 0 < len(value) <= TOKEN_LENGTH else None


def _flash_repeated(title, spent: Submission) -> None:
    """A repeated POST of a bulk action: what the first one did, and that this one did nothing."""
    flash(
        ngettext(
            "%(action)s was done already by this same submission (%(num)d project);"
            " nothing was done again.",
            "%(action)s was done already by this same submission (%(num)d projects);"
            " nothing was done again.",
            spent.done or 0,
            action=title,
        ),
        "info",
    )


def _flash_result(title, result) -> None:
    """Say how many projects were done, and which were skipped and why."""
    if result.done:
        flash(
            ngettext(
                "%(action)s: %(num)d project done.",
                "%(action)s: %(num)d projects done.",
                len(result.done),
                action=title,
            ),
            "success",
        )
    if result.skipped:
        flash(
            ngettext(
                "%(num)d project not processed: %(details)s",
                "%(num)d projects not processed: %(details)s",
                len(result.skipped),
                details=skipped_details(result.skipped),
            ),
            "warning",
        )
