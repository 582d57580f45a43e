"""The product app plus the benchmark's references, for in-process runs and for gunicorn.

The *peer* is a stock Flask-Admin ``ModelView`` of the project table, registered only in this
benchmark app (never in the product), with Flask-Admin's defaults except the page size, which
is ours (50), and the details page, switched on so that it can be compared. A second stock
view, ``peer_sorted``, also uses our default sort, to separate the cost of ordering from the
cost of our scoping, filters and columns.

gunicorn: ``gunicorn 'bench.webapp:create_bench_app()'`` with ``DATABASE_URL`` set.
"""

from __future__ import annotations

import os

from flask import Flask
from flask_admin.contrib.sqla import ModelView

from app import create_app
from extensions import db
from models import Project

PAGE_SIZE = 50
# The password hashes are salted with a value derived from SECRET_KEY: every bench app,
# and the generator that hashes the demo password, must use this one.
SECRET_KEY = "bench"


class PeerView(ModelView):
    """Stock Flask-Admin: no scope, default columns, filters and order."""

    page_size = PAGE_SIZE
    can_view_details = True


class PeerSortedView(PeerView):
    """Stock Flask-Admin with our default sort (newest change first)."""

    column_default_sort = [("updated_at", True), ("id", True)]


def create_bench_app(url: str | None = None, *, export_max_rows: int = 200_000) -> Flask:
    """The product app on ``url`` (default ``DATABASE_URL``), with the peer views added."""
    config = {
        "SQLALCHEMY_DATABASE_URI": url or os.environ["DATABASE_URL"],
        "SECRET_KEY": SECRET_KEY,
        # The 100,000-row export is part of the benchmark; the product default is 100,000.
        "EXPORT_MAX_ROWS": export_max_rows,
        # The exports are measured in the request (the stock path); a background job
        # (EXPORT_BACKGROUND_ROWS) would answer with a redirect to its page.
        "EXPORT_BACKGROUND_ROWS": 0,
        "EXPORT_XLSX_MAX_ROWS": export_max_rows,
    }
    app = create_app(config)
    admin = app.extensions["admin"][0]
    admin.add_view(PeerView(Project, db.session, name="peer", endpoint="peer", url="peer"))
    admin.add_view(
        PeerSortedView(
            Project, db.session, name="peer_sorted", endpoint="peer_sorted", url="peer_sorted"
        )
    )
    return app
