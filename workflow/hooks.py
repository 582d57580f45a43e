"""The engine's two extension points, so that features built on the workflow
(filing rules, version snapshots, notifications) plug in without the engine
knowing them, and without a second path that changes a state.

- ``checking``: sent once per bulk action after the engine decided which rows
  may move and before it writes anything. A receiver returns a mapping
  ``{project_id: WorkflowError}`` of rows to hold back (they are reported as
  skipped with that error) — e.g. a filing rule of severity "block". It may
  run SQL, but a constant number of statements whatever the number of rows.
- ``moved``: sent once per bulk action after every row moved and its history
  was written, in the same transaction (the caller has not committed yet).
  Receivers write rows of their own (snapshots, messages); anything that must
  not happen before the commit (mail) is queued for after it.

Both are blinker signals (Flask's own signal library); the sender is the
``Action``. Nothing connects on import: ``receivers.connect_receivers``, which
``app.create_app`` calls, connects every receiver once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from blinker import Namespace

_signals = Namespace()

#: ``checking.send(action, session=…, account=…, rows=[row, …])`` → receivers
#: return ``{project_id: WorkflowError}`` for the rows they hold back.
checking = _signals.signal("workflow-checking")

#: ``moved.send(action, session=…, account=…, moves=[Move, …], reason=…)``.
moved = _signals.signal("workflow-moved")

#: The same two signals for execution reports (执行情况): a ``Move``'s
#: ``project_id`` is then the report's id.
execution_checking = _signals.signal("execution-checking")
execution_moved = _signals.signal("execution-moved")

#: ``learners_removed.send(report, session=…, account=…, entry_ids=[…])``: learners
#: removed from a report's roster (a corrected roster), before the caller commits.
learners_removed = _signals.signal("learners-removed")


@dataclass(frozen=True)
class Move:
    """One project that moved: its id, name, owner and where it went.

    ``target`` is None when the project was deleted."""

    project_id: int
    name: str
    owner_unit_id: int
    society_id: int | None
    committee_id: int
    year: int
    source: str
    target: str | None
    extra: dict = field(default_factory=dict, compare=False)


def held_back(action, session, account, rows, signal=checking) -> dict:
    """Every row a ``checking`` receiver holds back, with its error (the first
    receiver's error wins for a row two of them refuse)."""
    refused: dict = {}
    for _receiver, answer in signal.send(action, session=session, account=account, rows=rows):
        for project_id, error in (answer or {}).items():
            refused.setdefault(project_id, error)
    return refused
