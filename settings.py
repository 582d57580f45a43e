"""Every setting in one place: its default (``DefaultConfig``), the ones an operator may
give in the environment (``ENVIRONMENT``, read by one parser), and the few derived from
others (``derive``). ``app.configure_settings`` applies them in that order, then the
``create_app(config)`` overrides: default < environment < overrides. Modules read
``app.config[KEY]`` and keep no defaults of their own; the README's configuration table
lists every variable of ``ENVIRONMENT`` (``tests/test_settings.py`` checks it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path

from flask_security import uia_username_mapper

HERE = Path(__file__).resolve().parent
DEV_SECRET_KEY = "dev-only-secret-key-change-me"
TRANSLATION_DOMAINS = (
    "messages",
    "panel",
    "accounts",
    "public",
    "execution",
    "certificates",
    "calendar",
)
USERNAME_CHARS_MESSAGE = "Username can contain only letters, numbers, underscores and hyphens"


class DefaultConfig:
    # -- keys, database, production ------------------------------------------------------
    SECRET_KEY = DEV_SECRET_KEY
    # Mixed into every password hash: changing it locks every account out. Its own
    # setting (never derived from SECRET_KEY in production), so that the key can be
    # rotated; see docs/operations.md. Outside production it defaults to one derived from
    # the development key.
    SECURITY_PASSWORD_SALT = None
    # None: SQLite in the instance folder (``derive``).
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    PRODUCTION = False
    # The public address (links in mails and in the API's answers); empty: relative links.
    SITE_URL = ""
    # How many proxies in front set X-Forwarded-For / -Proto (0: none trusted).
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    # -- language ------------------------------------------------------------------------
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    # One catalog (domain) per area of the product, merged: messages (domain
    # core), panel (project screens), accounts (login, units, users), public
    # (catalog and API).
    BABEL_DOMAIN = ";".join(TRANSLATION_DOMAINS)
    BABEL_TRANSLATION_DIRECTORIES = ";".join(
        [str(HERE / "translations")] * len(TRANSLATION_DOMAINS)
    )
    # -- cookies, CSRF, Flask-Security -----------------------------------------------------
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    # A session cookie replayed from another client (address, browser) is dropped.
    SESSION_PROTECTION = "strong"
    WTF_CSRF_CHECK_DEFAULT = True
    SECURITY_USERNAME_ENABLE = True
    SECURITY_USERNAME_REQUIRED = True
    SECURITY_USERNAME_ALLOWED_CHARS = ["L", "N", "Pc", "Pd"]
    SECURITY_USERNAME_MIN_LENGTH = 3
    # The stock wording ("only letters and numbers") is wrong for the allowed characters.
    SECURITY_MSG_USERNAME_DISALLOWED_CHARACTERS = (USERNAME_CHARS_MESSAGE, "error")
    SECURITY_USER_IDENTITY_ATTRIBUTES = [
        {"username": {"mapper": uia_username_mapper, "case_insensitive": True}}
    ]
    SECURITY_PASSWORD_HASH = "argon2"
    SECURITY_PASSWORD_SCHEMES = ["argon2"]
    SECURITY_DEPRECATED_PASSWORD_SCHEMES = []
    SECURITY_PASSWORD_LENGTH_MIN = 10
    # Length and zxcvbn's estimate through Flask-Security's own settings; the rest of
    # the policy is in ``accounts.passwords``.
    SECURITY_PASSWORD_COMPLEXITY_CHECKER = "zxcvbn"
    SECURITY_ZXCVBN_MINIMUM_SCORE = 3
    SECURITY_REGISTERABLE = False
    SECURITY_RECOVERABLE = False
    SECURITY_CHANGEABLE = True
    SECURITY_SEND_PASSWORD_CHANGE_EMAIL = False
    SECURITY_TRACKABLE = False
    SECURITY_POST_LOGIN_VIEW = "/admin/"
    SECURITY_POST_LOGOUT_VIEW = "/"
    SECURITY_POST_CHANGE_VIEW = "/admin/"
    SECURITY_LOGOUT_METHODS = ["POST"]
    SECURITY_LOGOUT_CSRF = True
    SECURITY_I18N_DOMAIN = "flask_security"
    # Remember-me is off: the form has no box and a posted ``remember=y`` is ignored.
    SECURITY_DEFAULT_REMEMBER_ME = False
    # Only the session cookie authenticates; tokens are neither issued nor read.
    SECURITY_API_ENABLED_METHODS = ["session"]
    # -- logins: lockout, rate limits, sessions (docs/security.md) ---------------------------
    LOGIN_LOCKOUT_FAILURES = 10
    LOGIN_LOCKOUT_WINDOW = timedelta(minutes=15)
    LOGIN_LOCKOUT_DURATION = timedelta(minutes=15)
    LOGIN_RATE_LIMIT_PER_USERNAME = "20 per minute"
    LOGIN_RATE_LIMIT_PER_ADDRESS = "30 per minute;200 per hour"
    PASSWORD_CHANGE_RATE_LIMIT = "5 per minute"
    # 现场签到's public form (public/signin.py), every POST per client address: a venue's
    # Wi-Fi puts a whole hall behind one address.
    SIGNIN_RATE_LIMIT = "60 per minute;600 per hour"
    # 证书验证 and 学分记录 (public/verify.py), per client address: every lookup of a code,
    # a number + name or the API shares VERIFY_RATE_LIMIT (so that the code space cannot
    # be walked); a learner's ID + name CREDITS_RATE_LIMIT; a bulk file of up to 5,000.
    VERIFY_RATE_LIMIT = "60 per minute"
    CREDITS_RATE_LIMIT = "10 per minute"
    BULK_VERIFY_RATE_LIMIT = "5 per minute"
    # Flask-Security's re-authentication page would take /verify (its default address).
    SECURITY_VERIFY_URL = "/login/verify"
    RATELIMIT_KEY_PREFIX = "cme"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_MAX_AGE = timedelta(hours=12)
    # last_seen_at is written at most this often (not on every request).
    SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
    # -- requests, lists, exports, import ----------------------------------------------------
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
    # The child process that reads an uploaded import file: address space and time.
    IMPORT_READ_MEMORY_MB = 1024
    IMPORT_READ_SECONDS = 60
    # -- the filing year -----------------------------------------------------------------------
    # A project's dates may fall until the 31 December of this many years after Beijing's
    # today (1: next year's end); the form and the import refuse later ones
    # (``models.rules.horizon``).
    FILING_HORIZON_YEARS = 1
    # -- background jobs (docs/operations.md, "Background exports") ----------------------
    REDIS_URL = None
    # None: "rq" with REDIS_URL, else "thread" (``derive``); tests use "sync".
    JOBS_MODE = None
    # None: instance/jobs (``derive``); shared by the web and job workers.
    JOBS_DIR = None
    EXPORT_BACKGROUND_ROWS = 20_000
    # A report's certificates as one ZIP: written at once up to this many, above it a job
    # (a PDF page takes about 0.1 s to draw).
    CERTIFICATE_ZIP_BACKGROUND = 200
    EXPORT_KEEP_MINUTES = 60
    # Largest job the web process runs in a thread of its own when Redis is down.
    EXPORT_FALLBACK_ROWS = 50_000
    JOB_HEARTBEAT_SECONDS = 10
    JOB_STALE_SECONDS = 120
    JOB_QUEUED_SECONDS = 300
    # Tests only: a job waits this long once it has started (to be killed while it runs).
    JOBS_TEST_PAUSE_SECONDS = 0
    # -- the public catalog's cache (docs/operations.md, "Redis down") --------------------
    CATALOG_CACHE_SECONDS = 600
    CATALOG_CACHE_RETRY_SECONDS = 5
    REDIS_TIMEOUT_MS = 300
    CACHE_KEY_PREFIX = "cme:"
    # None: a short timeout and one retry from REDIS_TIMEOUT_MS (``public.catalog``).
    CACHE_OPTIONS = None
    # -- notifications and mail (docs/notifications.md) ----------------------------------
    NOTIFICATIONS_ENABLED = True
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_TIMEOUT = 10
    MAIL_DEFAULT_SENDER = "noreply@localhost"
    MAIL_RETRY_SECONDS = 60
    # Flask-Mailman keeps mail in memory under TESTING; we always speak SMTP (the tests
    # run a real SMTP server).
    MAIL_BACKEND = "smtp"
    # -- the support contact on the help page, the footer and the error pages --------------
    # Empty hides it; `make run` sets the demo's.
    SUPPORT_PHONE = ""
    SUPPORT_EMAIL = ""


# -- the environment ----------------------------------------------------------------------


def text(name: str, value: str) -> str:
    return value


def count(name: str, value: str) -> int:
    """A whole number of 0 or more, in ASCII digits; anything else stops the start with a
    message naming the variable, so that a typo neither keeps the default silently nor
    means something else."""
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        raise RuntimeError(f"{name} must be a whole number of 0 or more, not {value!r}.")
    return int(value)


def flag(name: str, value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def production(name: str, value: str) -> bool:
    return value.strip() == "production"


#: Environment variable → (configuration key, parser).
ENVIRONMENT: dict[str, tuple[str, Callable[[str, str], object]]] = {
    "CME_ENV": ("PRODUCTION", production),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", text),
    **{
        name: (name, parse)
        for name, parse in {
            "SECRET_KEY": text,
            "SECURITY_PASSWORD_SALT": text,
            "SITE_URL": text,
            "PROXY_FIX_X_FOR": count,
            "PROXY_FIX_X_PROTO": count,
            "SUPPORT_PHONE": text,
            "SUPPORT_EMAIL": text,
            "REDIS_URL": text,
            "REDIS_TIMEOUT_MS": count,
            "CATALOG_CACHE_RETRY_SECONDS": count,
            "IMPORT_READ_MEMORY_MB": count,
            "IMPORT_READ_SECONDS": count,
            "FILING_HORIZON_YEARS": count,
            "JOBS_DIR": text,
            "EXPORT_BACKGROUND_ROWS": count,
            "CERTIFICATE_ZIP_BACKGROUND": count,
            "EXPORT_KEEP_MINUTES": count,
            "EXPORT_FALLBACK_ROWS": count,
            "JOB_HEARTBEAT_SECONDS": count,
            "JOB_STALE_SECONDS": count,
            "JOB_QUEUED_SECONDS": count,
            "JOBS_TEST_PAUSE_SECONDS": count,
            "MAIL_SERVER": text,
            "MAIL_PORT": count,
            "MAIL_USERNAME": text,
            "MAIL_PASSWORD": text,
            "MAIL_USE_TLS": flag,
            "MAIL_USE_SSL": flag,
            "MAIL_DEFAULT_SENDER": text,
            "MAIL_TIMEOUT": count,
        }.items()
    },
}


def from_environment(config, environ: Mapping[str, str] = os.environ) -> None:
    """Each variable of ``ENVIRONMENT`` that is set (and not blank), parsed into its key."""
    for variable, (key, parse) in ENVIRONMENT.items():
        value = environ.get(variable)
        if value is not None and value.strip():
            config[key] = parse(variable, value)


def derive(config, instance_path: str, given: Mapping) -> None:
    """The settings that follow from others, unless ``given`` (the overrides) names them."""
    redis_url = config["REDIS_URL"]
    derived = {
        "SQLALCHEMY_DATABASE_URI": config["SQLALCHEMY_DATABASE_URI"]
        or f"sqlite:///{Path(instance_path) / 'cme.sqlite'}",
        "JOBS_MODE": config["JOBS_MODE"] or ("rq" if redis_url else "thread"),
        "JOBS_DIR": config["JOBS_DIR"] or str(Path(instance_path) / "jobs"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "CACHE_TYPE": "RedisCache" if redis_url else "SimpleCache",
        "CACHE_REDIS_URL": redis_url,
        "CACHE_DEFAULT_TIMEOUT": config["CATALOG_CACHE_SECONDS"],
        # Production: cookies only over HTTPS.
        "SESSION_COOKIE_SECURE": bool(config["PRODUCTION"]) or config.get("SESSION_COOKIE_SECURE"),
    }
    for key, value in derived.items():
        if key not in given:
            config[key] = value
    _check_heartbeat(config["JOB_HEARTBEAT_SECONDS"], config["JOB_STALE_SECONDS"])


def _check_heartbeat(beat, stale) -> None:
    """A job's heartbeat at least every second and a job taken for dead no sooner than
    three heartbeats missed (else a running job would be taken for a dead one between
    two of its heartbeats)."""
    if beat < 1 or stale < 3 * beat:
        raise RuntimeError(
            "JOB_HEARTBEAT_SECONDS must be at least 1 and JOB_STALE_SECONDS at least three"
            f" times it (now {beat} and {stale})."
        )
