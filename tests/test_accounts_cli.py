"""One way to create an account: ``flask create-committee`` refuses what the
admin panel refuses, in the same Chinese words, and every account is made
through Flask-Security's datastore (``accounts.create_account``)."""

from __future__ import annotations

import re

import pytest
from flask_security import verify_password
from sqlalchemy import func, select

import accounts
from models import Unit, UnitKind, User
from tests.factories import make_unit

# The admin panel's messages (tests/admin/test_accounts.py checks them on the form).
USERNAME_TAKEN = "该用户名已被使用"
USERNAME_CHARS = "用户名只能包含字母、数字、下划线和连字符"
PASSWORD_SHORT = "密码至少需要 10 个字符"


def _args(username="tjcme", postal="300040", password="long-enough-1", name=None):
    return [
        "create-committee",
        *("--name", name or "天津市继续医学教育委员会", "--address", "天津市和平区"),
        *("--manager", "周主任", "--phone", "022-23337777", "--username", username),
        *("--postal-code", postal, "--password", password),
    ]


def _counts(session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Unit)),
        session.scalar(select(func.count()).select_from(User)),
    )


def test_create_committee(app_on_empty_db, session):
    runner = app_on_empty_db.test_cli_runner()
    bad = runner.invoke(args=_args(postal="30004"))
    assert bad.exit_code == 1
    assert "--postal-code: 邮政编码应为6位数字" in bad.output
    short = runner.invoke(args=_args(password="short"))
    assert short.exit_code == 1
    assert PASSWORD_SHORT in short.output
    assert _counts(session) == (0, 0)

    good = runner.invoke(args=_args())
    assert good.exit_code == 0, good.output
    user = session.scalar(select(User).where(User.username == "tjcme"))
    assert user.unit.kind.value == "committee"
    assert [r.name for r in user.roles] == ["committee"]
    assert verify_password("long-enough-1", user.password)
    assert re.fullmatch(r"[0-9a-f]{32}", user.fs_uniquifier)
    assert user.active and not user.must_change_password

    again = runner.invoke(args=_args())
    assert again.exit_code == 1
    assert "--name: 同一上级单位下已有同名单位" in again.output
    assert f"--username: {USERNAME_TAKEN}" in again.output


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("BJCME", USERNAME_TAKEN),  # the login finds usernames ignoring case
        ("Bma_Peds", USERNAME_TAKEN),
        ("a b", USERNAME_CHARS),
        ("a<b>", "输入的内容无效"),  # markup is refused, not cleaned away
        ("", "此项为必填项"),
    ],
)
def test_create_committee_refuses_what_the_admin_refuses(
    demo_accounts, session, app_on_empty_db, username, message
):
    before = _counts(session)
    result = app_on_empty_db.test_cli_runner().invoke(args=_args(username=username))
    assert result.exit_code == 1
    assert f"--username: {message}" in result.output
    session.expire_all()
    assert _counts(session) == before


def test_the_service_refuses_and_creates_through_the_datastore(demo_accounts, session):
    unit = make_unit(session, UnitKind.ISSUER, demo_accounts["bjcme"].unit)
    with pytest.raises(accounts.AccountRefused) as refused:
        accounts.create_account(unit, username="BJCME", display_name="重复", password="x" * 12)
    assert str(refused.value.errors["username"]).startswith(USERNAME_TAKEN)
    with pytest.raises(accounts.AccountRefused) as refused:
        accounts.create_account(unit, username="new_one", display_name="短", password="short")
    assert PASSWORD_SHORT in str(refused.value.errors["password"])

    user = accounts.create_account(
        unit, username="new_one", display_name="新帐号", password="long-enough-2"
    )
    session.commit()
    assert user.id is not None and re.fullmatch(r"[0-9a-f]{32}", user.fs_uniquifier)
    assert user.must_change_password and user.active
    assert [r.name for r in user.roles] == ["entry"]

    old = user.fs_uniquifier
    accounts.set_password_by_superior(user, "another-pass-3")
    session.commit()
    assert user.fs_uniquifier != old  # every open session of the account ends
    assert verify_password("another-pass-3", user.password)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("name@example.com", True),
        ("张三@例子.中国", True),
        ("not-an-address", False),
        ("a@b", False),
    ],
)
def test_email_addresses_are_checked_by_email_validator(app_context, value, ok):
    assert (accounts.email_error(value) is None) is ok
