"""The browser protections of every response, set in one place (``init_app``).

- ``Content-Security-Policy``: scripts only from this site or inline with this
  response's nonce (Flask-Admin writes it into its ``<script>`` tags through
  ``Admin(csp_nonce_generator=csp_nonce)``); no inline event handler (``onclick=``)
  or ``javascript:`` address runs, so the templates bind their handlers in static
  files (``static/admin/cme-handlers.js``). Why styles keep ``'unsafe-inline'``:
  see ``content_security_policy``.
- ``Strict-Transport-Security`` only in production (``CME_ENV=production``), where the
  site is served over TLS by the reverse proxy.
- ``ProxyFix`` in production, so that the client's address (the login rate limits and
  the security log) and scheme are the ones the proxy saw.

docs/security.md (Headers) lists the policy and its exceptions.
"""

from __future__ import annotations

import secrets

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from settings import count_setting

# Browser features no page of the system uses.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "fullscreen")
)
# One year; only in production, where every address is served over TLS.
HSTS = "max-age=31536000; includeSubDomains"
# Pages that show an account's data: never stored by the browser, so a shared office
# computer's back button shows nobody else's projects.
NO_STORE_PREFIXES = ("/admin", "/login", "/change")


def content_security_policy(nonce: str) -> str:
    """The policy of every response.

    ``style-src`` allows ``'unsafe-inline'``: Flask-Admin's and Bootstrap's markup (and
    ours) carry ``style=`` attributes, and Select2 and the date pickers write them at run
    time; a style cannot run code. (With a nonce in ``style-src`` browsers would ignore
    ``'unsafe-inline'`` and refuse every ``style=`` attribute.)
    """
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def csp_nonce() -> str:
    """This request's script nonce, made on first use (Flask-Admin asks on every render)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    production = app.config.get("PRODUCTION", False)
    if production:
        # The number of proxies in front that set X-Forwarded-For / -Proto: 1 for the
        # documented deployment (one TLS-terminating proxy). 0 when gunicorn faces the
        # internet itself: trusting the header there would let a client choose its own
        # address and escape the per-address login limit.
        x_for = count_setting(app, "PROXY_FIX_X_FOR", 1)
        x_proto = count_setting(app, "PROXY_FIX_X_PROTO", 1)
        if x_for or x_proto:
            app.wsgi_app = ProxyFix(app.wsgi_app, x_for=x_for, x_proto=x_proto)

    @app.after_request
    def protect(response):
        headers = response.headers
        headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if production:
            headers["Strict-Transport-Security"] = HSTS
        if request.path.startswith(NO_STORE_PREFIXES):
            headers["Cache-Control"] = "no-store"
        return response
