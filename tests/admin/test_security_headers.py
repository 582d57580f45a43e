"""The browser protections (security_headers.py): the same strict headers on every kind
of response, a fresh script nonce per response that the panel's inline scripts carry,
no inline event handler left in any page, HSTS and ProxyFix only in production, and API
links never built from the request's Host header."""

from __future__ import annotations

import re

import pytest
from flask import request

from app import DEV_SECRET_KEY, create_app
from tests.admin.conftest import own_context_browser

NONCE = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{16,})'")
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)


def assert_strict(response) -> str:
    """The headers every response carries; returns the response's nonce."""
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp, (directive, csp)
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert "unsafe-eval" not in csp
    nonce = NONCE.search(csp)
    assert nonce, csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "geolocation=()" in headers["Permissions-Policy"]
    assert "microphone=()" in headers["Permissions-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    # Development and tests are plain HTTP: HSTS there would break a later http:// visit.
    assert "Strict-Transport-Security" not in headers
    return nonce.group(1)


def assert_scripts_allowed(html: str, nonce: str) -> None:
    """Every inline <script> carries the response's nonce; no inline event handler."""
    assert not INLINE_HANDLER.search(html), INLINE_HANDLER.search(html).group(0)
    assert "javascript:" not in re.sub(r'href="javascript:void\(0\)"', "", html)
    for tag in SCRIPT_TAG.findall(html):
        if "src=" not in tag:
            assert f'nonce="{nonce}"' in tag, tag


PUBLIC_PAGES = [
    ("/", 200),
    ("/login", 200),
    ("/api/v1/projects", 200),
    ("/api/v1/openapi.json", 200),
    ("/api/v1/projects/abc", 404),
    ("/no-such-page", 404),
    ("/admin/", 302),
    ("/static/cme-handlers.js", 200),
]


@pytest.mark.parametrize(("url", "status"), PUBLIC_PAGES)
def test_every_kind_of_public_response_is_strict(browser, url, status):
    response = browser.get(url)
    assert response.status_code == status
    nonce = assert_strict(response)
    html = response.get_data(as_text=True)
    response.close()  # a static file's response holds the file open
    if response.mimetype == "text/html":
        assert_scripts_allowed(html, nonce)


PANEL_PAGES = [
    ("bma_cardio", "/admin/"),
    ("bma_cardio", "/admin/projects/"),
    ("bma_cardio", "/admin/projects/new/"),
    ("bjcme", "/admin/units/"),
    ("bjcme", "/admin/users/"),
    ("bjcme", "/admin/disciplines/"),
    ("bjcme", "/admin/rules/"),
    ("bjcme", "/admin/statistics/"),
    ("bjcme", "/admin/security-log/"),
    ("bma", "/admin/review/"),
    ("bjcme", "/admin/review/"),
    ("bjcme", "/admin/no-such-page/"),
    ("bjcme", "/change"),
]


@pytest.mark.parametrize(("username", "url"), PANEL_PAGES)
def test_panel_pages_are_strict_and_their_scripts_carry_the_nonce(login_as, username, url):
    browser = login_as(username)
    response = browser.get(url)
    assert response.status_code in (200, 403, 404), (url, response.status_code)
    nonce = assert_strict(response)
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert_scripts_allowed(html, nonce)
    if url.startswith("/admin"):
        # The handlers that replaced the inline ones are loaded by the panel's layout.
        assert "/static/cme-handlers.js" in html


def test_each_response_gets_its_own_nonce(login_as):
    browser = login_as("bjcme")
    first = NONCE.search(browser.get("/admin/").headers["Content-Security-Policy"]).group(1)
    second = NONCE.search(browser.get("/admin/").headers["Content-Security-Policy"]).group(1)
    assert first != second


def test_management_pages_carry_no_inline_handlers(login_as):
    """The management lists and the page confirming a row's 停用 work without inline
    event handlers (the policy forbids them): text links, and a plain form to confirm."""
    browser = login_as("bjcme")
    html = browser.get("/admin/users/").get_data(as_text=True)
    confirm = re.search(r'href="([^"]*/confirm/[^"]*do=deactivate[^"]*)"', html)
    assert confirm, "each active account's row links to its 停用 page"
    pages = [html, browser.get(confirm.group(1).replace("&amp;", "&")).get_data(as_text=True)]
    pages += [
        browser.get(url).get_data(as_text=True) for url in ("/admin/units/", "/admin/disciplines/")
    ]
    for page in pages:
        assert "onclick" not in page and "onchange" not in page
    assert 'name="csrf_token"' in pages[1]


def test_expired_form_page_has_no_inline_handler(browser):
    """The CSRF page's "back to the form" button goes back through a static script."""
    response = browser.client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "data-cme-history-back" in html
    assert_scripts_allowed(html, assert_strict(response))


def test_api_links_never_come_from_the_host_header(browser, app, monkeypatch):
    headers = {"Host": "evil.example"}
    listed = browser.get("/api/v1/projects?per_page=1", headers=headers)
    assert listed.status_code == 200
    body = listed.get_json()
    assert body["items"], "the demo data publishes projects"
    project = browser.get(body["items"][0]["url"], headers=headers)
    document = browser.get("/api/v1/openapi.json", headers=headers)
    for response in (listed, project, document):
        assert "evil.example" not in response.get_data(as_text=True)
    assert body["links"]["next"].startswith("/api/v1/projects?")
    assert project.get_json()["html_url"].startswith("/projects/")
    # With the site's address configured, links are absolute on it.
    monkeypatch.setitem(app.config, "SITE_URL", "https://cme.example.cn/")
    body = browser.get("/api/v1/projects?per_page=1", headers=headers).get_json()
    assert body["links"]["self"].startswith("https://cme.example.cn/api/v1/projects?")
    assert body["items"][0]["html_url"].startswith("https://cme.example.cn/projects/")
    servers = browser.get("/api/v1/openapi.json", headers=headers).get_json()["servers"]
    assert servers == [{"url": "https://cme.example.cn/api/v1"}]


def _production_app(tmp_path, monkeypatch, **settings):
    monkeypatch.setenv("CME_ENV", "production")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "production-test-" + DEV_SECRET_KEY[::-1],
            "SECURITY_PASSWORD_SALT": "production-test-salt",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.sqlite'}",
            **settings,
        }
    )

    @app.get("/_probe")
    def probe():
        return f"{request.scheme} {request.remote_addr}"

    return app


def _probe(client, headers: dict):
    """``/_probe`` from the proxy at 10.0.0.2 with ``headers``: its body is the scheme and
    the client address the app believes."""
    return client.get("/_probe", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"})


def test_production_adds_hsts_and_trusts_one_proxy(tmp_path, monkeypatch):
    app = _production_app(tmp_path, monkeypatch, PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1)
    client = own_context_browser(app).client
    response = _probe(client, {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"})
    assert response.get_data(as_text=True) == "https 198.51.100.7"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    # A client's own forged chain: only the nearest proxy's entry is believed.
    forged = _probe(client, {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"})
    assert forged.get_data(as_text=True) == "http 198.51.100.7"


def test_production_without_a_proxy_ignores_forwarded_headers(tmp_path, monkeypatch):
    # The default: nothing trusted unless the operator says a proxy is in front.
    monkeypatch.delenv("PROXY_FIX_X_FOR", raising=False)
    monkeypatch.delenv("PROXY_FIX_X_PROTO", raising=False)
    app = _production_app(tmp_path, monkeypatch)
    client = own_context_browser(app).client
    response = _probe(client, {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"})
    assert response.get_data(as_text=True) == "http 10.0.0.2"
