"""What the engine needs to run a transition table (``workflow.transitions``):
the rows it moves, who may see them, where their history goes, the signals its
receivers listen on and what a refusal says. Two machines, one engine:
``PROJECTS`` and ``EXECUTIONS`` (执行情况)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from blinker import Signal
from flask_babel import lazy_gettext as _l

from models import (
    ExecutionEvent,
    ExecutionReport,
    ExecutionState,
    Project,
    ProjectEvent,
    ProjectState,
)
from permissions.scopes import execution_visibility, project_visibility
from workflow import hooks
from workflow.errors import ProjectChanged, ProjectNotFound, ReportChanged, ReportNotFound
from workflow.transitions import EXECUTION_TRANSITIONS, TRANSITIONS, Action, Transition, find


@dataclass(frozen=True)
class Machine:
    name: str
    transitions: tuple[Transition, ...]
    states: type
    model: type
    events: type
    # The column of ``events`` that names the moved row.
    event_key: str
    visibility: Callable
    checking: Signal
    moved: Signal
    bulk_actions: frozenset[Action]
    # Where a row stands and whom it waits for, by state.
    waiting: Mapping
    # "You may not <action> this …", given the action's title.
    forbidden: Callable
    # "It is <waiting>; <next step>." for a refused row of this machine.
    refused: Callable
    not_found: type[ProjectNotFound]
    changed: type[ProjectChanged]
    # Button and history titles that differ from ``Action.title`` for this machine.
    titles: Mapping = field(default_factory=dict)

    @property
    def table(self):
        return self.model.__table__

    def action_title(self, action: Action):
        """The action's name on this machine's buttons and in its history."""
        return self.titles.get(action, action.title)

    def find(self, action: Action, rel, state) -> Transition | None:
        return find(action, rel, state, self.transitions)

    def row_columns(self) -> tuple:
        """What the engine reads of a row to decide a transition."""
        m = self.model
        return (m.id, m.name, m.state, m.year, m.owner_unit_id, m.society_id, m.committee_id)


def _waiting(states, done) -> dict:
    """What a row in each state of its review (``states``: a project's or a report's)
    waits for, as a refusal says it; the review's end state ``done`` by its title."""
    return {
        states.DRAFT: _l("not reported yet, waiting for the entry unit to report it"),
        states.RETURNED: _l("returned for changes, waiting for the entry unit to resubmit it"),
        states.AT_SOCIETY: _l("reported to the society, waiting for the society's review"),
        states.AT_COMMITTEE: _l("reported to the committee, waiting for the committee's audit"),
        done: _l("in state %(state)s", state=done.title),
    }


PROJECTS = Machine(
    name="project",
    transitions=TRANSITIONS,
    states=ProjectState,
    model=Project,
    events=ProjectEvent,
    event_key="project_id",
    visibility=project_visibility,
    checking=hooks.checking,
    moved=hooks.moved,
    bulk_actions=frozenset(
        {Action.REPORT, Action.UNLOCK, Action.PUBLISH, Action.WITHDRAW, Action.DELETE}
    ),
    waiting=_waiting(ProjectState, ProjectState.PUBLISHED),
    forbidden=lambda action: _l("You may not %(action)s this project.", action=action),
    refused=lambda waiting, next_step: _l(
        "It is %(waiting)s; %(next_step)s.", waiting=waiting, next_step=next_step
    ),
    not_found=ProjectNotFound,
    changed=ProjectChanged,
)
EXECUTIONS = Machine(
    name="execution",
    transitions=EXECUTION_TRANSITIONS,
    states=ExecutionState,
    model=ExecutionReport,
    events=ExecutionEvent,
    event_key="report_id",
    visibility=execution_visibility,
    checking=hooks.execution_checking,
    moved=hooks.execution_moved,
    bulk_actions=frozenset({Action.REPORT, Action.UNLOCK, Action.ACCEPT}),
    waiting=_waiting(ExecutionState, ExecutionState.ACCEPTED),
    forbidden=lambda action: _l("You may not %(action)s this execution report.", action=action),
    refused=lambda waiting, next_step: _l(
        "The execution report is %(waiting)s; %(next_step)s.",
        waiting=waiting,
        next_step=next_step,
    ),
    not_found=ReportNotFound,
    changed=ReportChanged,
    titles={
        Action.CREATE: _l("Open the execution report"),
        Action.REPORT: _l("Report selected"),
    },
)
