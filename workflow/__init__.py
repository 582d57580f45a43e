"""The project workflow: the transition table and the engine that applies it.

Layer: imports ``models`` and ``permissions`` (scopes and relations), never the
views; ``permissions`` never imports this package (checked by ``make lint``)."""

from permissions.relations import Relation, relation

# ``filing_rules`` and ``versions`` (snapshots) connect to the engine's
# signals on import.
from workflow import filing_rules, hooks, versions
from workflow.engine import (
    BulkResult,
    apply,
    apply_bulk,
    available_actions,
    can_delete_project,
    can_edit_project,
    create,
    create_many,
    edit,
    ensure_allowed,
    is_allowed,
    number_refusal,
    refusal,
)
from workflow.errors import (
    NotAllowed,
    ProjectChanged,
    ProjectNotFound,
    ReasonRequired,
    WorkflowError,
)
from workflow.retry import Busy, retrying
from workflow.transitions import (
    TRANSITIONS,
    Action,
    Outcome,
    find,
    possible_actions,
)

__all__ = [
    "TRANSITIONS",
    "Action",
    "BulkResult",
    "Busy",
    "NotAllowed",
    "Outcome",
    "ProjectChanged",
    "ProjectNotFound",
    "ReasonRequired",
    "Relation",
    "WorkflowError",
    "apply",
    "apply_bulk",
    "available_actions",
    "can_delete_project",
    "can_edit_project",
    "create",
    "create_many",
    "edit",
    "ensure_allowed",
    "filing_rules",
    "find",
    "hooks",
    "is_allowed",
    "number_refusal",
    "possible_actions",
    "refusal",
    "relation",
    "retrying",
    "versions",
]
