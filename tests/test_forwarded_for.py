"""``X-Forwarded-For`` is believed only when the operator says a proxy is in front
(``PROXY_FIX_X_FOR``, default 0): without one, a forged header would give every
password guess a fresh address for the per-address login limit. A production app
that trusts the header warns once in its log when a request comes without it."""

from __future__ import annotations

import logging

import pytest

from app import DEV_SECRET_KEY
from tests.admin.conftest import own_context_browser

TOO_MANY = 429


@pytest.fixture
def production_app(make_app, monkeypatch):
    """A production app instance (``CME_ENV=production``) on the test database, with
    no PROXY_FIX_* in the environment unless ``config`` gives them."""
    monkeypatch.setenv("CME_ENV", "production")
    for name in ("PROXY_FIX_X_FOR", "PROXY_FIX_X_PROTO"):
        monkeypatch.delenv(name, raising=False)

    def make(**config):
        production = {
            "SECRET_KEY": "production-test-" + DEV_SECRET_KEY[::-1],
            "SECURITY_PASSWORD_SALT": "production-test-salt",
            # The test client speaks plain HTTP: the cookie must come back over it.
            "SESSION_COOKIE_SECURE": False,
        }
        return make_app(**(production | config))

    return make


def _guesses(app, forged_addresses: list[str]) -> list[int]:
    """Failed logins from one client, each with another forged X-Forwarded-For."""
    browser = own_context_browser(app)
    codes = []
    for forged in forged_addresses:
        response = browser.client.post(
            "/login",
            data={"username": "nobody_here", "password": "wrong-password-1"},
            headers={"X-CSRFToken": browser.token(), "X-Forwarded-For": forged},
            environ_base={"REMOTE_ADDR": "192.0.2.10"},
        )
        codes.append(response.status_code)
    return codes


def test_by_default_a_forged_forwarded_for_does_not_give_a_fresh_address(production_app):
    app = production_app(
        LOGIN_RATE_LIMIT_PER_ADDRESS="3 per minute",
        LOGIN_RATE_LIMIT_PER_USERNAME="100 per minute",
    )
    codes = _guesses(app, [f"203.0.113.{n}" for n in range(1, 5)])
    assert codes == [200, 200, 200, TOO_MANY]


def test_behind_one_proxy_its_address_for_the_client_is_believed(production_app):
    """With PROXY_FIX_X_FOR=1 the proxy's entry is the client: four clients behind it
    are four addresses (and the deployment's proxy appends the real one)."""
    app = production_app(
        PROXY_FIX_X_FOR=1,
        PROXY_FIX_X_PROTO=1,
        LOGIN_RATE_LIMIT_PER_ADDRESS="3 per minute",
        LOGIN_RATE_LIMIT_PER_USERNAME="100 per minute",
    )
    assert TOO_MANY not in _guesses(app, [f"203.0.113.{n}" for n in range(1, 5)])


def _warnings(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and "X-Forwarded-For" in record.getMessage()
    ]


def test_a_trusted_header_missing_is_logged_once(production_app, caplog):
    app = production_app(PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1)
    client = own_context_browser(app).client
    caplog.set_level(logging.WARNING)
    client.get("/", headers={"X-Forwarded-For": "198.51.100.7"})
    # The proxy's own health check (a static file, straight to the instance) is no alarm.
    with client.get("/static/cme-handlers.js") as response:
        assert response.status_code == 200
    assert _warnings(caplog) == []
    client.get("/", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    client.get("/login", environ_base={"REMOTE_ADDR": "192.0.2.11"})
    warned = _warnings(caplog)
    assert len(warned) == 1
    assert "PROXY_FIX_X_FOR=1" in warned[0] and "192.0.2.10" in warned[0]


def test_no_warning_when_nothing_is_trusted(production_app, caplog):
    app = production_app()
    caplog.set_level(logging.WARNING)
    own_context_browser(app).client.get("/")
    assert _warnings(caplog) == []
