"""Every POST added this round (batch import, filing rules, messages) is refused
without a valid CSRF token and changes nothing, like the older screens'."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from extensions import db
from imports import ImportBatch
from models import FilingRule, Message, Project
from tests.refusals import assert_expired

TARGETS = [
    ("bma_cardio", "/admin/import/upload/", {}),
    ("bma_cardio", "/admin/import/batch/1/confirm/", {}),
    ("bma_cardio", "/admin/roster-import/1/upload/", {}),
    ("bma_cardio", "/admin/roster-import/1/batch/1/confirm/", {}),
    ("bma_cardio", "/admin/messages/read-all", {}),
    ("bjcme", "/admin/rules/", {"year": "2026"}),
    ("bma_cardio", "/admin/execution/1/action", {"action": "report", "state": "draft"}),
    ("bma_cardio", "/admin/execution/1/edit", {"venue": "北京"}),
    ("bma_cardio", "/admin/execution/1/roster/add", {"name": "张三"}),
    ("bma_cardio", "/admin/execution/1/roster/1/edit", {"name": "张三"}),
    ("bma_cardio", "/admin/execution/1/roster/remove", {"entry": "1"}),
]


def _counts():
    return [
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Project, ImportBatch, FilingRule, Message)
    ]


@pytest.mark.parametrize(("username", "url", "data"), TARGETS)
def test_a_post_without_a_valid_token_is_refused(login_as, session, username, url, data):
    browser = login_as(username)
    before = _counts()
    assert_expired(browser.client.post(url, data=data))
    assert_expired(browser.client.post(url, data=dict(data, csrf_token="forged")))
    session.expire_all()
    assert _counts() == before
