"""The transition table (docs/domain.md#transitions), as data.

Pure: no database access here. A transition names the action, the relations
that may take it (``permissions.relations``: owner, its society, its
committee), the states it starts from, its target and what else it writes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from models import ProjectState
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
}


class Outcome(enum.Enum):
    """Targets that are not a state."""

    UNCHANGED = "unchanged"
    REMOVED = "removed"


Target = ProjectState | Outcome
HELD_BY_OWNER = frozenset({S.DRAFT, S.RETURNED})


@dataclass(frozen=True)
class Transition:
    action: Action
    actors: frozenset[Relation]
    sources: frozenset[ProjectState]
    target: Target
    reason_required: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Action.EDIT, OWNERS, HELD_BY_OWNER, Outcome.UNCHANGED),
    Transition(Action.DELETE, OWNERS, HELD_BY_OWNER, Outcome.REMOVED),
    Transition(Action.REPORT, frozenset({Relation.OWNER_BRANCH}), HELD_BY_OWNER, S.AT_SOCIETY),
    Transition(Action.REPORT, frozenset({Relation.OWNER_ISSUER}), HELD_BY_OWNER, S.AT_COMMITTEE),
    Transition(
        Action.REPORT, frozenset({Relation.SOCIETY}), frozenset({S.AT_SOCIETY}), S.AT_COMMITTEE
    ),
    Transition(Action.UNLOCK, frozenset({Relation.SOCIETY}), frozenset({S.AT_SOCIETY}), S.RETURNED),
    Transition(
        Action.UNLOCK, frozenset({Relation.COMMITTEE}), frozenset({S.AT_COMMITTEE}), S.RETURNED
    ),
    Transition(
        Action.PUBLISH, frozenset({Relation.COMMITTEE}), frozenset({S.AT_COMMITTEE}), S.PUBLISHED
    ),
    Transition(
        Action.WITHDRAW,
        frozenset({Relation.COMMITTEE}),
        frozenset({S.PUBLISHED}),
        S.AT_COMMITTEE,
        reason_required=True,
    ),
)


def find(action: Action, rel: Relation | None, state: ProjectState) -> Transition | None:
    """The transition ``rel`` may take with ``action`` from ``state``, if any."""
    for transition in TRANSITIONS:
        if transition.action is action and rel in transition.actors and state in transition.sources:
            return transition
    return None


def possible_actions(account) -> frozenset[Action]:
    """Every action an account of this unit kind can ever take; views show no others."""
    relations = RELATIONS_OF_KIND[account.unit.kind]
    actions = {t.action for t in TRANSITIONS if t.actors & relations}
    if account.unit.kind.is_entry:
        actions.add(Action.CREATE)
    return frozenset(actions)
