"""Who is told about a bulk action (docs/notifications.md): pure, no
database. The same for projects and execution reports (执行情况), each told in
its own lists (``SUBJECT_LISTS``).

- 上报 by a branch: its society; by a society or an issuer: the committee.
- 设为可修改 (sent back): the owner unit, with the reason.
- 审核通过并公布 (a report's 审核通过): the owner unit and, for a branch's row,
  its society.
- 撤销公布: the owner unit and its society, with the reason.

One notice per receiving unit and bulk action, naming the count and the
filtered list where the rows now wait; never one per row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from models import ExecutionState, ProjectState
from models.message import SUBJECT_LISTS, MessageKind, MessageSubject
from workflow.hooks import Move
from workflow.transitions import Action

KIND_OF_ACTION = {
    Action.REPORT: MessageKind.REPORTED,
    Action.UNLOCK: MessageKind.RETURNED,
    Action.PUBLISH: MessageKind.PUBLISHED,
    Action.ACCEPT: MessageKind.PUBLISHED,  # a report's 审核通过: the committee's last word
    Action.WITHDRAW: MessageKind.WITHDRAWN,
}
# The project lists each kind of receiving unit works in.
OWNER_LIST, SOCIETY_LIST, COMMITTEE_LIST = SUBJECT_LISTS[MessageSubject.PROJECTS]
OWNER_LISTS = frozenset(lists[0] for lists in SUBJECT_LISTS.values())
# Where a branch's report waits for its society (the same state in both machines).
AT_SOCIETY = frozenset({ProjectState.AT_SOCIETY.value, ExecutionState.AT_SOCIETY.value})


@dataclass
class Notice:
    """One message to be written: to ``unit_id``, about ``moves``."""

    unit_id: int
    kind: MessageKind
    endpoint: str
    moves: list[Move] = field(default_factory=list)

    @property
    def filters(self) -> dict:
        """The list's filters that show these rows: their state, and their unit
        and year when they share one (the owner unit's list has no unit filter)."""
        states = {m.target for m in self.moves}
        filters: dict = {}
        if len(states) == 1:
            filters["state"] = states.pop()
        owners = {m.owner_unit_id for m in self.moves}
        if self.endpoint not in OWNER_LISTS and len(owners) == 1:
            filters["unit"] = owners.pop()
        years = {m.year for m in self.moves}
        if len(years) == 1:
            filters["year"] = years.pop()
        return filters


def receivers(
    action: Action, move: Move, subject: MessageSubject = MessageSubject.PROJECTS
) -> list[tuple[int, str]]:
    """(unit id, list endpoint) of every unit told that ``move`` happened."""
    owner_list, society_list, committee_list = SUBJECT_LISTS[subject]
    if action is Action.REPORT:
        if move.target in AT_SOCIETY:
            return [(move.society_id, society_list)]
        return [(move.committee_id, committee_list)]
    if action is Action.UNLOCK:
        return [(move.owner_unit_id, owner_list)]
    if action in (Action.PUBLISH, Action.ACCEPT, Action.WITHDRAW):
        told = [(move.owner_unit_id, owner_list)]
        if move.society_id is not None:
            told.append((move.society_id, society_list))
        return told
    return []


def plan(
    action: Action, moves: list[Move], subject: MessageSubject = MessageSubject.PROJECTS
) -> list[Notice]:
    """The notices of one bulk action, one per receiving unit, in the order the
    units first appear; ``subject``: what moved (projects or execution reports,
    whose ``Move.project_id`` is the report's id)."""
    kind = KIND_OF_ACTION.get(Action(action))
    if kind is None:
        return []
    notices: dict[int, Notice] = {}
    grouped: dict[int, list[Move]] = defaultdict(list)
    for move in moves:
        if move.target is None:
            continue
        for unit_id, endpoint in receivers(action, move, subject):
            notices.setdefault(unit_id, Notice(unit_id, kind, endpoint))
            grouped[unit_id].append(move)
    for unit_id, notice in notices.items():
        notice.moves = grouped[unit_id]
    return list(notices.values())
