"""The whole transition matrix (docs/domain.md#transitions): every (project kind, state, actor,
action) → the target state, or the typed error, through the real engine."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import workflow
from extensions import db
from models import Project, ProjectEvent, ProjectState, UnitKind
from tests.factories import make_project, make_unit, make_user
from workflow import Action, NotAllowed, ProjectNotFound

S = ProjectState
ACTORS = ("owner", "sibling", "society", "other_society", "committee", "other_committee")
ACTIONS = (
    Action.EDIT,
    Action.DELETE,
    Action.REPORT,
    Action.UNLOCK,
    Action.PUBLISH,
    Action.WITHDRAW,
)

# The domain's rules, written out independently of workflow/transitions.py:
# (action, actor, project kind) -> {from state: target}; "same" / "removed".
SPEC = {
    (Action.EDIT, "owner", "branch"): {S.DRAFT: "same", S.RETURNED: "same"},
    (Action.EDIT, "owner", "issuer"): {S.DRAFT: "same", S.RETURNED: "same"},
    (Action.DELETE, "owner", "branch"): {S.DRAFT: "removed", S.RETURNED: "removed"},
    (Action.DELETE, "owner", "issuer"): {S.DRAFT: "removed", S.RETURNED: "removed"},
    (Action.REPORT, "owner", "branch"): {S.DRAFT: S.AT_SOCIETY, S.RETURNED: S.AT_SOCIETY},
    (Action.REPORT, "owner", "issuer"): {S.DRAFT: S.AT_COMMITTEE, S.RETURNED: S.AT_COMMITTEE},
    (Action.REPORT, "society", "branch"): {S.AT_SOCIETY: S.AT_COMMITTEE},
    (Action.UNLOCK, "society", "branch"): {S.AT_SOCIETY: S.RETURNED},
    (Action.UNLOCK, "committee", "branch"): {S.AT_COMMITTEE: S.RETURNED},
    (Action.UNLOCK, "committee", "issuer"): {S.AT_COMMITTEE: S.RETURNED},
    (Action.PUBLISH, "committee", "branch"): {S.AT_COMMITTEE: S.PUBLISHED},
    (Action.PUBLISH, "committee", "issuer"): {S.AT_COMMITTEE: S.PUBLISHED},
    (Action.WITHDRAW, "committee", "branch"): {S.PUBLISHED: S.AT_COMMITTEE},
    (Action.WITHDRAW, "committee", "issuer"): {S.PUBLISHED: S.AT_COMMITTEE},
}


def visible(kind: str, state: ProjectState, actor: str) -> bool:
    """docs/domain.md#visibility: owners see everything of theirs; reviewers nothing in draft."""
    if actor == "owner":
        return True
    if state is S.DRAFT:
        return False
    return actor == "committee" or (actor == "society" and kind == "branch")


CASES = [
    (kind, state, actor, action)
    for kind in ("branch", "issuer")
    for state in ProjectState
    if not (kind == "issuer" and state is S.AT_SOCIETY)  # an issuer has no society
    for actor in ACTORS
    for action in ACTIONS
]


@pytest.fixture(scope="module")
def world(app):
    """Two trees, committed once; every case runs in a transaction rolled back."""
    from tests.conftest import _wipe

    with app.app_context():
        with db.engine.begin() as conn:
            _wipe(conn)
        s = db.session
        committee = make_unit(s, UnitKind.COMMITTEE, name="矩阵继委会")
        society = make_unit(s, UnitKind.SOCIETY, committee, name="矩阵总会")
        other_society = make_unit(s, UnitKind.SOCIETY, committee, name="矩阵另一总会")
        branch = make_unit(s, UnitKind.BRANCH, society, name="矩阵分会")
        sibling = make_unit(s, UnitKind.BRANCH, society, name="矩阵兄弟分会")
        issuer = make_unit(s, UnitKind.ISSUER, committee, name="矩阵医院")
        other_committee = make_unit(s, UnitKind.COMMITTEE, name="矩阵外省继委会")
        units = {
            "committee": committee,
            "society": society,
            "other_society": other_society,
            "branch": branch,
            "sibling": sibling,
            "issuer": issuer,
            "other_committee": other_committee,
        }
        ids = {key: make_user(s, unit, f"m_{key}").id for key, unit in units.items()}
        s.commit()
        s.remove()
        yield ids
        with db.engine.begin() as conn:
            _wipe(conn)


@pytest.mark.parametrize(("kind", "state", "actor", "action"), CASES)
def test_transition(app, world, kind, state, actor, action):
    from models import User

    with app.app_context():
        s = db.session
        users = {key: s.get(User, uid) for key, uid in world.items()}
        owner = users[kind]
        account = owner if actor == "owner" else users[actor]
        if actor == "sibling" and kind == "issuer":
            account = users["sibling"]
        project = make_project(s, owner, state)
        project_id = project.id
        events_before = s.scalar(select(func.count()).select_from(ProjectEvent))
        target = SPEC.get((action, actor, kind), {}).get(state)
        try:
            if target is None:
                expected_error = (
                    NotAllowed
                    if action is Action.EDIT or visible(kind, state, actor)
                    else ProjectNotFound
                )
                with pytest.raises(expected_error):
                    _take(s, project, action, account)
                s.expire_all()
                assert s.get(Project, project_id).state is state
                assert s.scalar(select(func.count()).select_from(ProjectEvent)) == events_before
            else:
                _take(s, project, action, account)
                s.expire_all()
                event = s.scalars(
                    select(ProjectEvent)
                    .where(ProjectEvent.project_id == project_id)
                    .order_by(ProjectEvent.id.desc())
                ).first()
                assert (event.action, event.actor_id, event.from_state) == (
                    action.value,
                    account.id,
                    state.value,
                )
                if target == "removed":
                    assert s.get(Project, project_id) is None
                    assert event.to_state is None
                else:
                    expected = state if target == "same" else target
                    assert s.get(Project, project_id).state is expected
                    assert event.to_state == expected.value
        finally:
            s.rollback()
            s.remove()


def _take(session, project, action, account):
    if action is Action.EDIT:
        project.name = project.name + "（改）"
        workflow.edit(session, account, project)
    else:
        workflow.apply(session, project, action, account, reason="理由")
