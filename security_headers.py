"""The browser protections of every response, set in one place (``init_app``).

- ``Content-Security-Policy``: scripts only from this site or inline with this
  response's nonce (Flask-Admin writes it into its ``<script>`` tags through
  ``Admin(csp_nonce_generator=csp_nonce)``); no inline event handler (``onclick=``)
  or ``javascript:`` address runs, so the templates bind their handlers in static
  files (``static/admin/cme-handlers.js``). Why styles keep ``'unsafe-inline'``:
  see ``content_security_policy``.
- ``Strict-Transport-Security`` only in production (``CME_ENV=production``), where the
  site is served over TLS by the reverse proxy.
- ``ProxyFix`` in production when ``PROXY_FIX_X_FOR`` / ``PROXY_FIX_X_PROTO`` say how
  many proxies in front set the headers (default 0: none trusted), so that the client's
  address (the login rate limits and the security log) and scheme are the ones the proxy
  saw; a warning in the log, once per process, if a request then arrives without
  ``X-Forwarded-For`` (the proxy the setting promises is not in front).

docs/security.md (Headers) lists the policy and its exceptions.
"""

from __future__ import annotations

import logging
import secrets

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

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


def trust_proxies(app: Flask) -> None:
    """Believe ``X-Forwarded-For`` / ``-Proto`` from as many proxies in front as the
    settings say. The default is none: with no proxy in front (gunicorn facing the
    network), a trusted header would let every request name its own address and so
    escape the per-address login limit. The deployment's environment file sets 1 for
    its one TLS-terminating proxy."""
    x_for, x_proto = app.config["PROXY_FIX_X_FOR"], app.config["PROXY_FIX_X_PROTO"]
    if x_for or x_proto:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=x_for, x_proto=x_proto)
    if x_for:
        static = (app.static_url_path or "/static") + "/"
        app.wsgi_app = WarnWithoutForwardedFor(app.wsgi_app, app.logger, ignore=static)


class WarnWithoutForwardedFor:
    """WSGI middleware: logs one warning, on the first request that comes without
    ``X-Forwarded-For`` although ``PROXY_FIX_X_FOR`` trusts one. Such a request did not
    pass through the proxy the setting promises: either the setting is wrong (then a
    client that sends the header picks its own address) or something reaches gunicorn
    around the proxy. Once per process, so a busy site's log is not flooded. Static files
    are not looked at: the proxy's health check asks for one straight from the instance."""

    MESSAGE = (
        "PROXY_FIX_X_FOR=%s trusts X-Forwarded-For, but a request to %s came without it "
        "(from %s): is the reverse proxy really in front of every request? If not, set "
        "PROXY_FIX_X_FOR=0 and PROXY_FIX_X_PROTO=0. (Logged once per process.)"
    )

    def __init__(self, wsgi_app, logger: logging.Logger, ignore: str):
        self.wsgi_app = wsgi_app
        self.logger = logger
        self.ignore = ignore
        self.warned = False

    def __call__(self, environ, start_response):
        if not self.warned and not environ.get("HTTP_X_FORWARDED_FOR"):
            path = environ.get("PATH_INFO", "")
            if not path.startswith(self.ignore):
                self.warned = True
                trusted = getattr(self.wsgi_app, "x_for", "?")
                address = environ.get("REMOTE_ADDR", "")
                self.logger.warning(self.MESSAGE, trusted, path, address)
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    production = app.config.get("PRODUCTION", False)
    if production:
        trust_proxies(app)

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
