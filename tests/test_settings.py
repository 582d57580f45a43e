"""Settings in one place: every default in ``settings.DefaultConfig``, every variable an
operator may set read by one parser and listed in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

import settings
from app import create_app

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    path
    for path in ROOT.rglob("*.py")
    if not {".venv", "tests", "bench", "migrations", "tools", "deploy"} & set(path.parts)
    and path.name != "settings.py"
]
READ = re.compile(r"config(?:\.get\(|\[)\s*\"([A-Z][A-Z0-9_]+)\"")


def test_every_variable_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)(?:=[^`]*)?`", "\n".join(rows)))
    assert set(settings.ENVIRONMENT) - documented == set()


def test_every_setting_read_has_its_default_in_one_place():
    """A key read by the code has its default in DefaultConfig (or is Flask's or an
    extension's own, or derived), and no module sets a default of its own."""
    known = {name for name in vars(settings.DefaultConfig) if name.isupper()}
    known |= set(Flask.default_config)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    known |= set(app.config)  # what the extensions and ``settings.derive`` set
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        assert "config.setdefault(" not in source, f"{path.name} keeps a default of its own"
        for key in READ.findall(source):
            assert key in known, f"{path.relative_to(ROOT)} reads {key}, which has no default"


def test_the_environment_overrides_a_default_and_the_overrides_win(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    monkeypatch.setenv("EXPORT_KEEP_MINUTES", "5")
    monkeypatch.setenv("MAIL_USE_TLS", "true")
    monkeypatch.setenv("REDIS_TIMEOUT_MS", "250")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_TIMEOUT_MS": 100})
    assert app.config["EXPORT_KEEP_MINUTES"] == 5
    assert app.config["MAIL_USE_TLS"] is True
    assert app.config["REDIS_TIMEOUT_MS"] == 100
    assert app.config["EXPORT_BACKGROUND_ROWS"] == settings.DefaultConfig.EXPORT_BACKGROUND_ROWS


def test_redis_url_is_read_once_and_the_rest_follows(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    assert app.config["JOBS_MODE"] == "rq"
    assert app.config["CACHE_TYPE"] == "RedisCache"
    assert app.config["CACHE_REDIS_URL"] == app.config["RATELIMIT_STORAGE_URI"]
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/15"


@pytest.mark.parametrize("value", ["ten", "-1", "１０", "1.5"])
def test_a_number_that_is_not_one_stops_the_start_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("MAIL_PORT", value)
    with pytest.raises(RuntimeError, match="MAIL_PORT"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
