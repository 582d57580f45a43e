"""The writes nobody calls by name are connected in one place, once, by create_app."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import event

import receivers
from app import create_app
from workflow import hooks

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "models",
    "permissions",
    "workflow",
    "accounts",
    "exports",
    "imports",
    "notifications",
    "reports",
    "certificates",
    "jobs",
    "admin_views",
    "public",
)


def _receivers(signal) -> set:
    return set(signal.receivers_for(object()))


def test_create_app_connects_every_receiver_once(tmp_path):
    create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.sqlite'}"})
    create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'b.sqlite'}"})
    for signal in (hooks.checking, hooks.moved):  # ours alone
        wanted = {receiver for s, receiver in receivers.SIGNALS if s is signal}
        assert _receivers(signal) == wanted
    from flask_principal import identity_loaded

    from accounts import audit

    assert audit.remember_actor in _receivers(identity_loaded)
    for target, name, listener in receivers.SESSION_EVENTS:
        assert event.contains(target, name, listener)
    # The engine's moves reach the versions, the messages, the filing rules and the catalog.
    names = {r.__module__ + "." + r.__name__ for r in _receivers(hooks.moved)}
    assert names == {
        "workflow.filing_rules.record_warnings",
        "workflow.versions.keep_versions",
        "notifications.on_moved",
        "public.catalog.on_moved",
        "workflow.execution_rules.send_back_withdrawn",
    }
    names = {r.__module__ + "." + r.__name__ for r in _receivers(hooks.checking)}
    assert names == {
        "workflow.filing_rules.hold_blocked",
        "workflow.calendar.hold_outside_window",
        "workflow.execution_rules.hold_projects",
    }
    names = {r.__module__ + "." + r.__name__ for r in _receivers(hooks.execution_moved)}
    assert "certificates.issuing.on_execution_moved" in names


def _decorator_names(tree) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [ast.unparse(d) for d in node.decorator_list]
    return found


def test_no_package_connects_a_receiver_when_imported():
    """A signal receiver or a session-wide listener outside the models is connected by
    ``receivers.connect_receivers``, never by a decorator at import (the models' own
    listeners, which guard and derive their columns, stay with their classes)."""
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            decorators = _decorator_names(ast.parse(path.read_text(encoding="utf-8")))
            for decorator in decorators:
                assert not decorator.endswith(".connect"), f"{path}: @{decorator}"
                if package != "models":
                    assert not decorator.startswith("event.listens_for(Session"), (
                        f"{path}: @{decorator}"
                    )
