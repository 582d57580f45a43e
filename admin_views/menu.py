"""项目查询: the manual's "上报完成后在‘项目查询’中查" — a menu link to the account's
own project list on its 全部 tab, so a reported project is found where it went."""

from __future__ import annotations

from flask import url_for
from flask_admin.menu import MenuLink
from flask_babel import lazy_gettext as _l

from admin_views.projects import STATUS_ALL, ProjectView


class ProjectSearchLink(MenuLink):
    """Shown to the accounts that may open ``view``; leads to all its projects."""

    def __init__(self, view: ProjectView) -> None:
        super().__init__(name=_l("Project search"), endpoint=f"{view.endpoint}.index_view")
        self.view = view

    def get_url(self) -> str:
        return url_for(self.endpoint, status=STATUS_ALL)

    def is_accessible(self) -> bool:
        return self.view.is_accessible()

    def is_visible(self) -> bool:
        return self.view.is_accessible()


def add_project_search(admin) -> None:
    """One 项目查询 link per project list, in the main menu after the lists (each
    account sees the one of the list it may open)."""
    for view in admin.views_of(ProjectView):
        admin.add_menu_item(ProjectSearchLink(view))
