"""The project lists' capped count: the pager's total and the 状态 tabs' counts are
read no further than ``LIST_COUNT_CAP`` rows (e.g. "超过 1,000 个项目").

On the list page only: exports, bulk actions and 统计 count exactly. A count over the
whole scope read every visible row on every page (the committee sees nearly all).
"""

from __future__ import annotations

from flask import current_app, has_request_context
from flask_admin import expose
from flask_babel import format_decimal, gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Query

from admin_views.list_context import list_context


def count_cap() -> int:
    """``LIST_COUNT_CAP`` (0: no cap)."""
    return int(current_app.config.get("LIST_COUNT_CAP") or 0)


class CappedCount(Query):
    """The list pager's count, read no further than ``cap + 1`` rows:
    ``SELECT count(*) FROM (SELECT projects.id … LIMIT cap + 1)``. Flask-Admin narrows
    it like any count query (scope, search, filters) and calls ``scalar()``; a result
    above ``cap`` means "more than ``cap``"."""

    cap = 0

    def scalar(self):
        rows = self.limit(self.cap + 1).subquery()
        return self.session.execute(select(func.count()).select_from(rows)).scalar_one()


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
        return query

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        count, data = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=execute, page_size=page_size
        )
        cap = list_context().count_cap
        if not (execute and cap and count is not None):
            return count, data
        more = count > cap
        list_context().total = {"count": min(count, cap), "more": more}
        if more and page_size:
            # The pager offers every page up to the cap's last one, and from a full
            # page the next one (its ">" link): the rows seen so far, plus one.
            seen = (page or 0) * page_size + len(data)
            count = max(count, seen + (len(data) == page_size))
        return count, data

    def list_total(self) -> dict | None:
        """The list page's total for the line beside the pager: ``count`` (exact up to
        the cap) and ``more`` (the list holds more than ``count``), or None before
        ``get_list`` ran."""
        return list_context().total

    def total_text(self) -> str:
        total = self.list_total()
        if not total or not total["count"]:
            return ""
        number = format_decimal(total["count"])
        if total["more"]:
            return gettext("More than %(num)s projects", num=number)
        return gettext("%(num)s projects in all", num=number)
