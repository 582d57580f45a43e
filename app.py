"""Application factory: ``create_app(config=None)``, one small step per concern.

Run with ``flask --app app run``; production runs ``gunicorn 'app:create_app()'``
(see the README's Production section).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from flask import Flask, redirect, request
from flask_security import SQLAlchemyUserDatastore, uia_username_mapper
from sqlalchemy import event
from sqlalchemy.engine import Engine

from extensions import babel, csrf, db, migrate
from models import Role, User
from receivers import connect_receivers

HERE = Path(__file__).resolve().parent
DEV_SECRET_KEY = "dev-only-secret-key-change-me"
LOCALES = ("zh_Hans_CN", "en")
LANG_COOKIE = "lang"
TRANSLATION_DOMAINS = ("messages", "panel", "accounts", "public")


class DefaultConfig:
    SECRET_KEY = DEV_SECRET_KEY
    # Mixed into every password hash: changing it locks every account out. Its own
    # setting (never derived from SECRET_KEY in production), so that the key can be
    # rotated; see docs/operations.md. Outside production it defaults to one derived from
    # the development key.
    SECURITY_PASSWORD_SALT = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    # One catalog (domain) per area of the product, merged: messages (domain
    # core), panel (project screens), accounts (login, units, users), public
    # (catalog and API).
    BABEL_DOMAIN = ";".join(TRANSLATION_DOMAINS)
    BABEL_TRANSLATION_DIRECTORIES = ";".join(
        [str(HERE / "translations")] * len(TRANSLATION_DOMAINS)
    )
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    WTF_CSRF_CHECK_DEFAULT = True
    SECURITY_USERNAME_ENABLE = True
    SECURITY_USERNAME_REQUIRED = True
    SECURITY_USERNAME_ALLOWED_CHARS = ["L", "N", "Pc", "Pd"]
    SECURITY_USERNAME_MIN_LENGTH = 3
    SECURITY_USER_IDENTITY_ATTRIBUTES = [
        {"username": {"mapper": uia_username_mapper, "case_insensitive": True}}
    ]
    SECURITY_PASSWORD_HASH = "argon2"
    SECURITY_PASSWORD_SCHEMES = ["argon2"]
    SECURITY_DEPRECATED_PASSWORD_SCHEMES = []
    SECURITY_PASSWORD_LENGTH_MIN = 10
    SECURITY_REGISTERABLE = False
    SECURITY_RECOVERABLE = False
    SECURITY_CHANGEABLE = True
    SECURITY_SEND_PASSWORD_CHANGE_EMAIL = False
    SECURITY_TRACKABLE = False
    SECURITY_POST_LOGIN_VIEW = "/admin/"
    SECURITY_POST_LOGOUT_VIEW = "/"
    SECURITY_POST_CHANGE_VIEW = "/admin/"
    SECURITY_LOGOUT_METHODS = ["POST"]
    SECURITY_I18N_DOMAIN = "flask_security"
    # The largest request body (answered 413, in Chinese): above the import's 10 MB
    # upload, far below anything that could exhaust a worker. Form fields other
    # than files stay within Werkzeug's MAX_FORM_MEMORY_SIZE (500 kB).
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    EXPORT_MAX_ROWS = 100_000
    # The project lists count their rows (the pager's total, each status tab) up to this
    # many ("超过 1,000 个项目", "1000+" above it): a count then reads at most this many
    # rows however many projects the account sees, about what a 2,000-project
    # installation reads in full. Exports, bulk actions and 统计 count exactly.
    LIST_COUNT_CAP = 1_000
    # An XLSX file is built whole inside the request. Measured through the panel on a
    # 2-core machine: 1,700 rows per CPU-second, 450-700 rows/s wall-clock under load, so
    # 20,000 rows take 12 CPU-seconds and 30-45 s at worst, well inside gunicorn's
    # --timeout 120 (docs/operations.md). CSV streams at 3,000-5,000 rows/s.
    EXPORT_XLSX_MAX_ROWS = 20_000
    # The support contact shown on the help page, the panel's footer and the
    # error pages; empty hides it. Set in the environment (SUPPORT_PHONE,
    # SUPPORT_EMAIL); `make run` sets the demo's.
    SUPPORT_PHONE = ""
    SUPPORT_EMAIL = ""


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
    app.config.from_object(DefaultConfig)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    env = os.environ
    app.config["SQLALCHEMY_DATABASE_URI"] = env.get("DATABASE_URL") or (
        f"sqlite:///{Path(app.instance_path) / 'cme.sqlite'}"
    )
    for key in ("SECRET_KEY", "SECURITY_PASSWORD_SALT"):
        if key in env:
            app.config[key] = env[key]
    for key in ("SUPPORT_PHONE", "SUPPORT_EMAIL"):
        if key in env:
            app.config[key] = env[key]
    app.config["PRODUCTION"] = env.get("CME_ENV") == "production"
    app.config.update(overrides)
    if app.config["PRODUCTION"] and app.config["SECRET_KEY"] == DEV_SECRET_KEY:
        raise RuntimeError("Set SECRET_KEY in the environment: production refuses the default key.")
    if app.config["PRODUCTION"] and "SESSION_COOKIE_SECURE" not in overrides:
        app.config["SESSION_COOKIE_SECURE"] = True
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

    # Messages and mail when projects move (connected to the engine's signal on import).
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
