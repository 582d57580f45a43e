"""The command line, the migrations and the application factory."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_security import verify_password
from sqlalchemy import inspect, select, text

from app import DEV_SECRET_KEY, create_app
from extensions import db
from models import Base, Project, ProjectState, StateAssignmentError, User, search_index
from models.account import ROLE_OF_KIND
from tests.factories import make_project

ROOT = Path(__file__).resolve().parent.parent


def _dump(session) -> dict[str, list]:
    """Every table's rows, without the columns that record when or a random token."""
    volatile = {
        "created_at",
        "updated_at",
        "reported_at",
        "published_at",
        "fs_uniquifier",
        "password",
    }
    dump = {}
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name not in volatile]
        rows = session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
        dump[table.name] = [tuple(row) for row in rows]
    return dump


def test_seed_demo_twice_changes_nothing(app_on_empty_db, session):
    runner = app_on_empty_db.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "35 projects, 13 execution reports" in first.output
    before = _dump(session)
    session.remove()
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "nothing changed" in second.output
    assert _dump(session) == before
    accounts = {u.username: u for u in session.scalars(select(User))}
    assert set(accounts) == {"bjcme", "bma", "bjtcm", "bma_cardio", "bma_peds", "tcm_acu", "pumch"}
    assert all(verify_password("demo-pass-2026", u.password) for u in accounts.values())
    assert not any(u.must_change_password for u in accounts.values())
    states = set(session.scalars(select(Project.state)))
    assert states == set(ProjectState)
    years = set(session.scalars(select(Project.year)))
    assert len(years) == 2
    if_empty = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "not added" in if_empty.output


def test_migrations_match_the_models(app_on_empty_db):
    """The schema built by the migrations (the ``app`` fixture runs them on an
    empty database) is what the models declare: autogenerate finds nothing."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": search_index.outside_models}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == []
    # The search index's FTS5 tables (SQLite) live outside the models.
    tables = {
        t for t in inspect(db.engine).get_table_names() if not t.startswith(search_index.TABLES)
    }
    assert {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"} == tables
    with db.engine.connect() as conn:
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert current == ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def test_roles_follow_the_unit(demo_accounts, session):
    for user in demo_accounts.values():
        assert [r.name for r in user.roles] == [ROLE_OF_KIND[user.unit.kind].value]
    assert demo_accounts["bjcme"].has_permission("project-audit")
    assert not demo_accounts["bma"].has_permission("project-audit")
    assert demo_accounts["bma"].has_permission("account-manage")
    assert not demo_accounts["pumch"].has_permission("account-manage")


def test_state_cannot_be_assigned(demo_accounts, session):
    project = make_project(session, demo_accounts["bma_cardio"])
    with pytest.raises(StateAssignmentError):
        project.state = ProjectState.PUBLISHED
    with pytest.raises(StateAssignmentError):
        Project(name="x", state=ProjectState.PUBLISHED)


def _writes_state(node: ast.AST) -> bool:
    """``x.state = …``, ``f(state=…)``, or ``.values({"state": …})``."""
    if isinstance(node, ast.Attribute):
        return node.attr == "state" and isinstance(node.ctx, ast.Store)
    if isinstance(node, ast.keyword):
        return node.arg == "state"
    if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "values":
        return any(
            isinstance(arg, ast.Dict)
            and any(isinstance(k, ast.Constant) and k.value == "state" for k in arg.keys)
            for arg in node.args
        )
    return False


def test_no_code_outside_the_engine_writes_the_state_column():
    """Scan the source: only workflow/ assigns a state, passes one as a keyword
    or puts one in an UPDATE's values."""
    skip = {"workflow", "tests", ".venv", "migrations", "bench"}
    offenders = []
    for path in ROOT.rglob("*.py"):
        if skip & set(path.relative_to(ROOT).parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [
            f"{path.relative_to(ROOT)}:{node.lineno}"
            for node in ast.walk(tree)
            if _writes_state(node)
        ]
    assert offenders == []
    # The scan does see what the skipped workflow package writes.
    engine = [p.read_text(encoding="utf-8") for p in (ROOT / "workflow").glob("*.py")]
    assert any(_writes_state_somewhere(source) for source in engine)
    # And no form lists it.
    for path in ROOT.glob("admin_views/**/*.py"):
        assert not re.search(r"form_columns\s*=.*['\"]state['\"]", path.read_text(encoding="utf-8"))


def _writes_state_somewhere(source: str) -> bool:
    return any(_writes_state(node) for node in ast.walk(ast.parse(source)))


def test_production_refuses_the_default_key(monkeypatch):
    monkeypatch.setenv("CME_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-from-the-environment")
    monkeypatch.setenv("SECURITY_PASSWORD_SALT", "a-real-salt-from-the-environment")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] != DEV_SECRET_KEY
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_login_page_is_served(app):
    response = app.test_client().get("/login")
    assert response.status_code == 200
    assert b"csrf_token" in response.data


def test_security_headers(app):
    client = app.test_client()
    login = client.get("/login")
    assert login.headers["X-Frame-Options"] == "DENY"
    assert login.headers["X-Content-Type-Options"] == "nosniff"
    assert login.headers["Cache-Control"] == "no-store"
    assert client.get("/admin/").headers["Cache-Control"] == "no-store"
