"""The project lists' capped count: the pager's total and the 状态 tabs' counts are
read no further than ``LIST_COUNT_CAP`` rows (e.g. "超过 1,000 个项目").

On the list page only: exports, bulk actions and 统计 count exactly. A count over the
whole scope read every visible row on every page (the committee sees nearly all).

One count everywhere: 首页's cards, the tabs and the pager's total say a figure the
same way (``Figure``): exact up to the cap, "超过 1,000" above it; and exact whatever
its size where it is cheap: a society's or the committee's count of a state (and a
year), with no search and no other filter, is read from the summary table
``project_tallies`` (``tallied_states``), kept exact by database triggers.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, has_request_context
from flask_admin import expose
from flask_babel import format_decimal, gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Query

import permissions
from admin_views.list_context import list_context
from models import ProjectState, ProjectTally
from models.tally import STATE


def count_cap() -> int:
    """``LIST_COUNT_CAP`` (0: no cap)."""
    return int(current_app.config.get("LIST_COUNT_CAP") or 0)


class CappedCount(Query):
    """The list pager's count, read no further than ``cap + 1`` rows:
    ``SELECT count(*) FROM (SELECT projects.id … LIMIT cap + 1)``. Flask-Admin narrows
    it like any count query (scope, search, filters) and calls ``scalar()``; a result
    above ``cap`` means "more than ``cap``"."""

    cap = 0
    # The count when it is known already (the tabs' counts, read first): no statement.
    known: int | None = None

    def scalar(self):
        if self.known is not None:
            return self.known
        rows = self.limit(self.cap + 1).subquery()
        return self.session.execute(select(func.count()).select_from(rows)).scalar_one()


@dataclass(frozen=True)
class Figure:
    """A count as every page says it: ``count`` (exact, or the cap when ``more``)."""

    count: int
    more: bool = False

    @property
    def number(self) -> str:
        """The count with its thousands separator: "1,234"."""
        return format_decimal(self.count)

    @property
    def words(self) -> str:
        """ "1,234", or "超过 1,000" above the cap."""
        number = self.number
        return gettext("More than %(num)s", num=number) if self.more else number

    def projects(self) -> str:
        """ "共 1,234 个项目", or "超过 1,000 个项目" above the cap."""
        number = format_decimal(self.count)
        if self.more:
            return gettext("More than %(num)s projects", num=number)
        return gettext("%(num)s projects in all", num=number)


def figure(count: int, cap: int) -> Figure:
    """``count`` (read up to ``cap + 1`` rows) as it is said: above ``cap``, more than
    ``cap``."""
    if cap and count > cap:
        return Figure(cap, True)
    return Figure(count)


def tallied_states(session, user, *years: int | None) -> list[dict[ProjectState, int]] | None:
    """For each of ``years`` (None: every year), each state's exact count in ``user``'s
    scope from ``project_tallies``: one statement reading a few rows of its primary key.
    None when the account has no tallies of its own (an entry unit: its drafts are not
    tallied)."""
    own = permissions.tally_visibility(user)
    if own is None:
        return None
    every = func.sum(ProjectTally.projects)
    sums = [every if year is None else every.filter(ProjectTally.year == year) for year in years]
    stmt = select(ProjectTally.value, *sums).where(own, ProjectTally.dimension == STATE)
    found = {value: counts for value, *counts in session.execute(stmt.group_by(ProjectTally.value))}
    return [
        {
            state: int((found.get(state.value) or [0] * len(years))[n] or 0)
            for state in ProjectState
            if state is not ProjectState.DRAFT
        }
        for n in range(len(years))
    ]


def capped_count_of(rows, cap: int):
    """A scalar subquery counting the rows of ``rows`` (a SELECT), stopping after
    ``cap + 1`` of them (no cap: all)."""
    if cap:
        rows = rows.limit(cap + 1)
    return select(func.count()).select_from(rows.subquery()).scalar_subquery()


def capped_sum(counts, cap: int) -> tuple[int, bool]:
    """(the counts summed, each at most ``cap``; whether one went past the cap)."""
    if not cap:
        return sum(counts), False
    return sum(min(n, cap) for n in counts), any(n > cap for n in counts)


def summed_figure(counts, cap: int) -> Figure:
    """The sum of ``counts`` (each read up to ``cap + 1`` rows; ``cap`` 0: each exact)
    as it is said: above ``cap`` (one of them or their sum), more than ``cap``."""
    total, more = capped_sum(counts, cap)
    return figure(cap + 1 if more else total, cap)


class CappedCountMixin:
    """For a project ModelView (``scope()``, ``Project.id``): its list page counts up
    to the cap, and says the total beside the pager."""

    @expose("/")
    def index_view(self):
        list_context().count_cap = count_cap()
        return super().index_view()

    def get_count_query(self):
        cap = list_context().count_cap if has_request_context() else 0
        if not cap:
            return super().get_count_query()
        query = CappedCount([self.model.id], session=self.db_session).filter(
            self.scope(self.list_account())
        )
        query.cap = cap
        known = self.list_figure()
        if known is not None:
            query.known = known.count + known.more
        return query

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        count, data = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=execute, page_size=page_size
        )
        cap = list_context().count_cap
        if not (execute and cap and count is not None):
            return count, data
        total = self.list_figure() or figure(count, cap)
        list_context().total = total
        if total.more and page_size:
            # The pager offers every page up to the cap's last one, and from a full
            # page the next one (its ">" link): the rows seen so far, plus one.
            seen = (page or 0) * page_size + len(data)
            count = max(count, seen + (len(data) == page_size))
        return count, data

    def list_figure(self) -> Figure | None:
        """The list's count when the view knows it without counting the list again
        (``ProjectListBarMixin``: its current tab's), else None."""
        return None

    def list_total(self) -> Figure | None:
        """The list page's total for the line beside the pager (exact up to the cap,
        or exact where cheap; "more than the cap" above it), or None before
        ``get_list`` ran."""
        return list_context().total

    def total_text(self) -> str:
        total = self.list_total()
        if not total or not total.count:
            return ""
        return total.projects()
