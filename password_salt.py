"""The password salt the accounts were created with, checked before a command adds accounts.

Every stored password hash depends on ``SECURITY_PASSWORD_SALT``: started with another salt,
the application accepts no password at all, and a command that adds accounts would create
accounts of a second, incompatible kind next to the old ones. The database therefore keeps a
fingerprint of its salt (an HMAC of a fixed text under the salt: it reveals nothing of the
salt itself) in the ``settings`` table, recorded by the first such command, and
``check_password_salt`` refuses to go on with a different one.
"""

from __future__ import annotations

import hashlib
import hmac

import click
from sqlalchemy.orm import Session

from models import Setting

SETTING_NAME = "password_salt"
FINGERPRINT_TEXT = b"cme password salt fingerprint v1"


def fingerprint(salt: str) -> str:
    return "hmac-sha256:" + hmac.new(salt.encode(), FINGERPRINT_TEXT, hashlib.sha256).hexdigest()


class SaltMismatchError(click.ClickException):
    """The configured salt is not the one the database's accounts were created with."""


def check_password_salt(session: Session, salt: str) -> None:
    """Record the salt's fingerprint if the database has none; refuse a different salt.

    The fingerprint is added to ``session`` (committed with the command's own work).
    """
    current = fingerprint(salt)
    stored = session.get(Setting, SETTING_NAME)
    if stored is None:
        session.add(Setting(name=SETTING_NAME, value=current))
        session.flush()
        return
    if not hmac.compare_digest(stored.value, current):
        raise SaltMismatchError(
            "SECURITY_PASSWORD_SALT 与创建这个数据库时使用的不同："
            "用现在的设置，已有账号都无法登录，新建的账号也与它们不一致，所以没有执行。"
            "请换回原来的 SECURITY_PASSWORD_SALT"
            "（更换 SECRET_KEY 时它必须保持不变，见 docs/operations.md）。"
            " / The password salt differs from the one this database was created with; refused."
        )
