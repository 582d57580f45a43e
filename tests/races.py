"""Two people acting on one row at the same moment, each with their own connection: the
compare-and-set tests of projects and execution reports (PostgreSQL; SQLite serialises
writers with a database lock)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.orm import Session

from extensions import db
from models import User
from workflow import Action


def race(
    model, row_id: int, account_id: int, move: Callable, changed: type[Exception], actions
) -> dict[str, object]:
    """Run each of ``actions`` (name → Action) in its own thread and session on the row
    ``row_id`` of ``model`` as the account ``account_id``, released together by a barrier:
    ``move(session, row, action, account, reason)`` then commit. Returns name → "won", or
    the ``changed`` error that thread was told (any other error leaves its name out)."""
    engine = db.engine
    barrier = threading.Barrier(len(actions), timeout=30)
    outcomes: dict[str, object] = {}

    def act(name: str, action: Action) -> None:
        with Session(engine) as own:
            target = own.get(model, row_id)
            account = own.get(User, account_id)
            account.unit  # noqa: B018 - load before the race
            barrier.wait()
            try:
                move(own, target, action, account, "同时退回")
                own.commit()
                outcomes[name] = "won"
            except changed as error:
                own.rollback()
                outcomes[name] = error

    threads = [threading.Thread(target=act, args=item) for item in actions.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes
