"""The dashboard (/admin/): the signed-in unit's to-do counts, each a link to the
list tab that holds the work, and the next step in the manual's words (添加项目;
勾选后点击“上报所选项目”; the oldest projects waiting for a reviewer).

Four statements whatever the number of projects: one row of counts (said as the list
tabs they link to say them, ``capped_count.Figure``: a society's and the committee's
exact, from the tallies; an entry unit's up to ``LIST_COUNT_CAP``, "超过 1,000" above it,
as its 我的项目 tabs and pager), for a reviewer
the oldest waiting projects, the execution reports (执行情况) waiting for the unit
(``reports.execution_stats.to_do``: an entry unit's reports to file and overdue, a
society's to review, the committee's to audit), each a link to its 执行情况 list, and
the countdown of the unit's own 申报时间 (``admin_views.windows.countdown_lines``, read
by the template: "距分会上报截止还有 5 天").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, union_all

import permissions
from admin_views.base import account
from admin_views.capped_count import (
    capped_count_of,
    count_cap,
    summed_figure,
    tallied_states,
)
from admin_views.projects import STATUS_HELD, ProjectView
from extensions import db
from models import Project, ProjectState, Unit
from permissions.roles import AUDIT, ENTER, REVIEW
from reports import execution_stats

# How many waiting projects a reviewer's dashboard names, and how many recent years'
# waiting projects it reads year by year (the others in one range).
OLDEST = 5
RECENT_YEARS = 12


@dataclass(frozen=True)
class Card:
    permissions: frozenset  # shown to an account whose role holds one of these
    endpoint: str  # the project list holding this work
    title: object
    state: ProjectState
    this_year: bool = False


# What each role has to do, in the order shown.
ENTRY = frozenset({ENTER})
CARDS = (
    Card(ENTRY, "projects", _l("Not reported"), ProjectState.DRAFT),
    Card(ENTRY, "projects", _l("Returned for changes"), ProjectState.RETURNED),
    Card(ENTRY, "projects", _l("Published this year"), ProjectState.PUBLISHED, this_year=True),
    Card(frozenset({REVIEW}), "review", _l("Awaiting review"), ProjectState.AT_SOCIETY),
    Card(frozenset({AUDIT}), "audit", _l("Awaiting audit"), ProjectState.AT_COMMITTEE),
    Card(
        frozenset({REVIEW, AUDIT}),
        "",  # the reviewer's own list
        _l("Published this year"),
        ProjectState.PUBLISHED,
        this_year=True,
    ),
)

# A reviewer's list and the state its work waits in, by the role permission that
# makes the account a reviewer.
REVIEWS = {
    REVIEW: ("review", ProjectState.AT_SOCIETY),
    AUDIT: ("audit", ProjectState.AT_COMMITTEE),
}


# The execution reports' counts (``execution_stats.to_do``): title, the list it links
# to and the tab that list opens on.
EXECUTION_CARDS = {
    "to_report": (_l("Execution reports to file"), "executions", STATUS_HELD),
    "overdue": (_l("Execution reports overdue"), "executions", "overdue"),
    "at_society": (_l("Execution reports awaiting review"), "execution_review", "at_society"),
    "at_committee": (_l("Execution reports awaiting audit"), "execution_audit", "at_committee"),
}


def execution_cards(user) -> list[dict]:
    """The unit's execution-report counts as cards (an overdue one marked)."""
    cards = []
    for key, count in execution_stats.to_do(db.session, user).items():
        title, endpoint, status = EXECUTION_CARDS[key]
        url = url_for(f"{endpoint}.index_view", status=status)
        cards.append(
            {"title": title, "count": count, "url": url, "danger": key == "overdue" and count}
        )
    return cards


def review_of(user) -> tuple[str, ProjectState] | None:
    """The reviewer's list and the state its work waits in; None for an entry unit."""
    return next((work for held, work in REVIEWS.items() if permissions.holds(user, held)), None)


class Dashboard(AdminIndexView):
    @expose("/")
    def index(self):
        user = account()
        if user is None:
            return redirect(url_for("security.login", next=request.full_path))
        view = self._project_view(user)
        if view is None:  # an account without a project list: the menu is all it has
            return self.render("admin/dashboard.html", cards=[], entry=False, review=None)
        cards, total, cards_cap = self.cards(view, user)
        review, work = None, review_of(user)
        entry = permissions.can_enter_projects(user)
        if work is not None:
            endpoint, state = work
            review = {
                "title": view.work_title,
                "url": url_for(f"{endpoint}.index_view", status=state.value),
                "waiting": next(c["figure"] for c in cards if c["state"] is state),
                "oldest": self.oldest_waiting(view, state),
                "endpoint": endpoint,
            }
        held = summed_figure([c["read"] for c in cards if c["state"].modifiable], cards_cap)
        cards += execution_cards(user)
        return self.render(
            "admin/dashboard.html",
            cards=cards,
            total=total,
            entry=entry,
            held=held,
            held_url=url_for("projects.index_view", status=STATUS_HELD),
            add_url=url_for("projects.create_view") if entry else None,
            review=review,
        )

    def _project_view(self, user) -> ProjectView | None:
        """The account's own project list (我的项目, 项目审阅 or 项目审核): its
        ``scope(user)`` limits every count and row shown here."""
        wanted = (review_of(user) or ("projects",))[0]
        view = self.admin.panel_views.get(wanted)
        if isinstance(view, ProjectView) and view.is_accessible():
            return view
        return None

    def cards(self, view: ProjectView, user) -> tuple[list[dict], int, int]:
        """The role's counts, whether it sees any project at all, and the cap the
        counts were read up to (0: exact), in one statement: the tallies of a society
        or the committee; an entry unit's capped counts (each the count of the list tab
        the card links to, ``ProjectListBarMixin.state_rows``)."""
        wanted = [
            card for card in CARDS if any(permissions.holds(user, p) for p in card.permissions)
        ]
        this_year = date.today().year
        counts, total, cap = self._card_counts(view, user, wanted, this_year)
        cards = [
            _card(card, count, cap, view, this_year)
            for card, count in zip(wanted, counts, strict=True)
        ]
        return cards, total, cap

    @staticmethod
    def _card_counts(view: ProjectView, user, wanted: list, this_year: int) -> tuple:
        """Each card's count, the count of every project the account sees, and the cap
        they were read up to (0: exact): from the tallies, else capped counts in one
        statement."""
        if any(card.state is ProjectState.DRAFT for card in wanted):
            tallied = None  # an entry unit's drafts are not tallied
        else:
            tallied = tallied_states(db.session, user, None, this_year)
        if tallied is not None:
            every_year, in_this_year = tallied
            counts = [(in_this_year if c.this_year else every_year)[c.state] for c in wanted]
            return counts, sum(every_year.values()), 0
        cap = count_cap()
        columns = [capped_count_of(select(Project.id).where(view.scope(user)), 1)]
        for card in wanted:
            rows = view.state_rows(user, card.state, this_year if card.this_year else None)
            columns.append(capped_count_of(rows, cap))
        total, *counts = db.session.execute(select(*columns)).one()
        return counts, total, cap

    def oldest_waiting(self, view: ProjectView, state: ProjectState) -> list[dict]:
        """The projects that have waited longest in ``state`` (reported first), in
        the reviewer's scope: one query, the filing unit joined. Per recent year the
        first rows of its ``ix_projects_<scope>_state_year_reported`` range, the other
        years' in one more range, then the oldest of those: no sort of every waiting
        project of a tree."""
        this_year = date.today().year
        low, high = this_year - RECENT_YEARS + 1, this_year + 1
        columns = (Project.id, Project.name, Project.year, Project.reported_at)
        columns += (Project.owner_unit_id,)

        def first(years):
            rows = select(*columns).where(view.scope(account()), Project.state == state, years)
            ordered = rows.order_by(Project.reported_at, Project.id).limit(OLDEST)
            return select(*ordered.subquery().c)

        parts = [first(Project.year == year) for year in range(low, high + 1)]
        parts.append(first(or_(Project.year < low, Project.year > high)))
        w = union_all(*parts).subquery("waiting")
        rows = db.session.execute(
            select(w.c.id, w.c.name, w.c.year, w.c.reported_at, Unit.name)
            .join(Unit, Unit.id == w.c.owner_unit_id)
            .order_by(w.c.reported_at, w.c.id)
            .limit(OLDEST)
        )
        return [
            {
                "name": name,
                "year": year,
                "reported_at": reported_at,
                "unit": unit,
                "url": url_for(f"{view.endpoint}.details_view", id=key),
            }
            for key, name, year, reported_at, unit in rows
        ]


def _card(card, count, cap: int, view: ProjectView, this_year: int) -> dict:
    """One card as the page draws it: its title, its figure and the list tab it links to."""
    args = {"status": card.state.value}
    if card.this_year:
        args["year"] = this_year
    figure = summed_figure([count], cap)
    return {
        "title": card.title,
        "count": figure.count,
        "figure": figure,
        "read": count,
        "state": card.state,
        "url": url_for(f"{card.endpoint or view.endpoint}.index_view", **args),
    }
