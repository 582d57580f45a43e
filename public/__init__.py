"""The public catalog of published projects and its open-data API (no login).

``init_public(app)`` registers four blueprints: ``public`` (HTML pages at ``/``,
``/projects/<id>``, ``/export.csv``, ``/export.xlsx``), ``public_api`` (JSON at
``/api/v1/projects``, ``/api/v1/projects/<id>``, ``/api/v1/openapi.json``),
``signin`` (``/signin/<token>``, the on-site sign-in form a learner's phone opens) and
``verify`` (``/verify``, ``/credits``: certificates checked by anyone, a learner's record).
"""

from __future__ import annotations

from flask import Flask


def init_public(app: Flask) -> None:
    """Register the public pages and the API on ``app``."""
    from public import signin, verify
    from public.api import bp as api_bp
    from public.catalog import init_cache
    from public.views import bp as pages_bp

    init_cache(app)

    app.register_blueprint(pages_bp)
    app.register_blueprint(api_bp)
    # 现场签到 (``/signin/<token>``): the learner's phone form, rate-limited per address.
    signin.init(app)
    # 证书验证 and 学分记录 (``/verify``, ``/credits``): after the API, whose certificate
    # lookup shares their rate limit.
    verify.init(app)
