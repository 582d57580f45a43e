"""The workflow of SPEC §3: the transition table and the engine that applies it."""

from workflow.engine import (
    BulkResult,
    apply,
    apply_bulk,
    available_actions,
    create,
    edit,
    ensure_allowed,
    is_allowed,
    refusal,
)
from workflow.errors import (
    NotAllowed,
    ProjectChanged,
    ProjectNotFound,
    ReasonRequired,
    WorkflowError,
)
from workflow.transitions import (
    TRANSITIONS,
    Action,
    Outcome,
    Relation,
    find,
    possible_actions,
    relation,
)

__all__ = [
    "TRANSITIONS",
    "Action",
    "BulkResult",
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
    "create",
    "edit",
    "ensure_allowed",
    "find",
    "is_allowed",
    "possible_actions",
    "refusal",
    "relation",
]
