"""The 执行情况 lists (docs/domain.md#执行情况): 执行情况 (entry units: their published
projects, each with its report's state and due date), 执行情况审阅 (societies) and
执行情况审核 (the committee).

Built from the project lists' pieces: the 年度 + 状态 bar and its tabs
(``ProjectListBarMixin``), the capped count (``CappedCountMixin``), the bulk buttons,
reason page and done/skipped messages (``ProjectActionsMixin``), the list template
(``admin/project_list.html``). What differs is what the rows are (execution reports,
or an entry unit's published projects), their states (``ExecutionState``), and how
ticked rows move: through ``workflow.execution.move_bulk``, with the report's own
transition table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import abort, current_app, flash, g, redirect, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import and_, case, exists, false, func, or_, select

import permissions
from admin_views.base import ChoiceFilter, ScopedModelView, account, day
from admin_views.capped_count import CappedCountMixin, capped_count_of, count_cap
from admin_views.list_context import list_context
from admin_views.project_actions import ProjectActionsMixin, bulk_action
from admin_views.project_list_bar import STATUS_ALL, STATUS_HELD, ProjectListBarMixin
from admin_views.projects import ProjectView, period_cell
from admin_views.wording import RewordedMixin
from models import (
    ExecutionDeadline,
    ExecutionOwnerTally,
    ExecutionReport,
    ExecutionState,
    Project,
    ProjectState,
    execution_tally,
    search_index,
)
from models.base import beijing_today
from models.execution import due_on, due_on_sql
from models.rules import EXECUTION_LABELS
from models.vocabulary import PROJECT_LABELS, label
from workflow import Action, WorkflowError, execution
from workflow.machines import EXECUTIONS

E = ExecutionState
# The 状态 value of a published project whose report is not opened yet (the value
# execution_owner_tallies stores for it).
NO_REPORT = execution_tally.NO_REPORT
# The 状态 value of the published projects not reported by their due date.
LATE = "overdue"
# The report's page (admin_views/execution_report.py).
REPORT_PAGE = "execution.details"
# The states a reviewer's tabs show after its work, in the chain's order.
REVIEW_ORDER = (E.AT_SOCIETY, E.AT_COMMITTEE, E.RETURNED, E.ACCEPTED)

LABELS = {
    **PROJECT_LABELS,
    "report_state": _l("Execution reports"),
    "due_date": _l("Report due by"),
    "learners": _l("Number of learners"),
}


def report_url(report_id: int) -> str | None:
    """The report's page, once that page exists (another module adds it)."""
    if REPORT_PAGE not in current_app.view_functions:
        return None
    return url_for(REPORT_PAGE, id=report_id)


def _has_report(*conditions):
    """EXISTS a report of the row's project (meeting ``conditions``)."""
    return exists().where(ExecutionReport.project_id == Project.id, *conditions)


def _overdue():
    """The published projects not reported upward by their due date (today): with no
    report opened, due the committee's days for its year after the end date; with one
    still held by the unit, due on the report's own due date."""
    today = beijing_today()
    days = (
        select(ExecutionDeadline.days)
        .where(
            ExecutionDeadline.committee_id == Project.committee_id,
            ExecutionDeadline.year == Project.year,
        )
        .scalar_subquery()
    )
    unopened = ~_has_report() & (due_on_sql(Project.end_date, days) < today)
    held = [s for s in E if s.modifiable]
    late = _has_report(ExecutionReport.state.in_(held), ExecutionReport.due_date < today)
    return unopened | late


def _due_before(today: date):
    """The owner tallies' rows due before ``today``: the past years', this year's past
    months', this month's past days'."""
    t = ExecutionOwnerTally
    y, m, d = today.strftime("%Y"), today.strftime("%Y-%m"), today.isoformat()
    return or_(
        and_(t.grain == execution_tally.YEAR, t.bucket < y),
        and_(t.grain == execution_tally.MONTH, t.bucket >= f"{y}-01", t.bucket < m),
        and_(t.grain == execution_tally.DAY, t.bucket >= f"{m}-01", t.bucket < d),
    )


def _owner_tally_statement(owner_unit_id: int, year: int | None, today: date):
    """(状态 value, its projects, its projects late) of the owner's tally rows (of
    ``year``; None: every year): the year grain's rows and those due before ``today``."""
    t = ExecutionOwnerTally
    past = _due_before(today)
    held = [NO_REPORT, *(s.value for s in E if s.modifiable)]
    every = func.sum(case((t.grain == execution_tally.YEAR, t.projects), else_=0))
    late = func.sum(case((and_(past, t.value.in_(held)), t.projects), else_=0))
    stmt = select(t.value, every, late).where(
        t.owner_unit_id == owner_unit_id, or_(t.grain == execution_tally.YEAR, past)
    )
    if year is not None:
        stmt = stmt.where(t.year == year)
    return stmt.group_by(t.value)


def owner_counts(session, owner_unit_id: int, year: int | None, today: date) -> dict[str, int]:
    """{状态 value: count} of ``owner_unit_id``'s published projects (of ``year``; None:
    every year) as ``MyExecutionsView.status_conditions`` count them, from
    ``execution_owner_tallies``: each state's the year grain's rows, 已逾期's the held
    values' rows due before ``today`` (``_due_before``). One statement reading a few
    rows of the owner's key range."""
    rows = session.execute(_owner_tally_statement(owner_unit_id, year, today))
    found = {value: (int(n or 0), int(overdue or 0)) for value, n, overdue in rows}
    counts = {LATE: sum(overdue for _, overdue in found.values())}
    for value in (NO_REPORT, *(s.value for s in E)):
        counts[value] = found.get(value, (0, 0))[0]
    return counts


OVERDUE_BADGE = Markup(' <span class="badge badge-danger cme-overdue">{}</span>')


def state_cell(title, *, overdue: bool, reason: str | None = None) -> Markup:
    """A state with its marks: 已逾期 as words in a red badge (not colour alone), and
    the reason a report was sent back with."""
    cell = Markup("{}").format(title)
    if overdue:
        cell += OVERDUE_BADGE.format(gettext("Past its due date"))
    if reason:
        note = gettext("Reason for return: %(reason)s", reason=reason)
        cell += Markup('<br><small class="text-danger cme-reason">{}</small>').format(note)
    return cell


@dataclass
class RowFacts:
    """What the entry unit's list learns of its page's rows, once per request."""

    reports: dict[int, ExecutionReport] = field(default_factory=dict)
    due_days: dict[int, int] = field(default_factory=dict)
    today: date = field(default_factory=date.today)


def row_facts() -> RowFacts:
    if "execution_rows" not in g:
        g.execution_rows = RowFacts()
    return g.execution_rows


class StateOfReportFilter(ChoiceFilter):
    """执行情况 of a published project: its report's state, or none opened yet."""

    def apply(self, query, value, alias=None):
        if value == NO_REPORT:
            return query.filter(~_has_report())
        if value == LATE:
            return query.filter(_overdue())
        return query.filter(_has_report(ExecutionReport.state == value))


class HeldReportFilter(ChoiceFilter):
    """The rows the entry unit holds: no report yet, or one not reported (or returned)."""

    def apply(self, query, value, alias=None):
        others = _has_report(ExecutionReport.state.not_in([s for s in E if s.modifiable]))
        return query.filter(~others if value == "1" else others)


class ModifiableReportFilter(ChoiceFilter):
    """修改状态 of a report: 可修改 = held by the entry unit (draft or returned)."""

    def apply(self, query, value, alias=None):
        held = ExecutionReport.state.in_([s for s in E if s.modifiable])
        return query.filter(held if value == "1" else ~held)


def _report_state(value: str):
    return value if value in (NO_REPORT, LATE) else E(value).value


class ExecutionListView(
    ProjectActionsMixin, RewordedMixin, ProjectListBarMixin, CappedCountMixin, ScopedModelView
):
    """What the three lists share: the bar, the tabs' counts by report state, the
    bulk buttons of the report's transition table, the template."""

    can_create = can_edit = can_delete = can_export = can_view_details = False
    list_template = "admin/executions_list.html"
    column_labels = LABELS
    column_display_pk = False
    plain_columns = staticmethod(ProjectView.plain_columns)
    # The report's own table and words: 设为可修改 asks for its (required) reason first.
    machine = EXECUTIONS
    action_report = bulk_action(Action.REPORT, EXECUTIONS)
    action_unlock = bulk_action(Action.UNLOCK, EXECUTIONS)
    action_accept = bulk_action(Action.ACCEPT, EXECUTIONS)
    # The 状态 values of the tab the entry unit's work makes (``STATUS_HELD``).
    held_values: tuple[str, ...] = ()
    # 状态 values whose rows are counted under a state too (not added to 全部).
    cutting_across: frozenset[str] = frozenset()
    # The tabs' counts (tallied, or capped) count the list's own WHERE (year, search,
    # filters): the pager's total is the current tab's, with no count of its own.
    tabs_count_the_list = True

    def list_filters(self) -> list:
        """The filters, in the order of ``FILTER_KEYS``."""
        raise NotImplementedError

    def get_filters(self):
        filters = self.list_filters()
        for key, flt in zip(self.FILTER_KEYS, filters, strict=True):
            flt.url_name = key  # named in the URL, as on the project lists
        return filters

    def bulk_move(self, action_: Action, ids: list[int], reason):
        return execution.move_bulk(self.db_session, action_, account(), ids, reason)

    def get_list(self, *args, execute=True, **kwargs):
        # With the bar's filters (ProjectListBarMixin); the rows' own facts once per page.
        count, data = super().get_list(*args, execute=execute, **kwargs)
        if execute:
            self.learn_rows(data)
        return count, data

    def learn_rows(self, rows) -> None:
        """Read what the page's rows need beyond themselves (nothing by default)."""

    # -- the search ------------------------------------------------------------
    # The rows and columns the search box reads (``search_index.PROJECT_ROWS`` or
    # ``REPORT_ROWS``: Flask-Admin's ``column_searchable_list``, from the indexes).
    searched: tuple = ()

    def indexed_search(self, search: str | None) -> search_index.ListSearch | None:
        """The search read from the trigram indexes (``search_index.list_search``), once
        per request: the page, the tabs' counts and the pager share it. None without a
        term the indexes can look up."""
        if not search or not self.searched:
            return None
        user = self.list_account()
        found = g.setdefault("execution_search", {})
        key = (self.endpoint, getattr(user, "id", None), search)
        if key not in found:
            found[key] = search_index.list_search(self.db_session, self.searched, search)
        return found[key]

    def search_query(self, query, count_query, joins, count_joins, search):
        """Flask-Admin's ILIKE per term, plus the indexes' rows for the terms they can
        look up, in the form that suits the page and the count (as the project lists:
        ``ProjectView.search_query``)."""
        query, count_query, joins, count_joins = super().search_query(
            query, count_query, joins, count_joins, search
        )
        found = self.indexed_search(search)
        if found is not None and found.page is not None:
            query = query.filter(found.page)
            if count_query is not None:
                count_query = count_query.filter(found.count)
        return query, count_query, joins, count_joins

    # -- the tabs --------------------------------------------------------------
    def status_conditions(self) -> dict[str, object]:
        """{状态 value: the WHERE clause of its rows} of every state a tab counts."""
        raise NotImplementedError

    def state_counts(self) -> dict[str, int]:
        """Each state's count in the list as it is narrowed (the chosen year, the search,
        the filter builder's filters: the list's own WHERE), read once per request (the
        tabs and the pager share it): exact from a tally where the view has one
        (``tallied_counts``), else capped: one statement."""
        context = list_context()
        if context.state_counts is None:
            tallied = None if any(self.narrowed()) else self.tallied_counts()
            context.counts_exact = tallied is not None
            context.state_counts = tallied if tallied is not None else self.capped_counts()
        return context.state_counts

    def tallied_counts(self) -> dict[str, int] | None:
        """The counts of the list narrowed by 年度 alone from a summary table, exact;
        None when the view has none for the account."""
        return None

    def list_figure(self):
        """The pager's total: the current tab's (``tabs_count_the_list``: the tabs count
        the list's own WHERE, exact from a tally or capped), no count of its own."""
        self.state_counts()
        return self.tab_figure(self.current_status())

    def capped_counts(self) -> dict[str, int | None]:
        """Each state's count in the list as narrowed (its year, search and filters),
        capped. Filters alone: each state's capped count, one statement. A search: as
        the project lists (``ProjectListBarMixin._count_narrowed``), one pass over the
        list's rows stopping after ``LIST_COUNT_CAP + 1`` of them counts every state when
        the list holds no more (the usual search); above it 全部 is "超过 1,000", the
        current tab's states are counted each up to the cap (one more statement), and
        another state is uncounted (None) unless the pass alone found it above the cap.
        The search's rows come from the indexes when they know them exactly
        (``search_index.list_search``: no LIKE, no join), else Flask-Admin's LIKE."""
        cap, year = count_cap(), self.current_year()
        conditions = self.status_conditions()
        search, filters = self.narrowed()
        base = self.counted_rows(year, search, filters)
        if not (search and cap):
            return self.each_state_capped(base, conditions, list(conditions), cap)
        total, seen = self.pass_over_rows(base, conditions, cap)
        if total <= cap:
            return seen
        counts = {key: cap + 1 if n > cap else None for key, n in seen.items()}
        return counts | self.current_tab_capped(base, conditions, counts, cap)

    def counted_rows(self, year: int | None, search: str | None, filters: list[tuple]):
        """The ids of the list's rows as it is narrowed: its scope, ``year``, ``search``
        (``searched_rows``) and the filter builder's ``filters``."""
        base = self.db_session.query(self.model.id).filter(self.scope(account()))
        if year is not None:
            base = base.filter(self.model.year == year)
        base = self.searched_rows(base, search)
        chosen = self.filter_list()
        for index, _, value in filters:
            base = chosen[index].apply(base, chosen[index].clean(value))
        return base

    def searched_rows(self, base, search: str | None):
        """``base`` narrowed by ``search``: by the indexes' rows when they know them
        exactly (no LIKE, no join), else by Flask-Admin's LIKE in the form meant for a
        count."""
        found = self.indexed_search(search)
        if found is not None and found.matches is not None and found.exact:
            return base.filter(found.matches)
        if search:
            return self.search_query(base, base, {}, {}, search)[1]
        return base

    def each_state_capped(self, base, conditions: dict, keys: list[str], cap: int) -> dict:
        """{状态 value: its count up to ``cap``} of ``keys`` in ``base``: one statement."""
        read = select(*(capped_count_of(base.filter(conditions[k]), cap) for k in keys))
        return dict(zip(keys, self.db_session.execute(read).one(), strict=True))

    def pass_over_rows(self, base, conditions: dict, cap: int) -> tuple[int, dict[str, int]]:
        """The rows one pass over ``base`` reads, stopping after ``cap + 1`` of them, and
        {状态 value: how many of them it holds}: one statement."""
        flags = [case((c, 1), else_=0).label(f"s{n}") for n, c in enumerate(conditions.values())]
        rows = base.with_entities(*flags).limit(cap + 1).subquery()
        total, *seen = self.db_session.execute(
            select(func.count(), *(func.coalesce(func.sum(c), 0) for c in rows.c))
        ).one()
        return total, dict(zip(conditions, seen, strict=True))

    def current_tab_capped(self, base, conditions: dict, counts: dict, cap: int) -> dict:
        """The current tab's states the pass left uncounted (None in ``counts``), each
        counted up to ``cap`` (one statement; none for 全部 or when there are none)."""
        current = self.current_status()
        wanted = [] if current == STATUS_ALL else self.tab_values(current)
        wanted = [key for key in wanted if key in counts and counts[key] is None]
        if not wanted:
            return {}
        return self.each_state_capped(base, conditions, wanted, cap)

    def tab_values(self, value: str) -> list[str]:
        """The 状态 values 状态 choice ``value`` (not 全部) lists."""
        return list(self.held_values) if value == STATUS_HELD else [value]

    def tab_counts(self, value: str, by_state: dict[str, int]) -> list[int]:
        if value == STATUS_ALL:
            return [n for key, n in by_state.items() if key not in self.cutting_across]
        if value == STATUS_HELD:
            return [by_state.get(v, 0) for v in self.held_values]
        return [by_state.get(value, 0)]

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, WorkflowError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)


# -- 执行情况: the entry unit's published projects --------------------------------------
def _report_state_cell(view, context, project, name):
    report = row_facts().reports.get(project.id)
    if report is None:
        return state_cell(gettext("Report not filed"), overdue=view.overdue(project))
    state = E(report.state)
    reason = report.return_reason if state is E.RETURNED else None
    return state_cell(state.title, overdue=view.overdue(project), reason=reason)


class MyExecutionsView(ExecutionListView):
    """执行情况: an entry unit's published projects (every year, newest first), each
    with its report's state and due date; 填报执行情况 opens a report, 上报所选
    reports the ticked ones."""

    permission = "project-enter"
    bulk_actions = (Action.REPORT,)
    work_status = STATUS_HELD
    work_title = _l("To report (not filed, not reported or returned)")
    held_values = (NO_REPORT, E.DRAFT.value, E.RETURNED.value)
    cutting_across = frozenset({LATE})
    empty_list_message = _l(
        "No published project yet: the execution of a project is reported once it is published."
    )
    column_list = ["year", "project_no", "name", "period", "credits", "report_state", "due_date"]
    column_sortable_list = ["year", "project_no", "name", ("period", "start_date")]
    column_default_sort = [("start_date", True), ("id", True)]
    column_searchable_list = ["name", "project_no", "principal"]
    # Not read from the indexes: an entry unit's published projects are a few hundred
    # or thousand rows, which the LIKE reads along (owner, state) in less time than a
    # lookup in the whole database's index takes (PostgreSQL, 200,000 projects: 5-50 ms
    # for a term in thousands of other units' projects).
    searched = ()
    column_formatters = {
        "period": lambda v, c, p, n: period_cell(p.start_date, p.end_date),
        "report_state": _report_state_cell,
        "due_date": lambda v, c, p, n: day(v.due_date(p)),
    }
    phone_columns = frozenset({"name", "period", "report_state", "due_date"})
    FILTER_KEYS = ("year", "state", "modifiable")

    def scope(self, user):
        return permissions.project_visibility(user) & (Project.state == ProjectState.PUBLISHED)

    def list_filters(self) -> list:
        return [
            ChoiceFilter(Project.year, label("year"), self._year_options, coerce=int),
            StateOfReportFilter(
                Project.id, LABELS["report_state"], self._state_options, coerce=_report_state
            ),
            HeldReportFilter(Project.id, self.work_title, lambda: [("1", self.work_title)]),
        ]

    def _state_options(self):
        return [
            (LATE, _l("Past its due date")),
            (NO_REPORT, _l("Report not filed")),
            *((s.value, s.title) for s in E),
        ]

    def status_conditions(self):
        conditions = {LATE: _overdue(), NO_REPORT: ~_has_report()}
        conditions |= {s.value: _has_report(ExecutionReport.state == s) for s in E}
        return conditions

    def tallied_counts(self) -> dict[str, int] | None:
        """An entry unit's counts from ``execution_owner_tallies`` (its own rows: what
        ``permissions.project_visibility`` gives an entry unit, published)."""
        user = account()
        unit = getattr(user, "unit", None)
        if unit is None or not unit.kind.is_entry or not user.is_active:
            return None
        return owner_counts(self.db_session, unit.id, self.current_year(), beijing_today())

    def learn_rows(self, projects) -> None:
        """The page's reports and the committee's due days: two queries, whatever the rows."""
        facts = row_facts()
        ids = [p.id for p in projects]
        if ids:
            # The page's ids drive the lookup (by project_id); the scope is a filter on
            # them, not an index choice: the planner's statistics give a unit a few
            # reports, a busy branch has thousands (``coalesce`` keeps SQLite off the
            # owner's index; a NULL is not visible either way).
            visible = func.coalesce(permissions.execution_visibility(account()), false())
            reports = self.db_session.scalars(
                select(ExecutionReport).where(ExecutionReport.project_id.in_(ids), visible)
            )
            facts.reports = {r.project_id: r for r in reports}
            years = {p.year for p in projects}
            rows = self.db_session.execute(
                select(ExecutionDeadline.year, ExecutionDeadline.days).where(
                    ExecutionDeadline.committee_id == account().unit.committee_id,
                    ExecutionDeadline.year.in_(years),
                )
            )
            facts.due_days = dict(rows.all())

    def due_date(self, project) -> date:
        """应报日期: the report's, or the end date + the committee's days for its year."""
        facts = row_facts()
        if (report := facts.reports.get(project.id)) is not None:
            return report.due_date
        return due_on(project.end_date, facts.due_days.get(project.year))

    def overdue(self, project) -> bool:
        """Not reported by its due date: no report opened, or one still held."""
        facts = row_facts()
        report = facts.reports.get(project.id)
        if report is not None:
            return execution.is_overdue(report, facts.today)
        return facts.today > self.due_date(project)

    def row_report(self, project) -> dict:
        """The row's tick and links: the report's id (ticked for 上报所选) and page,
        or where to open one."""
        report = row_facts().reports.get(project.id)
        if report is None:
            return {
                "tick": None,
                "view": None,
                "open": self.get_url(".open_report", project_id=project.id),
            }
        return {"tick": report.id, "view": report_url(report.id), "open": None}

    @expose("/open/<id:project_id>", methods=("POST",))
    def open_report(self, project_id: int):
        """填报执行情况: the project's report, opened now if it was not yet."""
        project = self.get_query().filter(Project.id == project_id).one_or_none()
        if project is None:
            abort(404)
        try:
            report = execution.open_report(self.db_session, account(), project)
            self.db_session.commit()
        except WorkflowError as error:
            self.db_session.rollback()
            flash(str(error), "error")
            return redirect(self.get_url(".index_view"))
        target = report_url(report.id)
        if target is None:
            flash(gettext("Execution report of “%(name)s” opened.", name=project.name), "success")
            return redirect(self.get_url(".index_view"))
        return redirect(target)


# -- 执行情况审阅 / 执行情况审核: the reports a reviewer may see -------------------------------
def _review_state_cell(view, context, report, name):
    state = E(report.state)
    reason = report.return_reason if state is E.RETURNED else None
    return state_cell(state.title, overdue=execution.is_overdue(report), reason=reason)


class ExecutionReviewView(ExecutionListView):
    """The reports a society or the committee may see, its work first."""

    bulk_actions = (Action.REPORT, Action.UNLOCK)
    empty_list_message = _l("No execution report matches.")
    can_export = True
    # The list as a file (导出): what the rows show, dates apart, and when it moved.
    export_columns = (
        ("year", LABELS["year"]),
        (lambda r: r.project.project_no, LABELS["project_no"]),
        ("name", LABELS["name"]),
        (lambda r: r.owner_unit.name, LABELS["owner_unit"]),
        ("start_date", LABELS["start_date"]),
        ("end_date", LABELS["end_date"]),
        ("credits", EXECUTION_LABELS["credits"]),
        ("learners", LABELS["learners"]),
        (lambda r: E(r.state).title, LABELS["state"]),
        ("due_date", LABELS["due_date"]),
        ("reported_at", LABELS["reported_at"]),
        ("accepted_at", _l("Accepted at")),
    )
    column_list = [
        "year",
        "project_no",
        "name",
        "owner_unit",
        "period",
        "learners",
        "state",
        "due_date",
    ]
    column_sortable_list = [
        "year",
        "name",
        ("period", "start_date"),
        "learners",
        "state",
        "due_date",
    ]
    column_default_sort = [("updated_at", True), ("id", True)]
    # The report's name, its project's number and principal: what the indexes cover.
    column_searchable_list = list(search_index.REPORT_SEARCH)
    searched = search_index.REPORT_ROWS
    column_formatters = {
        "project_no": lambda v, c, r, n: r.project.project_no or "",
        "owner_unit": lambda v, c, r, n: r.owner_unit.name,
        "period": lambda v, c, r, n: period_cell(r.start_date, r.end_date),
        "state": _review_state_cell,
    }
    phone_columns = frozenset({"name", "owner_unit", "period", "state", "due_date"})
    FILTER_KEYS = ("year", "state", "modifiable", "unit")

    def scope(self, user):
        return permissions.execution_visibility(user)

    def list_filters(self) -> list:
        return [
            ChoiceFilter(ExecutionReport.year, label("year"), self._year_options, coerce=int),
            ChoiceFilter(ExecutionReport.state, label("state"), self._state_options, coerce=E),
            ModifiableReportFilter(
                ExecutionReport.state,
                label("modifiable"),
                lambda: [("1", E.DRAFT.modifiable_title), ("0", E.ACCEPTED.modifiable_title)],
            ),
            ChoiceFilter(
                ExecutionReport.owner_unit_id, label("owner_unit"), self._unit_options, coerce=int
            ),
        ]

    def _scope_years(self):
        """From the scope's first year to its last (or this year): per reviewed state,
        two probes of its (unit, state, year) index, in one statement (the scope's
        ``state != draft`` alone leaves the planner a scan of every report of the unit)."""
        year = ExecutionReport.year
        ends = [
            self._scoped(year).where(ExecutionReport.state == state).order_by(o).limit(1)
            for state in REVIEW_ORDER
            for o in (year, year.desc())
        ]
        found = self.db_session.execute(select(*(e.scalar_subquery() for e in ends))).one()
        years = [y for y in found if y is not None]
        if not years:
            return []
        low, high = min(years), max(years)
        return [(y, y) for y in range(max(high, date.today().year), low - 1, -1)]

    def _state_options(self):
        return [(s.value, s.title) for s in REVIEW_ORDER]

    def status_conditions(self):
        return {s.value: ExecutionReport.state == s for s in REVIEW_ORDER}

    def row_report(self, report) -> dict:
        return {"tick": report.id, "view": report_url(report.id), "open": None}


class SocietyExecutionsView(ExecutionReviewView):
    """执行情况审阅: a society reviews its branches' reports."""

    permission = "project-review"
    work_status = E.AT_SOCIETY.value
    work_title = _l("Awaiting review")


class CommitteeExecutionsView(ExecutionReviewView):
    """执行情况审核: the committee accepts the reports, or sends them back."""

    permission = "project-audit"
    bulk_actions = (Action.ACCEPT, Action.UNLOCK)
    work_status = E.AT_COMMITTEE.value
    work_title = _l("Awaiting audit")


def register(admin) -> None:
    from extensions import db

    admin.add_view(
        MyExecutionsView(
            Project, db, name=_l("Execution reports"), endpoint="executions", url="executions"
        )
    )
    admin.add_view(
        SocietyExecutionsView(
            ExecutionReport,
            db,
            name=_l("Execution review"),
            endpoint="execution_review",
            url="execution-review",
        )
    )
    admin.add_view(
        CommitteeExecutionsView(
            ExecutionReport,
            db,
            name=_l("Execution audit"),
            endpoint="execution_audit",
            url="execution-audit",
        )
    )
