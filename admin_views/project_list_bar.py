"""The project lists' filters and their 年度 + 状态 bar with its tabs
(docs/domain.md#screens), for ``ProjectView``.

The filters are named in the URL (``flt0_state=published``): Flask-Admin's
``named_filter_urls``, each filter by its own ASCII name (``FILTER_KEYS``), the same
in every language. Links from before, which numbered them (``flt0_1=published``), are
sent on to the named form by the list page and read as they are by an export or a
stored job.

The bar speaks in two plain URL arguments, ``year`` and ``status`` (kept by
Flask-Admin's paging, sorting and export links as extra arguments); they are turned
into the view's own filters (``bar_filters``), beside the filter builder's.
"""

from __future__ import annotations

import re
from datetime import date

from flask import has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

import permissions
from admin_views.base import ChoiceFilter, account
from admin_views.capped_count import (
    Figure,
    capped_count_of,
    count_cap,
    summed_figure,
    tallied_states,
)
from admin_views.list_context import list_context
from models import Discipline, Project, ProjectLevel, ProjectState, Unit
from models.vocabulary import label

STATUS_ALL = "all"
# A filter argument of the list before its filters were named: flt<position>_<index>.
NUMBERED_FILTER = re.compile(r"flt(\d+)_(\d+)")
# 我的项目's work: the rows the entry unit holds (未上报 and 退回修改).
STATUS_HELD = "held"


class ModifiableFilter(ChoiceFilter):
    """修改状态: 可修改 = held by the entry unit (draft or returned)."""

    def apply(self, query, value, alias=None):
        held = Project.state.in_([s for s in ProjectState if s.modifiable])
        return query.filter(held if value == "1" else ~held)


class ProjectListBarMixin:
    """For a ModelView of ``Project`` with ``scope(user)``, ``work_status`` and
    ``work_title``: its filters, the bar's choices and the tabs' counts."""

    def get_filters(self):
        filters = [
            ChoiceFilter(Project.year, label("year"), self._year_options, coerce=int),
            ChoiceFilter(Project.state, label("state"), self._state_options, coerce=ProjectState),
            ModifiableFilter(
                Project.state,
                label("modifiable"),
                lambda: [("1", ProjectState.DRAFT.modifiable_title), ("0", _l("Not modifiable"))],
            ),
            ChoiceFilter(
                Project.level,
                label("level"),
                lambda: [(lv.value, lv.title) for lv in ProjectLevel],
                coerce=ProjectLevel,
            ),
            ChoiceFilter(
                Project.discipline_id, label("discipline"), self._discipline_options, coerce=int
            ),
            ChoiceFilter(
                Project.owner_unit_id, label("owner_unit"), self._unit_options, coerce=int
            ),
        ]
        for key, flt in zip(self.FILTER_KEYS, filters, strict=True):
            flt.url_name = key
        return filters

    # Filters are named in the URL (``flt0_state=at_committee``), not numbered: each by
    # its own ASCII name, the same in every language (Flask-Admin's own would be made
    # of the label as translated when the view is built, nothing of a Chinese one).
    named_filter_urls = True
    FILTER_KEYS = ("year", "state", "modifiable", "level", "discipline", "unit")

    def get_filter_arg(self, index: int, flt) -> str:
        return getattr(flt, "url_name", None) or super().get_filter_arg(index, flt)

    @staticmethod
    def filter_url(endpoint: str, **wanted) -> str:
        """The URL of project list ``endpoint`` filtered by ``wanted`` (filter names of
        FILTER_KEYS: every project list has the same filters)."""
        args = {f"flt{n}_{key}": value for n, (key, value) in enumerate(wanted.items())}
        return url_for(f"{endpoint}.index_view", **args)

    def numbered_filters(self, args=None) -> list[tuple[int, int, str]]:
        """(position, filter index, value) of the filters an old link names by number
        (``flt0_1=published``: a bookmark, an e-mail, a stored job from before the
        filters were named), in their order; an unknown filter or a value it refuses is
        left out."""
        filters = self.filter_list()
        found = []
        for arg, value in (request.args if args is None else args).items():
            match = NUMBERED_FILTER.fullmatch(arg)
            if match and int(match[2]) < len(filters) and filters[int(match[2])].validate(value):
                found.append((int(match[1]), int(match[2]), value))
        return sorted(found)

    def _scoped(self, *columns):
        return select(*columns).where(self.scope(account()))

    def _scope_years(self):
        """Every year from the scope's first to its last (or this year): two
        index probes rather than a DISTINCT over the whole scope."""
        first = self._scoped(Project.year).order_by(Project.year).limit(1)
        last = self._scoped(Project.year).order_by(Project.year.desc()).limit(1)
        low, high = self.db_session.execute(
            select(first.scalar_subquery(), last.scalar_subquery())
        ).one()
        if low is None:
            return []
        return [(y, y) for y in range(max(high, date.today().year), low - 1, -1)]

    def _state_options(self):
        hidden = () if self.list_account().unit.kind.is_entry else (ProjectState.DRAFT,)
        return [(s.value, s.title) for s in ProjectState if s not in hidden]

    def _discipline_options(self):
        # The account's committee's list (inactive ones too: old projects use them).
        rows = self.db_session.execute(
            permissions.committee_disciplines(account(), active_only=False).with_only_columns(
                Discipline.id, Discipline.name
            )
        )
        return [(r.id, r.name) for r in rows]

    def _unit_options(self):
        # Two columns, not Unit objects: a committee has ~2,000 entry units, and loading
        # them as objects was 40 % of its list page.
        units = (
            permissions.filing_units(account())
            .with_only_columns(Unit.id, Unit.name)
            .order_by(Unit.name)
        )
        return [(unit_id, name) for unit_id, name in self.db_session.execute(units)]

    # -- the list's 年度 + 状态 bar and its tabs -----------------------------
    # The bar speaks in two plain URL arguments, ``year`` and ``status`` (kept by
    # Flask-Admin's paging, sorting and export links as extra arguments); they are
    # turned into the view's own filters in ``get_list``, so the flt.. URLs of the
    # filter builder keep working beside them.
    def status_choices(self) -> list[tuple[str, str]]:
        """(value, title) of the 状态 choices: the work first, 全部 last."""
        choices = [(self.work_status, str(self.work_title))]
        choices += [(v, str(t)) for v, t in self._state_options() if v != self.work_status]
        if self.work_status != STATUS_ALL:
            choices.append((STATUS_ALL, str(_l("All"))))
        return choices

    def current_status(self, args=None) -> str:
        args = request.args if args is None else args
        wanted = args.get("status")
        if wanted in {value for value, _ in self.status_choices()}:
            return wanted
        # A link carrying the filter builder's arguments or a search (the
        # dashboard's, a bookmark) means exactly those, over every state.
        if args.get("search") or any(k.startswith("flt") for k in args):
            return STATUS_ALL
        return self.work_status

    def current_year(self, args=None) -> int | None:
        return (request.args if args is None else args).get("year", None, type=int)

    def list_state_from(self, args):
        """The filter builder's state plus the bar's choice (状态, 年度), both read from
        ``args``: the list a background job rebuilds is the one the page showed."""
        state = super().list_state_from(args)
        return state._replace(filters=[*(state.filters or ()), *self.bar_filters(args)])

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """The list with the bar's choice: the page's filters come without the bar's
        (an export's state has them already)."""
        filters = [*(filters or ())]
        filters += [bar for bar in self.bar_filters() if bar not in filters]
        return super().get_list(
            page, sort_column, sort_desc, search, filters, execute=execute, page_size=page_size
        )

    def bar_filters(self, args=None) -> list[tuple]:
        """The bar's choice (from ``args``, else the request's) as Flask-Admin filter
        tuples (index, name, value)."""
        if args is None and not has_request_context():
            return []
        wanted = []
        year = self.current_year(args)
        if year is not None:
            wanted.append(("year", str(year)))
        status = self.current_status(args)
        if status == STATUS_HELD:
            wanted.append(("modifiable", "1"))
        elif status != STATUS_ALL:
            wanted.append(("state", status))
        indexed = [(self.FILTER_KEYS.index(key), value) for key, value in wanted]
        indexed += [(index, value) for _, index, value in self.numbered_filters(args)]
        filters = self.filter_list()
        return [(index, str(filters[index].name), value) for index, value in indexed]

    @expose("/")
    def index_view(self):
        """An old link's numbered filters become named ones (the pager, the sorting and
        the filter builder carry only named ones)."""
        numbered = self.numbered_filters()
        if not numbered:
            return super().index_view()
        args = {k: v for k, v in request.args.items() if not NUMBERED_FILTER.fullmatch(k)}
        for position, index, value in numbered:
            args[f"flt{position}_{self.FILTER_KEYS[index]}"] = value
        return redirect(self.get_url(".index_view", **args))

    def list_url(self, **changes) -> str:
        """This list with the bar's current choice, changed by ``changes``."""
        args = {
            "status": self.current_status(),
            "year": self.current_year(),
            "search": request.args.get("search") or None,
            "page_size": request.args.get("page_size", None, type=int),
        }
        args |= changes
        return self.get_url(".index_view", **{k: v for k, v in args.items() if v is not None})

    # -- the tabs' counts, the pager's total and 首页's cards: one count -------------
    def state_rows(self, user, state: ProjectState, year: int | None = None):
        """The SELECT of ``user``'s projects in ``state`` (and ``year``): what a tab, its
        pager and the 首页 card linking to it count when nothing else narrows the list."""
        stmt = select(Project.id).where(self.scope(user), Project.state == state)
        return stmt if year is None else stmt.where(Project.year == year)

    def narrowed(self, args=None) -> tuple[str | None, list[tuple]]:
        """The list's search and the filter builder's filters (not the bar's 年度 and
        状态), read from ``args`` (else the request) as the list reads them."""
        args = request.args if args is None else args
        return args.get("search") or None, super().list_state_from(args).filters or []

    def state_counts(self) -> dict[ProjectState, int | None]:
        """Each state's count in the list as it is narrowed (the chosen year, the
        search, the filter builder's filters), read once per request and shared by the
        tabs and the pager (kept in ``list_context``); None for a state not counted.

        Nothing but the year narrows the list: a society's or the committee's counts
        are exact, from the tallies (``counts_exact``); an entry unit's a capped count
        per state (each an index range stopping after ``LIST_COUNT_CAP + 1`` rows).
        A search or a filter of the filter builder: ``_count_narrowed``."""
        context = list_context()
        if context.state_counts is None:
            context.state_counts, context.counts_exact = self._count_states()
        return context.state_counts

    def counts_exact(self) -> bool:
        """Whether ``state_counts`` are exact whatever their size (from the tallies)."""
        return list_context().counts_exact

    def _count_states(self) -> tuple[dict[ProjectState, int | None], bool]:
        user, year = self.list_account(), self.current_year()
        states = [ProjectState(value) for value, _ in self._state_options()]
        search, filters = self.narrowed()
        base = self.db_session.query(Project.id).filter(self.scope(user))
        if year is not None:
            base = base.filter(Project.year == year)
        if search or filters:
            return self._count_narrowed(base, states, search, filters), False
        tallied = tallied_states(self.db_session, user, year)
        if tallied is not None:
            return {state: tallied[0].get(state, 0) for state in states}, True
        cap = count_cap()
        counts = select(*(capped_count_of(base.filter(Project.state == s), cap) for s in states))
        return dict(zip(states, self.db_session.execute(counts).one(), strict=True)), False

    def _count_narrowed(self, base, states, search, filters) -> dict[ProjectState, int | None]:
        """The states' counts of a searched or filtered list: the list's own WHERE (its
        search, in the form meant for a count, and its filters), read as cheaply as
        the pager's count it replaces. One pass over the list's rows, stopping after
        ``LIST_COUNT_CAP + 1`` of them, counts every state when the list holds no more
        than the cap (the usual search); above it the 全部 tab is "超过 1,000", the
        current tab's states are counted each up to the cap (one more statement, the
        pager's), and another state is shown uncounted (None) unless the pass alone
        found it above the cap: no state is read to its end through every match."""
        base = self._narrowed(base, search, filters)
        cap = count_cap()
        if not cap:
            counts = select(*(capped_count_of(base.filter(Project.state == s), 0) for s in states))
            return dict(zip(states, self.db_session.execute(counts).one(), strict=True))
        rows = base.with_entities(Project.state.label("state")).limit(cap + 1).subquery()
        seen = dict(
            self.db_session.execute(select(rows.c.state, func.count()).group_by(rows.c.state)).all()
        )
        seen = {ProjectState(state): n for state, n in seen.items()}
        if sum(seen.values()) <= cap:
            return {state: seen.get(state, 0) for state in states}
        return self._count_above_cap(base, states, seen, cap)

    def _narrowed(self, base, search, filters):
        """The list's query narrowed by its search (in the form meant for a count) and
        its filters."""
        if search:
            base = self.search_query(base, base, {}, {}, search)[1]
        chosen = self.filter_list()
        for index, _, value in filters:
            base = chosen[index].apply(base, chosen[index].clean(value))
        return base

    def _count_above_cap(self, base, states, seen: dict, cap: int) -> dict:
        """The states' counts of a list holding more than the cap, after the one pass
        (``seen``): a state the pass found above the cap as such, the current tab's
        others each counted up to the cap, every other state uncounted (None)."""
        counts = {state: cap + 1 if seen.get(state, 0) > cap else None for state in states}
        current = self.current_status()
        wanted = [s for s in states if counts[s] is None and current != STATUS_ALL]
        wanted = [s for s in wanted if s in self.tab_states(current)]
        if wanted:
            read = select(*(capped_count_of(base.filter(Project.state == s), cap) for s in wanted))
            counts |= dict(zip(wanted, self.db_session.execute(read).one(), strict=True))
        return counts

    @staticmethod
    def tab_states(value: str) -> list[ProjectState]:
        """The states 状态 choice ``value`` lists."""
        if value == STATUS_ALL:
            return list(ProjectState)
        if value == STATUS_HELD:
            return [state for state in ProjectState if state.modifiable]
        return [ProjectState(value)]

    @staticmethod
    def tab_counts(value: str, by_state: dict) -> list:
        """The states' counts that make 状态 choice ``value``'s tab."""
        if value == STATUS_ALL:
            return list(by_state.values())
        if value == STATUS_HELD:
            return [n for state, n in by_state.items() if state.modifiable]
        return [by_state.get(ProjectState(value), 0)]

    def tab_figure(self, value: str) -> Figure | None:
        """状态 choice ``value``'s count as the tab, the pager and 首页 say it; None
        when it was not counted (``_count_narrowed``)."""
        counts = self.tab_counts(value, self.state_counts())  # read first: then exact?
        cap = 0 if self.counts_exact() else count_cap()
        if None not in counts:
            return summed_figure(counts, cap)
        # Some state not counted: the list holds more than the cap in all (the 全部
        # tab's pass stopped), or one of the tab's states did; else it is unknown.
        if value == STATUS_ALL or any(n is not None and n > cap for n in counts):
            return Figure(cap, True)
        return None

    # Whether ``state_counts`` count the list's own WHERE (search and filters too):
    # then the pager's total is the current tab's, with no count of its own.
    tabs_count_the_list = False

    def list_figure(self) -> Figure | None:
        """The pager's total: the current tab's figure (the list's WHERE is the tab's:
        its states, the year, the search and the filter builder's filters)."""
        if not self.tabs_count_the_list:
            return super().list_figure()
        return self.tab_figure(self.current_status())

    def status_tabs(self) -> list[dict]:
        """One tab per 状态 choice with its count in the list as narrowed (year,
        search, filters): "超过 1,000" above the cap, unless the count is exact; no
        count when it was not read."""
        current = self.current_status()
        tabs = []
        for value, title in self.status_choices():
            figure = self.tab_figure(value)
            tabs.append(
                {
                    "value": value,
                    "title": title,
                    # No count on a tab not counted (a search above the cap).
                    "count": figure.count if figure else None,
                    "more": figure.more if figure else False,
                    "words": figure.words if figure else "",
                    "active": value == current,
                    "url": self.list_url(status=value, page_size=None),
                }
            )
        return tabs

    def year_choices(self) -> list[int]:
        return [year for year, _ in self._year_options()]

    def _year_options(self):
        # Read by the bar and by the filter builder's options: once per request.
        context = list_context()
        if context.year_options is None:
            context.year_options = self._scope_years()
        return context.year_options

    def uses_filter_builder(self) -> bool:
        """Whether this page was opened with the filter builder's arguments (the
        list then shows them, with a way to clear them)."""
        return any(k.startswith("flt") for k in request.args)
