"""The one way to check and create a unit's account, and to set a password as
a superior: used by the admin panel, ``flask create-committee``, the demo data
and the tests' factories, so all of them refuse the same things in the same
words.

Why a package of its own: the checks need the running application's
Flask-Security (its datastore, its username and password utilities, reached
through ``current_app.extensions["security"]``), which ``models`` must not depend
on; and they are not about who may do what, which is ``permissions``' job (the
admin view asks ``permissions`` whether the signed-in account may create an
account in a unit; the CLI and the demo data are the operator). It sits one
layer above ``models`` and beside ``workflow``, and imports nothing above it
(checked by import-linter in ``make lint``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_security import admin_change_password, hash_password
from sqlalchemy import select

# audit: imported for its flush hook, which logs every change to an account.
from accounts import audit as audit
from accounts import lockout, passwords, sessions
from models import Unit, User, rules

USERNAME_TAKEN = _l("This username is already taken.")
PASSWORDS_DIFFER = _l("The two passwords do not match.")
BAD_EMAIL = _l("Enter a valid e-mail address, e.g. name@example.com.")
UNIT_NAME_TAKEN = _l("Another unit under the same parent unit already has this name.")
DISPLAY_NAME_LABEL = _l("Full name")


class AccountRefused(ValueError):
    """The fields of a new account break a rule; ``errors`` maps field → message."""

    def __init__(self, errors: Mapping[str, Any]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def _security():
    # The Security instance bound to the running app, where Flask-Security
    # registers it (Flask's public extension registry).
    return current_app.extensions["security"]


def datastore_session():
    return _security().datastore.db.session


def username_errors(username: str | None) -> tuple[dict[str, Any], str | None]:
    """Errors of a new username and its normalized form (Flask-Security's: no
    surrounding blanks, NFKC, so ``ｂｊｃｍｅ`` is stored ``bjcme``): its
    character and length rules, then uniqueness ignoring case (the login
    looks usernames up case-insensitively, so ``BJCME`` beside ``bjcme``
    could never log in)."""
    if not username or not username.strip():
        return {"username": rules.REQUIRED}, None
    message, normalized = _security().username_util.validate(username)
    if message:
        return {"username": message}, None
    if _name_taken(normalized):
        return {"username": USERNAME_TAKEN}, normalized
    return {}, normalized


def _name_taken(name: str) -> bool:
    """Whether an account's username is ``name`` once both are normalised and
    case-folded (``lockout.name_key``), not only by the database's ``lower()``:
    SQLite's folds ASCII letters alone (``Émile`` beside ``émile``) and no
    database's makes ``STRASSE`` of ``straße``. Two such accounts would be one
    name to the login. Account creation is rare, so every username is read."""
    datastore = _security().datastore
    if datastore.find_user(case_insensitive=True, username=name) is not None:
        return True
    key = lockout.name_key(name)
    taken = datastore.db.session.scalars(select(User.username))
    return any(lockout.name_key(username) == key for username in taken)


def password_errors(
    password: str | None,
    confirm: str | None = None,
    *,
    typed_twice: bool = True,
    user: User | None = None,
    username: str | None = None,
    unit: Unit | None = None,
) -> tuple[dict[str, Any], str | None]:
    """Errors of a new password by the policy of ``accounts.passwords`` (length,
    zxcvbn's estimate, not the username, the unit's name or ``user``'s current
    password) and its normalized form; when ``typed_twice``, the confirmation
    must match. ``user`` is the account whose password a superior resets;
    ``username`` and ``unit`` those of an account being created."""
    if not password:
        return {"password": rules.REQUIRED}, None
    util = _security().password_util
    normalized = util.normalize(password)
    if user is not None:
        words = passwords.account_words(user)
    else:
        words = {"username": username, "unit_name": unit.name if unit is not None else None}
    if messages := passwords.policy_errors(normalized, **words):
        return {"password": "；".join(str(m) for m in messages)}, None
    if typed_twice and util.normalize(confirm or "") != normalized:
        return {"password_confirm": PASSWORDS_DIFFER}, None
    return {}, normalized


def email_error(value: str | None) -> Any:
    """None for an empty or well-formed address (no DNS look-up: the system
    sends no mail), else the message."""
    if not value:
        return None
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return BAD_EMAIL
    return None


def contact_errors(values: Mapping[str, Any]) -> dict[str, Any]:
    """Errors of an account's name, telephone and e-mail (new or edited)."""
    errors = {}
    if not (values.get("display_name") or "").strip():
        errors["display_name"] = rules.REQUIRED
    if message := rules.control_characters(values.get("display_name"), DISPLAY_NAME_LABEL):
        errors["display_name"] = message
    if values.get("phone") and (message := rules.phone(values["phone"])):
        errors["phone"] = message
    if message := rules.control_characters(values.get("phone"), rules.UNIT_LABELS["phone"]):
        errors["phone"] = message
    if message := email_error(values.get("email")):
        errors["email"] = message
    return errors


def new_account_errors(
    values: Mapping[str, Any], *, typed_twice: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every check of a new account's fields. Returns ``(errors, cleaned)``:
    ``cleaned`` holds the normalized username and password."""
    errors = contact_errors(values)
    user_errors, username = username_errors(values.get("username"))
    unit = values.get("unit")
    pass_errors, password = password_errors(
        values.get("password"),
        values.get("password_confirm"),
        typed_twice=typed_twice,
        username=username or values.get("username"),
        unit=unit if isinstance(unit, Unit) else None,
    )
    errors |= user_errors | pass_errors
    return errors, dict(values, username=username, password=password)


def unit_name_taken(session, name: str, parent: Unit | None, unit: Unit | None = None) -> bool:
    """Whether a sibling of ``unit`` under ``parent`` has ``name`` already (a
    database constraint, asked first so the answer can be shown next to the
    field). ``parent`` None means among committees."""
    stmt = select(Unit.id).where(
        Unit.name == name,
        Unit.parent_id == parent.id if parent is not None else Unit.parent_id.is_(None),
    )
    if unit is not None and unit.id is not None:
        stmt = stmt.where(Unit.id != unit.id)
    return session.scalar(stmt.limit(1)) is not None


def create_account(
    unit: Unit,
    *,
    username: str,
    display_name: str,
    password: str | None = None,
    password_hash: str | None = None,
    must_change_password: bool = True,
    check: bool = True,
    **fields: Any,
) -> User:
    """Add a new, active account of ``unit`` through Flask-Security's datastore
    (which sets ``fs_uniquifier``), flushed, not committed. Its role follows
    ``unit`` (``models.account``).

    ``password`` is hashed here; ``password_hash`` is a hash made once for
    many accounts (the demo data). With ``check`` (the default) the username
    and a plain password are checked as in :func:`new_account_errors` and
    :class:`AccountRefused` is raised; callers that have just run those checks
    on a form pass ``check=False``.
    """
    if check:
        errors, username = username_errors(username)
        if password is not None:
            pass_errors, password = password_errors(
                password, typed_twice=False, username=username, unit=unit
            )
            errors |= pass_errors
        if errors:
            raise AccountRefused(errors)
    if password is not None:
        password_hash = hash_password(password)
    datastore = _security().datastore
    user = datastore.create_user(
        username=username,
        display_name=display_name,
        unit=unit,
        password=password_hash,
        must_change_password=must_change_password,
        **fields,
    )
    datastore.db.session.flush()
    return user


def set_password_by_superior(user: User, password: str) -> None:
    """Set ``user``'s password as a superior: hashed, a new session identifier
    (``datastore.set_uniquifier``: every open session of the account ends),
    and a change required at the next login."""
    admin_change_password(user, password, notify=False)
    user.must_change_password = True
    sessions.end_all(datastore_session(), user)
