"""What stands between an attacker and an account: rate limits on the login and
change-password pages (Flask-Limiter), the lockout and the server-side sessions
of ``accounts``, the security log's login entries, no remember-me cookie and no
authentication token.

Rate limits (only failed attempts are counted, so an office behind one address
can still sign in at nine o'clock):

- ``LOGIN_RATE_LIMIT_PER_USERNAME`` (default ``20 per minute``, above the lockout's 10) per
  username, known or not, in its one spelling (``lockout.name_key``: ``ＴＣＭ_ａｃｕ`` is
  ``tcm_acu``), from the form or the JSON login;
- ``LOGIN_RATE_LIMIT_PER_ADDRESS`` (default ``30 per minute;200 per hour``)
  per client address: a password spray over many usernames from one address;
- ``PASSWORD_CHANGE_RATE_LIMIT`` (default ``5 per minute``) per account and per
  address on the change-password page (its current-password field is a guess too).

The counts live in Redis when ``REDIS_URL`` is set, so that every worker shares
them; in memory otherwise (one process: development and tests). If Redis cannot
be reached, each worker counts in its own memory until it can again: the app
keeps answering. Over the limit: HTTP 429 with the Chinese error page.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, request, session
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import user_logged_out
from flask_security import current_user, password_changed, user_authenticated

from accounts import audit, lockout, sessions
from extensions import db, new_limiter
from models import AuditEvent, utcnow

LOCKED_MESSAGE = _l(
    "Too many failed logins: this username is locked for now. Try again in %(minutes)s"
    " minutes, or ask your superior unit to unlock the account."
)
EXPIRED_MESSAGE = _l("Your session has ended. Log in again.")


def init(app: Flask) -> Limiter:
    """After ``security.init_app``: limits on Flask-Security's views, the
    signal handlers, token authentication switched off."""
    # One limiter per app (its storage comes from that app's settings).
    limiter = new_limiter()
    limiter.init_app(app)
    _limit(
        app,
        "security.login",
        _by_key_and_address(
            limiter,
            ("LOGIN_RATE_LIMIT_PER_USERNAME", _typed_username, "login-username"),
            ("LOGIN_RATE_LIMIT_PER_ADDRESS", "login-address"),
        ),
    )
    _limit(
        app,
        "security.change_password",
        _by_key_and_address(
            limiter,
            ("PASSWORD_CHANGE_RATE_LIMIT", _account_key, "change-account"),
            ("PASSWORD_CHANGE_RATE_LIMIT", "change-address"),
        ),
    )
    # Flask-Security registers Flask-Login's request loader, which reads a token
    # from a header or the query string on every request whatever
    # SECURITY_API_ENABLED_METHODS says: nothing but the session signs anyone in.
    app.login_manager.request_loader(lambda _request: None)
    app.before_request(_refuse_token_requests)
    user_authenticated.connect(_on_authenticated, app)
    user_logged_out.connect(_on_logged_out, app)
    password_changed.connect(_on_password_changed, app)
    return limiter


def _by_key_and_address(limiter, by_key: tuple, by_address: tuple) -> list:
    """Two limits of a form's POSTs: one per key (``(setting, key function, scope)``:
    the typed username, the account) and one per client address (``(setting, scope)``).
    Only a failed POST counts: a redirect is success."""
    failed = lambda response: response.status_code != 302  # noqa: E731
    (key_setting, key_func, key_scope), (address_setting, address_scope) = by_key, by_address
    return [
        limiter.limit(
            _setting(key_setting),
            key_func=key_func,
            methods=["POST"],
            deduct_when=failed,
            scope=key_scope,
        ),
        limiter.limit(
            _setting(address_setting), methods=["POST"], deduct_when=failed, scope=address_scope
        ),
    ]


def _limit(app: Flask, endpoint: str, decorators) -> None:
    view = app.view_functions[endpoint]
    for decorator in decorators:
        view = decorator(view)
    app.view_functions[endpoint] = view


def _setting(name: str):
    return lambda: current_app.config[name]


def _typed_username() -> str:
    return "username:" + lockout.name_key(_posted_username())


def _posted_username():
    """The username of a login, posted as a form or as JSON (Flask-Security
    reads either; a JSON login must not share one count with every other)."""
    if request.is_json:
        body = request.get_json(silent=True)
        return body.get("username") if isinstance(body, dict) else None
    return request.form.get("username")


def _account_key() -> str:
    return f"account:{current_user.get_id() or get_remote_address()}"


def _refuse_token_requests():
    if "include_auth_token" in request.args:
        abort(400)


# -- the login form's side ------------------------------------------------------
def locked_message(tried: lockout.Attempt) -> str | None:
    """The login page's answer while the account (or, for a name no account
    has, the name) is locked, or None; the refusal is logged."""
    until = lockout.locked_until(db.session, tried.key)
    if until is None:
        return None
    audit.record(db.session, AuditEvent.LOGIN_LOCKED_OUT, user=tried.user, username=tried.typed)
    db.session.commit()
    return _locked_text(until)


def _locked_text(until) -> str:
    minutes = max(1, -(-int((until - utcnow()).total_seconds()) // 60))
    return str(LOCKED_MESSAGE % {"minutes": minutes})


def failed_login(tried: lockout.Attempt) -> str | None:
    """Count a failed login and commit it with its log entries; the locked
    message if this failure locked the account or name."""
    locked = lockout.record_failure(db.session, tried)
    db.session.commit()
    if not locked:
        return None
    return _locked_text(lockout.locked_until(db.session, tried.key) or utcnow())


# -- signals --------------------------------------------------------------------
def _on_authenticated(app: Flask, user, authn_via=(), **extra) -> None:
    # Committed by Flask-Security's view with the login itself.
    if "password" in (authn_via or ()):
        lockout.clear(db.session, user)
        audit.record(db.session, AuditEvent.LOGIN, user=user)
    sessions.start(db.session, user)


def _on_logged_out(app: Flask, user=None, **extra) -> None:
    if sessions.SESSION_KEY not in session:
        return
    sessions.end_current(db.session)
    if request.endpoint == "security.logout" and user is not None:
        audit.record(db.session, AuditEvent.LOGOUT, user=user)
    db.session.commit()


def _on_password_changed(app: Flask, user, **extra) -> None:
    # The owner's own change (a superior's reset ends every session in
    # ``accounts.set_password_by_superior``).
    if current_user and current_user.is_authenticated and current_user.id == user.id:
        sessions.end_others(db.session, user)
