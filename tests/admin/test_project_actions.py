"""The project lists' bulk actions are made from the transition table
(admin_views/project_actions.py): one per action of the table but 修改, titled by the
action, confirmed on the list unless its Effects take a reason, which a reason page
asks for (and insists on when the Effects require it)."""

from __future__ import annotations

import pytest

import workflow
from admin_views.project_actions import reason_of, table_actions
from admin_views.projects import AuditView, MyProjectsView, ReviewView
from workflow import Action


def test_every_action_of_the_table_but_edit_is_a_bulk_action():
    assert set(table_actions()) == {t.action for t in workflow.TRANSITIONS} - {Action.EDIT}
    for view in (MyProjectsView, ReviewView, AuditView):
        assert set(view.bulk_actions) <= set(table_actions())
        for act in table_actions():
            name, title, confirmation = getattr(view, f"action_{act.value}")._action
            assert (name, title) == (act.value, act.title)
            takes_reason, _ = reason_of(act)
            assert (confirmation is None) is takes_reason, act


def test_the_reason_follows_the_effects():
    assert reason_of(Action.WITHDRAW) == (True, True)
    assert reason_of(Action.UNLOCK) == (True, False)
    for act in (Action.REPORT, Action.PUBLISH, Action.DELETE):
        assert reason_of(act) == (False, False)


@pytest.mark.parametrize(
    ("username", "view", "expected"),
    [
        ("pumch", "projects", {"delete", "report"}),
        ("bma", "review", {"report", "unlock"}),
        ("bjcme", "audit", {"publish", "unlock", "withdraw"}),
    ],
)
def test_each_list_offers_its_own_actions(login_as, username, view, expected):
    browser = login_as(username)
    html = browser.get(f"/admin/{view}/?status=all").get_data(as_text=True)
    offered = {act.value for act in Action if f'value="{act.value}"' in html}
    assert offered == expected
