"""The dashboard (/admin/): the signed-in unit's to-do counts, each a link to
the filtered list that holds the work."""

from __future__ import annotations

from datetime import date

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

import permissions
from admin_views.base import account
from admin_views.projects import ProjectView
from extensions import db
from models import Project, ProjectState, UnitKind

# (unit kinds, list endpoint, title, filters): what each kind of account has to do.
TODO = (
    (
        {UnitKind.BRANCH, UnitKind.ISSUER},
        "projects",
        _l("Not reported"),
        {"state": ProjectState.DRAFT},
    ),
    (
        {UnitKind.BRANCH, UnitKind.ISSUER},
        "projects",
        _l("Returned for changes"),
        {"state": ProjectState.RETURNED},
    ),
    ({UnitKind.SOCIETY}, "review", _l("Awaiting review"), {"state": ProjectState.AT_SOCIETY}),
    ({UnitKind.COMMITTEE}, "audit", _l("Awaiting audit"), {"state": ProjectState.AT_COMMITTEE}),
    (
        {UnitKind.COMMITTEE},
        "audit",
        _l("Published this year"),
        {"state": ProjectState.PUBLISHED, "year": "this"},
    ),
)


class Dashboard(AdminIndexView):
    @expose("/")
    def index(self):
        user = account()
        if user is None:
            return redirect(url_for("security.login", next=request.full_path))
        return self.render("admin/dashboard.html", cards=self.cards(user))

    def cards(self, user) -> list[dict]:
        """Counts for the account's kind, in one query."""
        wanted = [row for row in TODO if user.unit.kind in row[0]]
        this_year = date.today().year
        conditions = []
        for _, _, _, filters in wanted:
            condition = Project.state == filters["state"]
            if filters.get("year") == "this":
                condition &= Project.year == this_year
            conditions.append(func.count().filter(condition))
        counts = (
            db.session.execute(
                select(*conditions).where(permissions.project_visibility(user))
            ).one()
            if conditions
            else ()
        )
        cards = []
        for (_, endpoint, title, filters), count in zip(wanted, counts, strict=True):
            shown = {
                k: (this_year if v == "this" else v.value if hasattr(v, "value") else v)
                for k, v in filters.items()
            }
            cards.append(
                {"title": title, "count": count, "url": ProjectView.filter_url(endpoint, **shown)}
            )
        return cards
