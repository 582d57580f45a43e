"""Login, logout, password changes and the account's session (Flask-Security-Too).

Passwords come from a superior (docs/domain.md#accounts): an account created or reset by one
carries ``must_change_password`` and sees only the change-password page until
it has chosen its own.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_security import LoginForm, current_user, logout_user, password_changed
from flask_security.utils import get_message

from accounts import lockout, login_security, sessions
from extensions import db, security

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
ADMIN_PREFIX = "/admin"


class UsernameLoginForm(LoginForm):
    """Flask-Security's login form, saying one thing for an unknown username
    and for a wrong password so that a failed login does not reveal which
    usernames exist. Once the password is right, the real reason (a disabled
    account) is shown. A username locked after too many failures is refused
    before its password is checked, known or not (``accounts.lockout``); there is
    no remember-me box, and a posted ``remember`` is ignored.

    The username is normalised and its account found once, first
    (``lockout.attempt``): the lock is checked, the failure counted and the
    password verified for that one account, whatever spelling of its name was
    typed (Flask-Security skips its own look-up when ``ifield`` is set)."""

    remember = None

    def validate(self, **kwargs) -> bool:
        tried = lockout.attempt(self.username.data)
        if tried.name:
            self.username.data, self.user, self.ifield = tried.name, tried.user, self.username
        if locked := login_security.locked_message(tried):
            self.form_errors.append(locked)
            return False
        if super().validate(**kwargs):
            return True
        if not self.user_authenticated and self._hide_which_credential_failed():
            locked = login_security.failed_login(tried)
            if locked:
                self.form_errors[:] = [locked]
        return False

    def _hide_which_credential_failed(self) -> bool:
        """True if a credential was presented and failed."""
        hidden = {get_message("USER_DOES_NOT_EXIST")[0], get_message("INVALID_PASSWORD")[0]}
        found = False
        for field in (self.username, self.password):
            kept = [error for error in field.errors if str(error) not in hidden]
            found = found or len(kept) != len(field.errors)
            field.errors = kept
        if found:
            self.form_errors.append(get_message("GENERIC_AUTHN_FAILED")[0])
        return found


def init_auth(app: Flask, datastore) -> None:
    """Bind Flask-Security to ``app`` with our login form, Chinese messages and
    the session rules: inactive accounts are signed out, and an account that
    must change its password is held on the change-password page."""
    # Our catalog last, so that our wording wins over the (incomplete) builtin one.
    app.config["SECURITY_I18N_DIRNAME"] = ["builtin", str(TRANSLATIONS)]
    security.init_app(app, datastore, login_form=UsernameLoginForm)
    login_security.init(app)
    security.context_processor(lambda: {"current_locale": str(get_locale())})
    password_changed.connect(_clear_forced_change, app)
    app.before_request(enforce_session_rules)


def enforce_session_rules():
    """Before every request: end the session of an account that can no longer
    log in (its unit was deactivated after it signed in), and send an account
    that must change its password to the change-password page."""
    if _is_static() or not current_user.is_authenticated:
        # Stylesheets and scripts need no account: no database query for them.
        return None
    if not current_user.is_active:
        # Flask-Security's session loader checks only the account's own flag.
        logout_user()
        return None
    if not sessions.is_live(db.session, current_user):
        # Logged out, idle too long or too old: whatever cookie came with it.
        logout_user()
        flash(str(login_security.EXPIRED_MESSAGE), "info")
        return None
    if current_user.must_change_password and _is_admin_page():
        return redirect(url_for("security.change_password"))
    return None


def _is_static() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def _is_admin_page() -> bool:
    return request.path.startswith(ADMIN_PREFIX)


def _clear_forced_change(app: Flask, user, **extra) -> None:
    # The signal also fires when a superior sets a password
    # (``admin_change_password``); only the owner's own change lifts the flag.
    # Outside a request (a command) there is no current user at all.
    if current_user and current_user.is_authenticated and current_user.id == user.id:
        user.must_change_password = False
        db.session.add(user)
