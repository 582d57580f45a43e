"""Faults outside the workflow: a database that cannot be reached, a worker killed in the
middle of an XLSX export, a password salt that changed (issue 14, defects 8, 10, 11)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

import errors
import exports
from app import create_app
from extensions import db
from models import Setting, Unit

ROOT = Path(__file__).resolve().parent.parent


# -- defect 10: outage pages ------------------------------------------------------------------
def _unreachable_urls(tmp_path) -> dict[str, str]:
    return {
        # Nothing listens on port 1: the connection is refused at once.
        "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/cme?connect_timeout=2",
        "sqlite": f"sqlite:///{tmp_path / 'no-such-directory' / 'cme.sqlite'}",
    }


@pytest.fixture(params=["postgresql", "sqlite"])
def outage_app(request, tmp_path, monkeypatch):
    monkeypatch.setattr(errors, "outage_log", errors.OutageLog(interval=3600))
    url = _unreachable_urls(tmp_path)[request.param]
    settings = {"SECRET_KEY": "outage", "SQLALCHEMY_DATABASE_URI": url}
    # The session cookie below is made by the test, not by a login from this client.
    return create_app(settings | {"SESSION_PROTECTION": None})


def _signed_in_client(app):
    client = app.test_client()
    # A signed-in browser: its cookie names an account, which is looked up in the database.
    with client.session_transaction() as session:
        session["_user_id"] = "someone"
        session["_fresh"] = True
    return client


@pytest.mark.parametrize("path", ["/", "/projects/1", "/admin/", "/admin/projects/"])
def test_pages_during_an_outage_are_a_chinese_503(outage_app, path):
    response = _signed_in_client(outage_app).get(path)
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    page = response.get_data(as_text=True)
    assert "暂时无法连接数据库，请稍后再试" in page
    for leak in ("Traceback", "OperationalError", "psycopg", "sqlite3", "Internal Server Error"):
        assert leak not in page


def test_the_api_during_an_outage_answers_json_503(outage_app):
    response = outage_app.test_client().get("/api/v1/projects")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["error"]["code"] == "service_unavailable"


def test_an_outage_logs_one_line_per_kind_not_a_traceback_per_request(outage_app, caplog):
    client = _signed_in_client(outage_app)
    with caplog.at_level(logging.INFO):
        for _ in range(20):
            assert client.get("/").status_code == 503
            assert client.get("/admin/projects/").status_code == 503
    assert [r for r in caplog.records if r.exc_info] == []
    outage_lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(outage_lines) == 1


def test_the_outage_log_says_how_many_it_left_out(caplog):
    now = [100.0]
    log = errors.OutageLog(interval=60, clock=lambda: now[0])
    with caplog.at_level(logging.ERROR):
        assert log.report("OperationalError", "refused")
        now[0] += 59
        assert not log.report("OperationalError", "refused")
        assert log.report("InterfaceError", "closed")
        now[0] += 1
        assert log.report("OperationalError", "refused")
    assert "[1 more like it" in caplog.records[-1].getMessage()


# -- defect 11: killed XLSX exports leave no temporary files --------------------------------
KILLED_EXPORT = textwrap.dedent(
    """
    import os, signal
    from flask import Flask
    import exports

    def rows():
        for n in range(100_000):
            if n == 3_000:  # the worker is killed (gunicorn's timeout, OOM) mid-export
                os.kill(os.getpid(), signal.SIGKILL)
            yield (n, "心血管疾病诊疗进展学习班" * 3)

    with Flask("killed").app_context():
        exports.xlsx_response("项目.xlsx", ["序号", "名称"], rows(), max_rows=0)
    """
)


def test_a_killed_xlsx_export_leaves_nothing_after_the_next_start(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch), PYTHONPATH=str(ROOT))
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_EXPORT], cwd=ROOT, env=env, capture_output=True
    )
    assert killed.returncode == -9, killed.stderr.decode()
    left = list(scratch.iterdir())
    assert [p.name for p in left if p.name.startswith("openpyxl")] == []
    # Only our work directory, named with the dead worker's process id; no stray file of
    # openpyxl's (it removes those only when the interpreter exits normally).
    assert [p.name.startswith(exports.WORKDIR_PREFIX) and p.is_dir() for p in left] == [True]
    # An export in progress in this (live) process is not touched.
    live = Path(tempfile.mkdtemp(prefix=f"{exports.WORKDIR_PREFIX}{os.getpid()}-", dir=scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert list(scratch.iterdir()) == [live]


def test_a_finished_xlsx_export_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    from flask import Flask

    with Flask("done").app_context():
        response = exports.xlsx_response("项目.xlsx", ["n"], ((n,) for n in range(500)))
        assert b"".join(response.response)[:2] == b"PK"
        response.close()
    assert list(tmp_path.iterdir()) == []


# -- defect 8: the password salt ---------------------------------------------------------------
def test_production_refuses_to_start_without_its_own_password_salt(monkeypatch):
    monkeypatch.setenv("CME_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-from-the-environment")
    monkeypatch.delenv("SECURITY_PASSWORD_SALT", raising=False)
    with pytest.raises(RuntimeError, match="SECURITY_PASSWORD_SALT"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("SECURITY_PASSWORD_SALT", "a-salt-of-its-own")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECURITY_PASSWORD_SALT"] == "a-salt-of-its-own"


def test_the_salt_does_not_follow_the_key(monkeypatch):
    """Rotating SECRET_KEY keeps every password working when the salt is set."""
    from flask_security import hash_password, verify_password

    monkeypatch.setenv("SECURITY_PASSWORD_SALT", "kept")
    old = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "old-key"})
    new = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "new-key"})
    with old.app_context():
        stored = hash_password("demo-pass-2026")
    with new.app_context():
        assert verify_password("demo-pass-2026", stored)


def _create_committee(app, name: str):
    return app.test_cli_runner().invoke(
        args=[
            "create-committee",
            *("--name", name, "--address", "北京市东城区", "--manager", "张主任"),
            *("--phone", "010-12345678", "--postal-code", "100005"),
            *("--username", f"u{abs(hash(name)) % 10**8}", "--password", "Zq8#mV2k!pLr"),
        ]
    )


def test_commands_refuse_a_salt_other_than_the_databases(app_on_empty_db, session):
    app = app_on_empty_db
    first = _create_committee(app, "天津市继续医学教育委员会")
    assert first.exit_code == 0, first.output
    assert session.get(Setting, "password_salt") is not None
    salt = app.config["SECURITY_PASSWORD_SALT"]
    app.config["SECURITY_PASSWORD_SALT"] = "another-salt"
    try:
        refused = _create_committee(app, "河北省继续医学教育委员会")
        seeded = app.test_cli_runner().invoke(args=["seed-demo"])
    finally:
        app.config["SECURITY_PASSWORD_SALT"] = salt
    for result in (refused, seeded):
        assert result.exit_code != 0
        assert "SECURITY_PASSWORD_SALT" in result.output
    db.session.rollback()
    assert session.scalar(select(func.count()).select_from(Unit)) == 1
    again = _create_committee(app, "河北省继续医学教育委员会")
    assert again.exit_code == 0, again.output
