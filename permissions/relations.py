"""How an account stands to a project: its owner, the owner's society or the
owner's committee.

Visibility (``permissions``) and the transition table (``workflow``) both
speak in these relations, so they live in the lower layer: ``workflow`` imports
them from here, never the other way round.
"""

from __future__ import annotations

import enum

from models import UnitKind


class Relation(enum.StrEnum):
    OWNER_BRANCH = "owner_branch"
    OWNER_ISSUER = "owner_issuer"
    SOCIETY = "society"
    COMMITTEE = "committee"


OWNERS = frozenset({Relation.OWNER_BRANCH, Relation.OWNER_ISSUER})

# The relations an account of a unit kind can ever have to a project.
RELATIONS_OF_KIND = {
    UnitKind.BRANCH: frozenset({Relation.OWNER_BRANCH}),
    UnitKind.ISSUER: frozenset({Relation.OWNER_ISSUER}),
    UnitKind.SOCIETY: frozenset({Relation.SOCIETY}),
    UnitKind.COMMITTEE: frozenset({Relation.COMMITTEE}),
}


def relation(account, project) -> Relation | None:
    """How ``account`` stands to ``project`` (any object with the project's
    owner_unit_id, society_id and committee_id), or None."""
    if account is None or not account.is_active:
        return None
    unit = account.unit
    if project.owner_unit_id == unit.id:
        return Relation.OWNER_BRANCH if project.society_id is not None else Relation.OWNER_ISSUER
    if unit.kind is UnitKind.SOCIETY and project.society_id == unit.id:
        return Relation.SOCIETY
    if unit.kind is UnitKind.COMMITTEE and project.committee_id == unit.id:
        return Relation.COMMITTEE
    return None
