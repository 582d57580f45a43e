"""The panel's own list of its views, filled as ``init_admin`` adds them.

Flask-Admin keeps the views it was given in a private attribute of ``Admin``; the
dashboard, the 项目查询 links, the background export jobs and the error pages need
to find a view (by its endpoint, or every project list), so ``PanelAdmin`` records
each view passing through the public ``add_view`` instead. An upgrade of Flask-Admin
cannot move this list (``tests/test_flask_admin_internals.py`` checks that it holds
every view Flask-Admin holds)."""

from __future__ import annotations

from typing import TypeVar

from flask import current_app
from flask_admin import Admin, BaseView

V = TypeVar("V", bound=BaseView)


class PanelAdmin(Admin):
    """Flask-Admin's ``Admin``, keeping the views added to it by endpoint."""

    def __init__(self, *args, **kwargs) -> None:
        # Set before Admin's constructor runs: it adds the index view (the dashboard).
        self.panel_views: dict[str, BaseView] = {}
        super().__init__(*args, **kwargs)

    def add_view(self, view: BaseView) -> None:
        if view.endpoint in self.panel_views:
            raise ValueError(f"two admin views share the endpoint {view.endpoint!r}")
        self.panel_views[view.endpoint] = view
        super().add_view(view)

    def views_of(self, kind: type[V]) -> list[V]:
        """The views of class ``kind`` (subclasses included), in the order added."""
        return [view for view in self.panel_views.values() if isinstance(view, kind)]


def panel() -> PanelAdmin:
    """The current app's panel (one per app: ``init_admin``)."""
    return current_app.extensions["admin"][0]


def find_view(endpoint: str) -> BaseView | None:
    """The current app's view of ``endpoint``, or None."""
    return panel().panel_views.get(endpoint)
