"""``project_tallies`` (models/tally.py): the database's triggers keep it equal to a recount
made here from the projects and events, through every write the product makes (the
workflow engine's bulk moves, edits, deletes), the migration's backfill and the repair
command; concurrent bulk actions on PostgreSQL neither deadlock nor lose a count; the
统计 page reads only the account's own rows, in as many statements at any size."""

from __future__ import annotations

import itertools
import math
import random
import threading
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

import workflow
from app import create_app
from extensions import db
from models import (
    Discipline,
    Project,
    ProjectEvent,
    ProjectLevel,
    ProjectMode,
    ProjectState,
    ProjectTally,
    Unit,
    UnitKind,
    User,
    tally,
    triggers,
)
from tests.conftest import throwaway_database
from tests.factories import make_project
from workflow import Action

S = ProjectState
MOVES = ("report", "unlock", "publish", "withdraw")


# -- the recount, independent of models/tally.py --------------------------------------------


def recount(session) -> dict[tuple, tuple[int, float]]:
    """{(scope unit, dimension, year, value): (projects, credits)}: plain GROUP BY
    queries over the projects and their events, and the waits paired here."""
    p = Project
    counts: Counter = Counter()
    credits: defaultdict = defaultdict(float)

    def add(key, n, amount=0.0):
        counts[key] += n
        credits[key] += amount

    scopes = {
        "committee": (p.committee_id, func.coalesce(p.society_id, p.owner_unit_id)),
        "society": (p.society_id, p.owner_unit_id),
    }
    not_draft = p.state != S.DRAFT
    for scope_column, unit_column in scopes.values():
        present = (not_draft, scope_column.is_not(None))
        columns = {
            "state": p.state,
            "level": p.level,
            "discipline": p.discipline_id,
            "mode": p.mode,
            "unit": unit_column,
        }
        for dimension, column in columns.items():
            for scope, year, value, n, amount in session.execute(
                select(scope_column, p.year, column, func.count(), func.sum(p.credits))
                .where(*present)
                .group_by(scope_column, p.year, column)
            ):
                value = value.value if hasattr(value, "value") else value
                add((scope, dimension, year, str(value)), n, amount)
        for scope, year, published_at, amount in session.execute(
            select(scope_column, p.year, p.published_at, p.credits).where(
                *present, p.state == S.PUBLISHED
            )
        ):
            month = (published_at + timedelta(hours=8)).strftime("%Y-%m")
            add((scope, "month", year, month), 1, amount)
        e = ProjectEvent
        unlocks = (
            select(scope_column, p.year, unit_column, e.reason)
            .join(p, p.id == e.project_id)
            .where(*present, e.action == "unlock")
            .subquery()
        )
        for scope, year, unit, n in session.execute(
            select(unlocks.c[0], unlocks.c[1], unlocks.c[2], func.count()).group_by(
                unlocks.c[0], unlocks.c[1], unlocks.c[2]
            )
        ):
            add((scope, "send_back_unit", year, str(unit)), n)
        for scope, year, reason, n in session.execute(
            select(unlocks.c[0], unlocks.c[1], unlocks.c[3], func.count())
            .where(unlocks.c[3].is_not(None))
            .group_by(unlocks.c[0], unlocks.c[1], unlocks.c[3])
        ):
            add((scope, "reason", year, reason), n)
        # Waits: each report and the next move of the same project, when that move
        # leaves the state the report entered; in whole hours, half up.
        history = defaultdict(list)
        for row in session.execute(
            select(scope_column, p.year, e.project_id, e.action, e.from_state, e.to_state)
            .add_columns(e.created_at)
            .join(p, p.id == e.project_id)
            .where(*present, e.action.in_(MOVES))
            .order_by(e.id)
        ):
            history[row[2]].append(row)
        for rows in history.values():
            for event, following in itertools.pairwise(rows):
                if event.action == "report" and following.from_state == event.to_state:
                    seconds = (following.created_at - event.created_at).total_seconds()
                    value = str(math.floor(seconds / 3600 + 0.5))
                    add((event[0], f"queue:{event.to_state}", event[1], value), 1)
    return {key: (n, round(credits[key], 6)) for key, n in counts.items() if n or credits[key]}


def tallies(session) -> dict[tuple, tuple[int, float]]:
    rows = session.execute(select(ProjectTally).where(ProjectTally.projects != 0)).scalars()
    return {
        (t.scope_unit_id, t.dimension, t.year, t.value): (t.projects, round(t.credits, 6))
        for t in rows
    }


def assert_tallies_match(session) -> None:
    session.expire_all()
    got, wanted = tallies(session), recount(session)
    assert got == wanted, {
        k: (got.get(k), wanted.get(k))
        for k in set(got) | set(wanted)
        if got.get(k) != wanted.get(k)
    }


def test_the_workflow_actions_are_those_the_triggers_count():
    assert (
        tuple(a.value for a in (Action.REPORT, Action.UNLOCK, Action.PUBLISH, Action.WITHDRAW))
        == tally.MOVES
    )


def test_the_demo_data_is_tallied(demo_accounts, session):
    assert tallies(session)  # not an empty comparison
    assert_tallies_match(session)


# -- a random walk through the engine -------------------------------------------------------


class Walk:
    """Random operations of every kind, through the engine, on the demo data."""

    def __init__(self, session, demo, seed: int) -> None:
        self.session, self.rng, self.done = session, random.Random(seed), Counter()
        self.owners = [demo[name] for name in ("bma_cardio", "bma_peds", "tcm_acu", "pumch")]
        self.societies = [demo["bma"], demo["bjtcm"]]
        self.committee = demo["bjcme"]
        self.disciplines = list(
            session.scalars(
                select(Discipline).where(Discipline.committee_id == self.committee.unit_id)
            )
        )[:6]

    def projects_in(self, *states, **where):
        rows = self.session.scalars(select(Project).where(Project.state.in_(states)))
        return [p for p in rows if all(getattr(p, k) == v for k, v in where.items())]

    def bulk(self, action, account, candidates, reason=None):
        chosen = self.rng.sample(candidates, min(len(candidates), self.rng.randint(1, 4)))
        if chosen:
            ids = [p.id for p in chosen]
            result = workflow.apply_bulk(self.session, action, account, ids, reason)
            self.done[action.value] += len(result.done)

    def levels(self, owner):
        if owner.unit.kind is UnitKind.ISSUER:
            return [ProjectLevel.NATIONAL, ProjectLevel.BEIJING]
        return [ProjectLevel.SOCIETY_I]

    def create(self):
        rng, owner = self.rng, self.rng.choice(self.owners)
        make_project(
            self.session,
            owner,
            rng.choice(list(S)),
            year=rng.choice([2025, 2026]),
            discipline=rng.choice(self.disciplines),
            mode=rng.choice(list(ProjectMode)),
            credits=rng.choice([1, 2.5, 4]),
            level=rng.choice(self.levels(owner)),
        )
        self.done["create"] += 1

    def report(self):
        owner = self.rng.choice(self.owners)
        held = self.projects_in(S.DRAFT, S.RETURNED, owner_unit_id=owner.unit_id)
        self.bulk(Action.REPORT, owner, held)

    def society(self):
        society = self.rng.choice(self.societies)
        waiting = self.projects_in(S.AT_SOCIETY, society_id=society.unit_id)
        if self.rng.random() < 0.5:
            self.bulk(Action.REPORT, society, waiting)
        else:
            self.bulk(Action.UNLOCK, society, waiting, self.rng.choice(["请补充材料。", None]))

    def committee_decides(self):
        waiting = self.projects_in(S.AT_COMMITTEE)
        if self.rng.random() < 0.6:
            self.bulk(Action.PUBLISH, self.committee, waiting)
        else:
            self.bulk(Action.UNLOCK, self.committee, waiting, "学分与学时不符。")

    def withdraw(self):
        self.bulk(Action.WITHDRAW, self.committee, self.projects_in(S.PUBLISHED), "撤回重审。")

    def edit(self):
        held = self.projects_in(S.RETURNED, S.DRAFT)
        if not held:
            return
        rng, project = self.rng, self.rng.choice(held)
        owner = next(o for o in self.owners if o.unit_id == project.owner_unit_id)
        project.discipline = rng.choice(self.disciplines)
        project.credits = rng.choice([0.5, 3, 6])
        project.mode = rng.choice(list(ProjectMode))
        project.year = rng.choice([2024, 2025, 2026])
        project.level = rng.choice(self.levels(owner))
        workflow.edit(self.session, owner, project)
        self.done["edit"] += 1

    def delete(self):
        owner = self.rng.choice(self.owners)
        held = self.projects_in(S.DRAFT, S.RETURNED, owner_unit_id=owner.unit_id)
        self.bulk(Action.DELETE, owner, held)

    def step(self):
        operations = (
            self.create,
            self.report,
            self.society,
            self.committee_decides,
            self.withdraw,
            self.edit,
            self.delete,
        )
        self.rng.choice(operations)()
        self.session.commit()


def test_random_operations_keep_the_tallies_equal_to_a_recount(demo_accounts, session):
    walk = Walk(session, demo_accounts, seed=14)
    for step in range(70):
        walk.step()
        if step % 10 == 9:
            assert_tallies_match(session)
    assert_tallies_match(session)
    # Every kind of write happened (else the walk proved less than it claims).
    kinds = ("create", "report", "unlock", "publish", "withdraw", "edit", "delete")
    assert all(walk.done[kind] for kind in kinds), walk.done


def test_hand_written_sql_is_followed_too(demo_accounts, session):
    """Writes outside the engine (a bulk UPDATE, an event's time changed, deletes) are
    counted by the same triggers."""
    session.execute(
        Project.__table__.update()
        .where(Project.state == S.AT_COMMITTEE)
        .values(year=2024, credits=Project.credits + 1)
    )
    first = session.scalar(select(func.min(ProjectEvent.id)).where(ProjectEvent.action == "report"))
    session.execute(
        ProjectEvent.__table__.update()
        .where(ProjectEvent.id == first)
        .values(created_at=ProjectEvent.created_at - timedelta(hours=30))
    )
    session.execute(delete(ProjectEvent).where(ProjectEvent.action == "unlock"))
    session.execute(delete(Project).where(Project.state == S.RETURNED))
    session.commit()
    assert_tallies_match(session)


# -- the backfill, the repair ---------------------------------------------------------------


def test_the_repair_command_recounts(demo_accounts, session, app_on_empty_db):
    session.execute(delete(ProjectTally))
    session.execute(
        ProjectTally.__table__.insert().values(
            scope_unit_id=demo_accounts["bma"].unit_id,
            dimension="state",
            year=2026,
            value="published",
            projects=99,
            credits=1.0,
        )
    )
    session.commit()
    result = app_on_empty_db.test_cli_runner().invoke(args=["rebuild-statistics"])
    assert result.exit_code == 0, result.output
    assert_tallies_match(session)


def test_sqlite_triggers_come_back_after_a_batch_rebuild(demo_accounts, session, backend):
    if backend != "sqlite":
        pytest.skip("PostgreSQL alters tables in place: triggers stay")
    connection = session.connection()
    for name in ("project_tallies_update", "project_tallies_event_insert"):
        connection.exec_driver_sql(f"DROP TRIGGER {name}")
    connection.exec_driver_sql("DELETE FROM project_tallies")
    triggers.repair_sqlite(connection)
    names = {
        row[0]
        for row in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='trigger'")
    }
    assert set(tally.SQLITE_TRIGGERS) <= names
    session.commit()
    assert_tallies_match(session)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    with throwaway_database(request.param, tmp_path, prefix="cme_tally") as url:
        yield url


def test_the_migration_backfills_existing_rows(fresh_url):
    """Demo data written at 0013 (no tallies), then 0014: the table equals the recount;
    down to 0013 and up again gives the same."""
    from demo import seed

    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": fresh_url})
    with app.app_context():
        upgrade(revision="0013")
        seed(db.session, executions=False)  # no execution reports at 0013
        db.session.commit()
        upgrade(revision="0014")
        assert tallies(db.session)
        assert_tallies_match(db.session)
        first = tallies(db.session)
        # End the session's read: on PostgreSQL the downgrade's DROP TRIGGER waits for
        # every transaction that read the table.
        db.session.rollback()
        downgrade(revision="0013")
        upgrade(revision="0014")
        assert tallies(db.session) == first
        db.session.remove()
        db.engine.dispose()


# -- concurrency (PostgreSQL) ---------------------------------------------------------------


@pytest.mark.postgresql_only
def test_concurrent_bulk_actions_neither_deadlock_nor_lose_counts(demo_accounts, session, backend):
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    demo = demo_accounts
    disciplines = list(
        session.scalars(select(Discipline).where(Discipline.committee_id == demo["bjcme"].unit_id))
    )[:8]
    cardio, issuer = [], []
    for i in range(120):
        fields = {"year": 2026, "credits": 2, "discipline": disciplines[i % len(disciplines)]}
        cardio.append(make_project(session, demo["bma_cardio"], S.AT_SOCIETY, **fields))
        issuer.append(make_project(session, demo["pumch"], S.AT_COMMITTEE, **fields))
    session.commit()
    work = {
        "society reports on": (Action.REPORT, demo["bma"].id, [p.id for p in cardio]),
        "committee publishes": (Action.PUBLISH, demo["bjcme"].id, [p.id for p in issuer]),
    }
    barrier = threading.Barrier(len(work), timeout=30)
    outcomes: dict[str, object] = {}
    engine = db.engine  # the app context is this thread's

    def act(name, action, account_id, ids):
        with Session(engine) as own:
            account = own.get(User, account_id)
            account.unit  # noqa: B018 - load before the race
            barrier.wait(timeout=30)
            try:
                result = workflow.apply_bulk(own, action, account, ids)
                own.commit()
                outcomes[name] = len(result.done)
            except Exception as error:  # reported below, with the thread's name
                own.rollback()
                outcomes[name] = error

    threads = [threading.Thread(target=act, args=(name, *args)) for name, args in work.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == {"society reports on": 120, "committee publishes": 120}
    assert_tallies_match(session)


# -- what the table holds ------------------------------------------------------------------


def test_units_of_the_tally_are_real(demo_accounts, session):
    """Every scope of the tally is a committee or a society (never an entry unit)."""
    kinds = set(
        session.scalars(
            select(Unit.kind).join(ProjectTally, ProjectTally.scope_unit_id == Unit.id).distinct()
        )
    )
    assert kinds == {UnitKind.COMMITTEE, UnitKind.SOCIETY}
    assert session.scalar(text("SELECT count(*) FROM project_tallies WHERE projects < 0")) == 0
