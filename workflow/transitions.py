"""The transition tables (docs/domain.md#transitions), as data.

Pure: no database access here. A transition names the action, the relations
that may take it (``permissions.relations``: owner, its society, its
committee), the states it starts from, its target and what else it writes.

Two tables, one engine: ``TRANSITIONS`` moves projects, ``EXECUTION_TRANSITIONS``
moves execution reports (执行情况) through the same chain. A ``Machine`` names
what the engine needs to run a table: the rows it moves, where their history
goes and what a refusal says of them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from models import ExecutionState, ProjectState
from permissions.relations import OWNERS, RELATIONS_OF_KIND, Relation

S = ProjectState


class Action(enum.StrEnum):
    CREATE = "create"
    EDIT = "edit"
    DELETE = "delete"
    REPORT = "report"
    UNLOCK = "unlock"
    PUBLISH = "publish"
    WITHDRAW = "withdraw"
    ACCEPT = "accept"

    @property
    def title(self):
        return ACTION_TITLES[self]


ACTION_TITLES = {
    Action.CREATE: _l("Add"),
    Action.EDIT: _l("Modify"),
    Action.DELETE: _l("Delete"),
    Action.REPORT: _l("Report selected projects"),
    Action.UNLOCK: _l("Set modifiable"),
    Action.PUBLISH: _l("Approve and publish"),
    Action.WITHDRAW: _l("Withdraw publication"),
    Action.ACCEPT: _l("Approve the report"),
}


class Outcome(enum.Enum):
    """Targets that are not a state."""

    UNCHANGED = "unchanged"
    REMOVED = "removed"


Target = ProjectState | ExecutionState | Outcome
HELD_BY_OWNER = frozenset({S.DRAFT, S.RETURNED})


@dataclass(frozen=True)
class Effects:
    """What a move writes besides the state (every move also bumps ``version``
    and sets ``updated_at``). Column names of ``projects``."""

    # Set to the time of the move.
    stamps: tuple[str, ...] = ()
    # Set to NULL.
    clears: tuple[str, ...] = ()
    # Receives the reason given with the action (NULL when none was given).
    reason_column: str | None = None
    # The action is refused without a reason.
    reason_required: bool = False
    # A project without a 项目编号 gets the next number of its committee and year.
    allocates_number: bool = False


NO_EFFECTS = Effects()
# Reported upwards: when, and the previous return reason no longer applies.
REPORTED = Effects(stamps=("reported_at",), clears=("return_reason",))
# Handed back to its owner, with the reason if one was given.
RETURNED = Effects(reason_column="return_reason")
PUBLISHED = Effects(stamps=("published_at",), allocates_number=True)
WITHDRAWN = Effects(clears=("published_at",), reason_required=True)


@dataclass(frozen=True)
class Transition:
    action: Action
    actors: frozenset[Relation]
    sources: frozenset
    target: Target
    effects: Effects = NO_EFFECTS

    @property
    def reason_required(self) -> bool:
        return self.effects.reason_required


def _t(action, actor: Relation, source, target, effects=NO_EFFECTS) -> Transition:
    return Transition(action, frozenset({actor}), frozenset({source}), target, effects)


A = Action
R = Relation


def _review(states, held: frozenset, returned: Effects) -> tuple[Transition, ...]:
    """The review path a project and an execution report share (``states``: their
    ``ReviewState``): the owner reports from ``held`` (a branch's row to its society, an
    issuer's to the committee), the society reports on to the committee, and the society
    or the committee sends it back to its owner with ``returned``."""
    return (
        Transition(A.REPORT, frozenset({R.OWNER_BRANCH}), held, states.AT_SOCIETY, REPORTED),
        Transition(A.REPORT, frozenset({R.OWNER_ISSUER}), held, states.AT_COMMITTEE, REPORTED),
        _t(A.REPORT, R.SOCIETY, states.AT_SOCIETY, states.AT_COMMITTEE, REPORTED),
        _t(A.UNLOCK, R.SOCIETY, states.AT_SOCIETY, states.RETURNED, returned),
        _t(A.UNLOCK, R.COMMITTEE, states.AT_COMMITTEE, states.RETURNED, returned),
    )


TRANSITIONS: tuple[Transition, ...] = (
    Transition(A.EDIT, OWNERS, HELD_BY_OWNER, Outcome.UNCHANGED),
    Transition(A.DELETE, OWNERS, HELD_BY_OWNER, Outcome.REMOVED),
    *_review(S, HELD_BY_OWNER, RETURNED),
    _t(A.PUBLISH, R.COMMITTEE, S.AT_COMMITTEE, S.PUBLISHED, PUBLISHED),
    _t(A.WITHDRAW, R.COMMITTEE, S.PUBLISHED, S.AT_COMMITTEE, WITHDRAWN),
)


E = ExecutionState
HELD_REPORTS = frozenset({E.DRAFT, E.RETURNED})
# A report goes back to its owner only with a reason, at every level.
REPORT_RETURNED = Effects(reason_column="return_reason", reason_required=True)
EXECUTION_TRANSITIONS: tuple[Transition, ...] = (
    Transition(A.EDIT, OWNERS, HELD_REPORTS, Outcome.UNCHANGED),
    *_review(E, HELD_REPORTS, REPORT_RETURNED),
    # An accepted report (its roster locked) is corrected only after the committee
    # sets it back, with a reason.
    _t(
        A.UNLOCK,
        R.COMMITTEE,
        E.ACCEPTED,
        E.RETURNED,
        Effects(clears=("accepted_at",), reason_column="return_reason", reason_required=True),
    ),
    _t(A.ACCEPT, R.COMMITTEE, E.AT_COMMITTEE, E.ACCEPTED, Effects(stamps=("accepted_at",))),
)


def find(
    action: Action, rel: Relation | None, state, transitions: tuple[Transition, ...] = TRANSITIONS
) -> Transition | None:
    """The transition ``rel`` may take with ``action`` from ``state``, if any."""
    for transition in transitions:
        if transition.action is action and rel in transition.actors and state in transition.sources:
            return transition
    return None


def possible_actions(account, transitions: tuple[Transition, ...] = TRANSITIONS) -> frozenset:
    """Every action an account of this unit kind can ever take; views show no others."""
    relations = RELATIONS_OF_KIND[account.unit.kind]
    actions = {t.action for t in transitions if t.actors & relations}
    if account.unit.kind.is_entry and transitions is TRANSITIONS:
        actions.add(Action.CREATE)
    return frozenset(actions)
