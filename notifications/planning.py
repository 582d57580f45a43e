"""Who is told about a bulk action (docs/notifications.md): pure, no
database.

- 上报 by a branch: its society; by a society or an issuer: the committee.
- 设为可修改 (sent back): the owner unit, with the reason.
- 审核通过并公布: the owner unit and, for a branch's project, its society.
- 撤销公布: the owner unit and its society, with the reason.

One notice per receiving unit and bulk action, naming the count and the
filtered list where the projects now wait; never one per project.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from models import ProjectState
from models.message import MessageKind
from workflow.hooks import Move
from workflow.transitions import Action

KIND_OF_ACTION = {
    Action.REPORT: MessageKind.REPORTED,
    Action.UNLOCK: MessageKind.RETURNED,
    Action.PUBLISH: MessageKind.PUBLISHED,
    Action.WITHDRAW: MessageKind.WITHDRAWN,
}
# The project list each kind of receiving unit works in.
OWNER_LIST = "projects"
SOCIETY_LIST = "review"
COMMITTEE_LIST = "audit"


@dataclass
class Notice:
    """One message to be written: to ``unit_id``, about ``moves``."""

    unit_id: int
    kind: MessageKind
    endpoint: str
    moves: list[Move] = field(default_factory=list)

    @property
    def filters(self) -> dict:
        """The list's filters that show these projects: their state, and their
        unit and year when they share one."""
        states = {m.target for m in self.moves}
        filters: dict = {}
        if len(states) == 1:
            filters["state"] = states.pop()
        owners = {m.owner_unit_id for m in self.moves}
        if self.endpoint != OWNER_LIST and len(owners) == 1:
            filters["unit"] = owners.pop()
        years = {m.year for m in self.moves}
        if len(years) == 1:
            filters["year"] = years.pop()
        return filters


def receivers(action: Action, move: Move) -> list[tuple[int, str]]:
    """(unit id, list endpoint) of every unit told that ``move`` happened."""
    if action is Action.REPORT:
        if move.target == ProjectState.AT_SOCIETY.value:
            return [(move.society_id, SOCIETY_LIST)]
        return [(move.committee_id, COMMITTEE_LIST)]
    if action is Action.UNLOCK:
        return [(move.owner_unit_id, OWNER_LIST)]
    if action in (Action.PUBLISH, Action.WITHDRAW):
        told = [(move.owner_unit_id, OWNER_LIST)]
        if move.society_id is not None:
            told.append((move.society_id, SOCIETY_LIST))
        return told
    return []


def plan(action: Action, moves: list[Move]) -> list[Notice]:
    """The notices of one bulk action, one per receiving unit, in the order the
    units first appear."""
    kind = KIND_OF_ACTION.get(Action(action))
    if kind is None:
        return []
    notices: dict[int, Notice] = {}
    grouped: dict[int, list[Move]] = defaultdict(list)
    for move in moves:
        if move.target is None:
            continue
        for unit_id, endpoint in receivers(action, move):
            notices.setdefault(unit_id, Notice(unit_id, kind, endpoint))
            grouped[unit_id].append(move)
    for unit_id, notice in notices.items():
        notice.moves = grouped[unit_id]
    return list(notices.values())
