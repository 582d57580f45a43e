"""The password policy, one function for every place a password is chosen: the
owner's change-password page (through Flask-Security's ``password_util``, see
:class:`PolicyPasswordUtil`), a superior's reset, a new account and
``flask create-committee`` (``accounts.password_errors``).

A password must be long enough (``SECURITY_PASSWORD_LENGTH_MIN``), hard enough to
guess by zxcvbn's estimate (``SECURITY_ZXCVBN_MINIMUM_SCORE``, the check
Flask-Security runs with ``SECURITY_PASSWORD_COMPLEXITY_CHECKER = "zxcvbn"``, which
also knows the common passwords), and must contain neither the username nor the
unit's name, nor be the account's current password. No history of older
passwords is kept (Flask-Security stores one hash): only the current one is
refused. The demo accounts' password is hashed directly by ``demo.py``, outside
this policy.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_security import PasswordUtil, verify_password
from flask_security.utils import password_complexity_validator, password_length_validator

TOO_EASY = _l(
    "This password is too easy to guess (a common password, a word or a simple pattern)."
    " Use a longer mix of words, digits and signs."
)
HAS_USERNAME = _l("The password must not contain the username.")
HAS_UNIT_NAME = _l("The password must not contain the unit's name.")
SAME_AS_CURRENT = _l("The new password must differ from the current one.")


def _holds_a_name(password: str, username: str | None, unit_name: str | None):
    """The refusal of a password holding the account's username or its unit's name
    (whatever the case), or None."""
    folded = password.casefold()
    if username and username.casefold() in folded:
        return HAS_USERNAME
    if unit_name and unit_name.casefold() in folded:
        return HAS_UNIT_NAME
    return None


def policy_errors(
    password: str,
    *,
    username: str | None = None,
    unit_name: str | None = None,
    others: tuple[str, ...] = (),
    current_hash: str | None = None,
) -> list:
    """The reasons ``password`` (already normalized) is refused; empty if it is not.

    ``others`` are further words of the account (its person's name…) that make the
    password easier to guess (zxcvbn's ``user_inputs``) without being refused outright.
    """
    if messages := password_length_validator(password):
        return list(messages)
    if (contained := _holds_a_name(password, username, unit_name)) is not None:
        return [contained]
    inputs = {f"input{i}": value for i, value in enumerate((username, unit_name, *others)) if value}
    # zxcvbn's own feedback is English only: one message of ours instead.
    if password_complexity_validator(password, True, **inputs):
        return [TOO_EASY]
    if current_hash and verify_password(password, current_hash):
        return [SAME_AS_CURRENT]
    return []


def account_words(user) -> dict:
    """The arguments of :func:`policy_errors` that come from an existing account."""
    unit = getattr(user, "unit", None)
    return {
        "username": user.username,
        "unit_name": unit.name if unit is not None else None,
        "others": tuple(v for v in (user.display_name, user.email, user.phone) if v),
        "current_hash": user.password,
    }


class PolicyPasswordUtil(PasswordUtil):
    """Flask-Security's password utility with our policy, so that its
    change-password form refuses what a superior's reset refuses, in Chinese."""

    def validate(self, password, is_register, **kwargs):
        normalized = self.normalize(password)
        user = kwargs.get("user")
        words = account_words(user) if user is not None and not is_register else {}
        return policy_errors(normalized, **words) or None, normalized
