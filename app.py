"""Application factory: ``create_app(config=None)``, one small step per concern.

Run with ``flask --app app run``; production runs ``gunicorn 'app:create_app()'``
(see the README's Production section).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import Flask, redirect, request
from flask_security import SQLAlchemyUserDatastore
from sqlalchemy import event
from sqlalchemy.engine import Engine

import settings
from extensions import babel, csrf, db, migrate
from models import Role, User
from receivers import connect_receivers
from settings import DEV_SECRET_KEY, HERE, DefaultConfig

LOCALES = ("zh_Hans_CN", "en")
LANG_COOKIE = "lang"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    # The writes the engine's signals and the session's events set off (receivers.py).
    connect_receivers()
    configure_settings(app, config or {})
    configure_database(app)
    configure_i18n(app)
    configure_security(app)
    configure_headers(app)
    configure_views(app)
    configure_errors(app)
    configure_cli(app)
    return app


def configure_settings(app: Flask, overrides: dict) -> None:
    """Defaults, then the environment, then ``overrides``; then what follows from them
    (``settings``: every key, its default and its variable)."""
    app.config.from_object(DefaultConfig)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    settings.from_environment(app.config)
    app.config.update(overrides)
    settings.derive(app.config, app.instance_path, overrides)
    if app.config["PRODUCTION"] and app.config["SECRET_KEY"] == DEV_SECRET_KEY:
        raise RuntimeError("Set SECRET_KEY in the environment: production refuses the default key.")
    if app.config["PRODUCTION"] and not app.config["SECURITY_PASSWORD_SALT"]:
        raise RuntimeError(
            "Set SECURITY_PASSWORD_SALT in the environment: production refuses to derive it"
            " from SECRET_KEY (rotating the key would lock every account out)."
        )
    app.config["SECURITY_PASSWORD_SALT"] = app.config["SECURITY_PASSWORD_SALT"] or (
        "salt:" + app.config["SECRET_KEY"]
    )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite enforces foreign keys (and so cascades) only when asked, per connection."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


@event.listens_for(Engine, "handle_error")
def _discard_readonly_connections(context) -> None:
    """A SQLite connection opened while the file was read-only stays read-only: treat
    "attempt to write a readonly database" as a lost connection, so the pool discards it
    (and every connection opened before it) instead of failing each later write too."""
    original = context.original_exception
    if isinstance(original, sqlite3.OperationalError) and "readonly database" in str(original):
        context.is_disconnect = True


def configure_database(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(HERE / "migrations"), render_as_batch=True)
    # XLSX work directories a killed worker left in the temporary folder.
    import exports

    exports.remove_leftover_workdirs()


def select_locale() -> str:
    # A cookie rather than the session, so the choice survives logging out.
    chosen = request.cookies.get(LANG_COOKIE) if request else None
    return chosen if chosen in LOCALES else LOCALES[0]


def configure_i18n(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)

    @app.get("/lang/<code>")
    def set_language(code: str):
        target = request.referrer or "/"
        response = redirect(target if target.startswith(request.host_url) else "/")
        if code in LOCALES:
            response.set_cookie(
                LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
            )
        return response


def configure_security(app: Flask) -> None:
    # CSRFProtect before Security (Flask-Security docs); no SecureForm anywhere.
    csrf.init_app(app)
    from accounts.auth import init_auth

    init_auth(app, SQLAlchemyUserDatastore(db, User, Role))


def configure_headers(app: Flask) -> None:
    """Content-Security-Policy, HSTS (production), the other browser protections and
    ProxyFix behind the production proxy: one hook, ``security_headers``."""
    import security_headers

    security_headers.init_app(app)


def configure_views(app: Flask) -> None:
    import notifications
    from admin_views import init_admin
    from admin_views.base import IdConverter
    from public import init_public

    # ``<id:…>``: every row id in a path, bounded like the query's (before any route).
    app.url_map.converters["id"] = IdConverter

    # Messages and mail when projects move (the receiver is connected by receivers.py).
    notifications.init_app(app)
    init_admin(app)
    init_public(app)

    @app.get("/favicon.ico")
    def favicon():
        # Browsers ask for it on every page; answer without a logged 404.
        return "", 204


def configure_errors(app: Flask) -> None:
    """Error pages in the user's language and layout; JSON under /api/."""
    from errors import init_errors

    init_errors(app)


def configure_cli(app: Flask) -> None:
    from cli import register

    register(app)
