"""Filing rules (备案规则): the committee's checks before a project moves up.

Each rule is a small class judging one candidate (a project about to be
reported or published, or a row of a form or an import) against the
committee's setting for the project's year (``models.FilingRule``). A rule of
severity "block" holds the project back (``hooks.checking``); one of severity
"warn" lets it move and records the warning (``hooks.moved``), which every
reviewer above then sees until the project moves up again.

Whatever the number of projects, a check costs a constant number of
statements: the settings of every (committee, year) concerned, the projects'
own values with their lecturers, the other projects of the same names or
principals, and the reporting units' overdue execution reports
(``workflow.execution_rules``). A committee's rules apply to the projects of its own tree only
(the project's ``committee_id``).

Entry points besides the engine's signals:
- ``check_values(session, account, values_list)``: the rules a list of field
  values would break if ``account``'s unit reported them now (the form's
  yellow box, the import preview);
- ``warnings_for(session, account, project_ids)``: the recorded warnings of
  projects, worded for ``account``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, false, func, insert, or_, select, true
from sqlalchemy.orm import Session

from models import (
    DEFAULT_PARAMS,
    FilingRule,
    Lecturer,
    Project,
    ProjectLevel,
    ProjectState,
    ProjectWarning,
    RuleKind,
    Severity,
    UnitKind,
    utcnow,
)
from permissions.relations import OWNERS, relation
from permissions.scopes import project_visibility
from workflow import execution_rules
from workflow.errors import NotAllowed
from workflow.transitions import TRANSITIONS, Action, find

S = ProjectState
BEIJING = ZoneInfo("Asia/Shanghai")
CHECKED_ACTIONS = (Action.REPORT, Action.PUBLISH)
# The states a project still leaves by a checked move (read from the transition
# table): only there do the warnings it moved up with still matter. A published
# project has passed its last check (withdrawing it checks nothing).
CHECKED_STATES = frozenset(
    state for t in TRANSITIONS if t.action in CHECKED_ACTIONS for state in t.sources
)
# The other projects that already passed the gate a project is about to pass: a
# duplicate is refused (or flagged) at the gate its original went through first.
FILED = {
    S.AT_SOCIETY: (S.AT_SOCIETY, S.AT_COMMITTEE, S.PUBLISHED),
    S.AT_COMMITTEE: (S.AT_COMMITTEE, S.PUBLISHED),
    S.PUBLISHED: (S.PUBLISHED,),
}
# Where the warnings computed by ``checking`` wait for ``moved`` (same session).
_PENDING = "filing_rule_warnings"

MESSAGES = {
    "deadline": _l(
        "Filing deadline: report at least %(need)s days before the start date (%(start)s);"
        " it is %(days)s days before."
    ),
    "deadline_passed": _l(
        "Filing deadline: the start date (%(start)s) has passed; report at least %(need)s"
        " days before it."
    ),
    "credits_hours": _l(
        "Credits and hours: %(credits)s credits exceed the total hours %(hours)s ÷ %(per)s"
        " = %(most)s."
    ),
    "credits_level": _l(
        "Credits and hours: a %(level)s project gives at most %(most)s credits, this one"
        " %(credits)s."
    ),
    "duplicate_name": _l("Duplicate project: %(other)s of the same name is already filed."),
    "duplicate_principal": _l(
        "Duplicate project: %(other)s of the same principal %(principal)s, with"
        " overlapping dates, is already filed."
    ),
    "quota": _l(
        "Principal's quota: %(principal)s already leads %(count)s filed projects this year;"
        " at most %(most)s."
    ),
    "no_lecturer": _l("Lecturers: enter at least one lecturer."),
    "untitled": _l("Lecturers: enter the title of %(names)s."),
    "overdue_reports": _l(
        "Overdue execution reports: the unit has %(count)s execution reports overdue by more"
        " than %(days)s days, the earliest due on %(since)s."
    ),
}
HIDDEN_PROJECT = _l("a project of another unit")


def _num(value) -> str:
    """4.0 → "4", 4.5 → "4.5": how the form shows hours and credits."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Violation:
    """One rule a candidate breaks: its kind and severity, which message
    (``code``) and the message's values. A duplicate carries the other project's
    id and name; ``named`` says whether the reader may see it."""

    kind: RuleKind
    severity: Severity
    code: str
    params: dict = field(default_factory=dict)

    @property
    def blocks(self) -> bool:
        return self.severity is Severity.BLOCK

    def message(self, named: bool | None = None) -> str:
        params = dict(self.params)
        if "other_id" in params:
            shown = params.get("named") if named is None else named
            other = f"“{params['other_name']}”" if shown else gettext(HIDDEN_PROJECT)
            params["other"] = other
        return str(MESSAGES[self.code]) % params


@dataclass
class Candidate:
    """What the rules read of one project, whether stored or not yet."""

    key: object
    project_id: int | None
    committee_id: int
    year: int
    target: ProjectState
    as_of: date
    name: str = ""
    principal: str = ""
    start_date: date | None = None
    end_date: date | None = None
    level: ProjectLevel | None = None
    credits: float | None = None
    hours: float | None = None
    # How many lecturers, and the names of those without a title.
    lecturers: int = 0
    untitled: list[str] = field(default_factory=list)
    # The entry unit reporting its own project (the overdue-reports rule judges
    # it); None when a society forwards it or the committee publishes it.
    reporting_unit_id: int | None = None


@dataclass
class Others:
    """The other projects the duplicate and quota rules compare with, by
    (committee, year, name) and (committee, year, principal)."""

    by_name: dict = field(default_factory=lambda: defaultdict(list))
    by_principal: dict = field(default_factory=lambda: defaultdict(list))
    # The reporting units' overdue execution reports: {unit_id: [(due date, count)]}.
    overdue: dict = field(default_factory=dict)


# -- the rules ------------------------------------------------------------------
class Rule:
    kind: RuleKind

    def check(self, c: Candidate, setting: Setting, others: Others, peers) -> list:
        raise NotImplementedError

    def violation(self, setting: Setting, code: str, **params) -> Violation:
        return Violation(self.kind, setting.severity, code, params)


class Deadline(Rule):
    """Reported at least N days before 开始日期."""

    kind = RuleKind.DEADLINE

    def check(self, c, setting, others, peers):
        if c.start_date is None:
            return []
        need = int(setting.param("days"))
        days = (c.start_date - c.as_of).days
        if days >= need:
            return []
        start = c.start_date.isoformat()
        code = "deadline_passed" if days < 0 else "deadline"
        return [self.violation(setting, code, need=need, days=days, start=start)]


class CreditsForHours(Rule):
    """学分 ≤ 总学时 ÷ hours per credit, and ≤ the level's maximum."""

    kind = RuleKind.CREDITS

    def check(self, c, setting, others, peers):
        if c.credits is None:
            return []
        found = []
        per = float(setting.param("hours_per_credit"))
        if c.hours is not None and per > 0 and c.credits > c.hours / per + 1e-9:
            found.append(
                self.violation(
                    setting,
                    "credits_hours",
                    credits=_num(c.credits),
                    hours=_num(c.hours),
                    per=_num(per),
                    most=_num(int(c.hours / per * 2) / 2),
                )
            )
        if c.level is not None:
            most = setting.param(f"max_{ProjectLevel(c.level).value}")
            if most is not None and c.credits > float(most):
                found.append(
                    self.violation(
                        setting,
                        "credits_level",
                        level=str(ProjectLevel(c.level).title),
                        most=_num(most),
                        credits=_num(c.credits),
                    )
                )
        return found


def _overlap(a_start, a_end, b_start, b_end) -> bool:
    if None in (a_start, a_end, b_start, b_end):
        return False
    return a_start <= b_end and b_start <= a_end


class Duplicate(Rule):
    """The same name, or the same 负责人 with overlapping dates, already filed in
    the committee's tree that year (or earlier in the same batch)."""

    kind = RuleKind.DUPLICATE

    def check(self, c, setting, others, peers):
        key = (c.committee_id, c.year)
        same_name = _filed_others(others.by_name, (*key, c.name), c)
        same_name += peers.by_name.get(c.name, [])
        if same_name:
            return [self._naming(setting, "duplicate_name", same_name[0])]
        overlapping = [
            o
            for o in [
                *_filed_others(others.by_principal, (*key, c.principal), c),
                *peers.by_principal.get(c.principal, ()),
            ]
            if _overlap(o["start_date"], o["end_date"], c.start_date, c.end_date)
        ]
        if overlapping:
            return [
                self._naming(setting, "duplicate_principal", overlapping[0], principal=c.principal)
            ]
        return []

    def _naming(self, setting, code: str, other: dict, **params) -> Violation:
        """The violation naming the other project (its name shown only to whom may
        see it)."""
        return self.violation(
            setting,
            code,
            other_id=other["id"],
            other_name=other["name"],
            named=other["visible"],
            **params,
        )


def _filed_others(group: Mapping, key: tuple, c) -> list[dict]:
    """The stored projects of ``group`` under ``key`` that count as filed where the
    candidate goes, the candidate itself left out."""
    filed = FILED[c.target]
    return [o for o in group.get(key, ()) if o["id"] != c.project_id and o["state"] in filed]


class Quota(Rule):
    """A 负责人 leads at most N filed projects a year in the committee's tree."""

    kind = RuleKind.QUOTA

    def check(self, c, setting, others, peers):
        if not c.principal:
            return []
        most = int(setting.param("max_projects"))
        count = len(_filed_others(others.by_principal, (c.committee_id, c.year, c.principal), c))
        count += len(peers.by_principal.get(c.principal, ()))
        if count + 1 <= most:
            return []
        return [self.violation(setting, "quota", principal=c.principal, count=count, most=most)]


class Lecturers(Rule):
    """At least one lecturer, each with a title."""

    kind = RuleKind.LECTURERS

    def check(self, c, setting, others, peers):
        if not c.lecturers:
            return [self.violation(setting, "no_lecturer")]
        if c.untitled:
            return [self.violation(setting, "untitled", names="、".join(c.untitled))]
        return []


class OverdueReports(Rule):
    """The reporting unit has no execution report overdue by more than N days
    (``workflow.execution_rules.overdue_reports``)."""

    kind = RuleKind.OVERDUE_REPORTS

    def check(self, c, setting, others, peers):
        if c.reporting_unit_id is None:
            return []
        days = int(setting.param("overdue_days"))
        cutoff = c.as_of - timedelta(days=days)
        dues = [(due, n) for due, n in others.overdue.get(c.reporting_unit_id, ()) if due < cutoff]
        if not dues:
            return []
        count = sum(n for _, n in dues)
        since = dues[0][0].isoformat()
        return [self.violation(setting, "overdue_reports", count=count, days=days, since=since)]


RULES: dict[RuleKind, Rule] = {
    rule.kind: rule
    for rule in (
        Deadline(),
        CreditsForHours(),
        Duplicate(),
        Quota(),
        Lecturers(),
        OverdueReports(),
    )
}


# -- settings -------------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    """An active rule as the checks read it (a plain value, not the ORM row: a
    bulk action reads its parameters once per project)."""

    kind: RuleKind
    severity: Severity
    params: dict

    def param(self, name: str):
        return self.params.get(name, DEFAULT_PARAMS[self.kind][name])


def active_settings(session: Session, keys: Iterable[tuple[int, int]]) -> dict:
    """The active rules of each (committee, year) among ``keys``: one statement.

    A year "has its own rules" when any rule row is stored for it (saving the rules
    page stores every kind, so a year saved with all of them off has none). A year
    without rows follows the latest earlier year that has some (``ruling_years``):
    the committee's 2026 rules keep checking its 2027 projects until it sets 2027's.
    Only keys with at least one active rule are in the answer."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    stored = _stored_rules(session, {c for c, _ in keys}, max(y for _, y in keys))
    answer = {}
    for key in keys:
        ruling = _ruling_year(stored.get(key[0], {}), key[1])
        if ruling is None:
            continue
        if found := _active(stored[key[0]][ruling]):
            answer[key] = found
    return answer


def _active(rows: Mapping) -> dict:
    """The active settings among one year's stored rule rows (``{kind: row}``), in the
    rules' order, so that a project's messages always come in one order."""
    found = {
        kind: Setting(kind, Severity(row.severity), dict(row.params or {}))
        for kind, row in rows.items()
        if row.active
    }
    return {k: found[k] for k in RULES if k in found}


def _stored_rules(session: Session, committees: set[int], latest: int) -> dict:
    """Every stored rule row of ``committees`` up to the year ``latest``:
    ``{committee: {year: {kind: row}}}``, one statement (a few rows a year)."""
    stmt = select(
        FilingRule.committee_id,
        FilingRule.year,
        FilingRule.kind,
        FilingRule.severity,
        FilingRule.params,
        FilingRule.active,
    ).where(FilingRule.committee_id.in_(sorted(committees)), FilingRule.year <= latest)
    stored: dict = defaultdict(lambda: defaultdict(dict))
    for row in session.execute(stmt):
        stored[row.committee_id][row.year][RuleKind(row.kind)] = row
    return stored


def _ruling_year(years: Mapping[int, object], year: int) -> int | None:
    """The year whose rules apply to ``year``: itself if it has rows, else the
    latest earlier one that has; None if no year up to it has any."""
    return max((y for y in years if y <= year), default=None)


def ruling_year(session: Session, committee_id: int, year: int) -> int | None:
    """The year whose rules apply to the committee's ``year`` (see
    ``active_settings``): ``year`` itself, an earlier year it follows, or None."""
    stmt = select(func.max(FilingRule.year)).where(
        FilingRule.committee_id == committee_id, FilingRule.year <= year
    )
    return session.scalar(stmt)


def copy_rules(session: Session, committee_id: int, source: int, year: int) -> int:
    """复制并修改: store the rules of the committee's year ``source`` as ``year``'s
    own (every kind, on or off as in ``source``), so that they can be changed for
    ``year`` alone. Flushes, never commits; returns how many rules are on."""
    _store_as(session, committee_id, year, settings_of(session, committee_id, source))
    return sum(1 for rule in settings_of(session, committee_id, year).values() if rule.active)


def clear_rules(session: Session, committee_id: int, year: int) -> None:
    """本年度不设规则: every kind of ``year`` stored off, so that no earlier year's
    rules carry over into it. Flushes, never commits."""
    _store_as(session, committee_id, year, settings_of(session, committee_id, year), active=False)


def _store_as(session: Session, committee_id: int, year: int, settings: dict, active=None) -> None:
    """``settings`` (``settings_of``'s) stored as the committee's ``year``'s own: each
    kind's severity and parameters, on or off as it is (or as ``active`` says)."""
    for kind, rule in settings.items():
        set_rule(
            session,
            committee_id,
            year,
            kind,
            severity=Severity(rule.severity),
            active=bool(rule.active) if active is None else active,
            **dict(rule.params or {}),
        )


def settings_of(session: Session, committee_id: int, year: int) -> dict[RuleKind, FilingRule]:
    """Every rule of a committee's year, in the rules' order: the stored ones,
    and for the others a new (unsaved, inactive) one with the defaults."""
    stmt = select(FilingRule).where(
        FilingRule.committee_id == committee_id, FilingRule.year == year
    )
    stored = {RuleKind(rule.kind): rule for rule in session.scalars(stmt)}
    return {
        kind: stored.get(kind)
        or FilingRule(
            committee_id=committee_id,
            year=year,
            kind=kind,
            severity=Severity.WARN,
            active=False,
            params=dict(DEFAULT_PARAMS[kind]),
        )
        for kind in RULES
    }


def set_rule(
    session: Session,
    committee_id: int,
    year: int,
    kind: RuleKind,
    *,
    severity: Severity = Severity.WARN,
    active: bool = True,
    **params,
) -> FilingRule:
    """Store one rule of a committee's year (its parameters merged over the
    defaults); flushes, never commits."""
    rule = settings_of(session, committee_id, year)[RuleKind(kind)]
    rule.severity, rule.active = Severity(severity), active
    rule.params = {**DEFAULT_PARAMS[RuleKind(kind)], **(rule.params or {}), **params}
    session.add(rule)
    session.flush()
    return rule


# -- evaluation -----------------------------------------------------------------
def _others(session: Session, account, candidates, settings) -> Others:
    """The other projects with the candidates' names (duplicates) or principals
    (duplicates, quota) in the same committees and years: one statement."""
    others = Others()
    wanting = [
        c for c in candidates if {RuleKind.DUPLICATE, RuleKind.QUOTA} & set(settings[_key(c)])
    ]
    if not wanting:
        return others
    names, principals = _sought(wanting, settings)
    states = {s for c in wanting for s in FILED[c.target]}
    matches = _matches(names, principals)
    if not matches:
        return others
    visible = case((project_visibility(account), true()), else_=false())
    stmt = select(
        Project.id,
        Project.name,
        Project.principal,
        Project.start_date,
        Project.end_date,
        Project.state,
        Project.committee_id,
        Project.year,
        visible.label("visible"),
    ).where(
        Project.committee_id.in_(sorted({c.committee_id for c in wanting})),
        Project.year.in_(sorted({c.year for c in wanting})),
        Project.state.in_(sorted(states)),
        or_(*matches),
    )
    for row in session.execute(stmt.order_by(Project.id)):
        _file_other(others, row, names)
    return others


def _overdue(session: Session, candidates, settings) -> dict:
    """The overdue execution reports of the units reporting their own projects,
    where the overdue-reports rule is on: one statement (none when it is off)."""
    kind = RuleKind.OVERDUE_REPORTS
    wanting = [
        c for c in candidates if c.reporting_unit_id is not None and kind in settings[_key(c)]
    ]
    if not wanting:
        return {}
    before = max(
        c.as_of - timedelta(days=int(settings[_key(c)][kind].param("overdue_days")))
        for c in wanting
    )
    units = {c.reporting_unit_id for c in wanting}
    return execution_rules.overdue_reports(session, units, before)


def _sought(wanting: list[Candidate], settings) -> tuple[set[str], set[str]]:
    """The names (of candidates checked for duplicates) and principals looked for."""
    names = {c.name for c in wanting if RuleKind.DUPLICATE in settings[_key(c)] and c.name}
    principals = {c.principal for c in wanting if c.principal}
    return names, principals


def _matches(names: set[str], principals: set[str]) -> list:
    """The terms matching a project by one of the names or one of the principals."""
    matches = []
    if names:
        matches.append(Project.name.in_(sorted(names)))
    if principals:
        matches.append(Project.principal.in_(sorted(principals)))
    return matches


def _file_other(others: Others, row, names: set[str]) -> None:
    """One matched project filed under its name (when it is one asked for) and its
    principal, per committee and year."""
    other = dict(row._mapping)
    other["state"] = ProjectState(other["state"])
    other["visible"] = bool(other["visible"])
    key = (row.committee_id, row.year)
    if row.name in names:
        others.by_name[(*key, row.name)].append(other)
    others.by_principal[(*key, row.principal)].append(other)


def _key(c: Candidate) -> tuple[int, int]:
    return (c.committee_id, c.year)


def evaluate(session: Session, account, candidates: Sequence[Candidate], settings=None) -> dict:
    """``{candidate.key: [Violation, …]}`` for the candidates breaking a rule.

    Candidates earlier in the list count as already filed for the later ones
    (two copies reported together: the second is the duplicate)."""
    if settings is None:
        settings = active_settings(session, (_key(c) for c in candidates))
    candidates = [c for c in candidates if settings.get(_key(c))]
    if not candidates:
        return {}
    others = _others(session, account, candidates, settings)
    others.overdue = _overdue(session, candidates, settings)
    found: dict = {}
    # The candidates already judged, per (committee, year, target), by name and
    # by principal: looked up, never scanned, so the batch costs linear time.
    peers: dict = defaultdict(Others)
    for c in candidates:
        key = _key(c)
        group = peers[(*key, c.target)]
        violations = []
        for kind, setting in settings[key].items():
            violations += RULES[kind].check(c, setting, others, group)
        if violations:
            found[c.key] = violations
        judged = {
            "id": c.project_id,
            "name": c.name,
            "principal": c.principal,
            "start_date": c.start_date,
            "end_date": c.end_date,
            "visible": True,
        }
        group.by_name[c.name].append(judged)
        group.by_principal[c.principal].append(judged)
    return found


def today() -> date:
    """The calendar day in Beijing, the committee's day."""
    return datetime.now(BEIJING).date()


def _beijing_day(moment: datetime | None) -> date:
    if moment is None:
        return today()
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(BEIJING).date()


def check_rows(session: Session, account, action: Action, rows) -> dict[int, list[Violation]]:
    """The rules each engine row (id, state, committee, year, owner…) breaks if
    ``account`` takes ``action`` on it now: at most three statements."""
    settings = active_settings(session, ((r.committee_id, r.year) for r in rows))
    rows = [r for r in rows if settings.get((r.committee_id, r.year))]
    if not rows:
        return {}
    targets = _row_targets(account, action, rows)
    values = _stored_values(session, list(targets))
    reporting = _reporting_unit(account, action, rows)
    candidates = []
    day = today()
    for row in sorted(rows, key=lambda r: r.id):
        if row.id not in values:
            continue
        project = values[row.id]
        as_of = _beijing_day(project.reported_at) if action is Action.PUBLISH else day
        candidate = _stored_candidate(row, project, targets[row.id], as_of)
        candidate.reporting_unit_id = reporting.get(row.id)
        candidates.append(candidate)
    return evaluate(session, account, candidates, settings)


def _row_targets(account, action: Action, rows) -> dict[int, ProjectState]:
    """Where ``action`` takes each row that it moves to a state, by id."""
    targets = {}
    for row in rows:
        transition = find(action, relation(account, row), row.state)
        if transition is not None and isinstance(transition.target, ProjectState):
            targets[row.id] = transition.target
    return targets


def _reporting_unit(account, action: Action, rows) -> dict[int, int]:
    """The rows ``account``'s entry unit reports as their owner (上报所选 of its
    own projects), with the unit's id."""
    if action is not Action.REPORT:
        return {}
    return {row.id: account.unit_id for row in rows if relation(account, row) in OWNERS}


def _stored_candidate(row, project, target: ProjectState, as_of) -> Candidate:
    """``check_rows``' candidate of an engine row and its stored values."""
    return Candidate(
        key=row.id,
        project_id=row.id,
        committee_id=row.committee_id,
        year=row.year,
        target=target,
        as_of=as_of,
        name=project.name,
        principal=project.principal,
        start_date=project.start_date,
        end_date=project.end_date,
        level=project.level,
        credits=project.credits,
        hours=(project.theory_hours or 0) + (project.practice_hours or 0),
        lecturers=project.lecturers,
        untitled=project.untitled.split("、") if project.untitled else [],
    )


def _stored_values(session: Session, ids: list[int]) -> dict:
    """Each project's values the rules read, with how many lecturers it has and
    the names of those without a title: one statement, one row per project."""
    if not ids:
        return {}
    no_title = func.coalesce(func.trim(Lecturer.title), "") == ""
    untitled = case((Lecturer.id.is_not(None) & no_title, Lecturer.name))
    stmt = (
        select(
            Project.id,
            Project.name,
            Project.principal,
            Project.start_date,
            Project.end_date,
            Project.level,
            Project.credits,
            Project.theory_hours,
            Project.practice_hours,
            Project.reported_at,
            func.count(Lecturer.id).label("lecturers"),
            func.aggregate_strings(untitled, "、").label("untitled"),
        )
        .outerjoin(Lecturer, Lecturer.project_id == Project.id)
        .where(Project.id.in_(ids))
        .group_by(Project.id)
    )
    return {row.id: row for row in session.execute(stmt)}


def report_target(unit) -> ProjectState:
    """Where an entry unit's report takes its project."""
    return S.AT_SOCIETY if unit.kind is UnitKind.BRANCH else S.AT_COMMITTEE


def check_values(
    session: Session, account, values_list: Sequence[Mapping]
) -> list[list[Violation]]:
    """The rules each of ``values_list`` would break if ``account``'s entry unit
    reported it today, in the list's order (an empty list for a row breaking
    none). Each values mapping has the project's field names (``year``, ``name``,
    ``level``, ``principal``, ``start_date``, ``end_date``, ``theory_hours``,
    ``practice_hours``, ``credits``), ``lecturers`` (mappings or objects with
    ``name`` and ``title``) and, for a stored project, its ``id`` (so it is not
    its own duplicate). Missing or unreadable values are not judged here: the
    field rules (``models.rules``) refuse them.

    Two statements whatever the number of rows (the settings; the other
    projects, when a duplicate or quota rule is on)."""
    unit = account.unit
    committee_id = unit.committee_id
    if committee_id is None or not unit.kind.is_entry:
        return [[] for _ in values_list]
    target, day = report_target(unit), today()
    candidates = []
    for index, values in enumerate(values_list):
        if isinstance(values.get("year"), int):
            candidates.append(_typed_candidate(index, values, committee_id, target, day, unit.id))
    found = evaluate(session, account, candidates)
    return [found.get(index, []) for index in range(len(values_list))]


def _typed_candidate(
    index: int, values: Mapping, committee_id: int, target, day, unit_id: int | None = None
) -> Candidate:
    """``check_values``' candidate of one values mapping (its year a number): the
    values as typed, an unreadable one as missing."""
    theory, practice = values.get("theory_hours"), values.get("practice_hours")
    hours = None if theory is None else float(theory) + float(practice or 0)
    lecturers = [_lecturer(lecturer) for lecturer in values.get("lecturers") or ()]
    return Candidate(
        key=index,
        project_id=values.get("id"),
        committee_id=committee_id,
        year=values["year"],
        target=target,
        as_of=day,
        name=(values.get("name") or "").strip(),
        principal=(values.get("principal") or "").strip(),
        start_date=_date(values.get("start_date")),
        end_date=_date(values.get("end_date")),
        level=_level(values.get("level")),
        credits=_float(values.get("credits")),
        hours=hours,
        lecturers=len(lecturers),
        untitled=[name for name, title in lecturers if not (title or "").strip()],
        reporting_unit_id=unit_id,
    )


def _level(value) -> ProjectLevel | None:
    try:
        return ProjectLevel(value) if value else None
    except ValueError:
        return None


def _date(value):
    return value if isinstance(value, date) else None


def _float(value):
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _lecturer(lecturer) -> tuple[str, str | None]:
    if isinstance(lecturer, Mapping):
        return (lecturer.get("name") or "", lecturer.get("title"))
    return (lecturer.name or "", lecturer.title)


def values_of(project) -> dict:
    """A project object's values as ``check_values`` reads them."""
    values = {name: getattr(project, name) for name in VALUE_FIELDS}
    values["id"] = project.id
    values["lecturers"] = list(project.lecturers)
    return values


VALUE_FIELDS = (
    "year",
    "name",
    "level",
    "principal",
    "start_date",
    "end_date",
    "theory_hours",
    "practice_hours",
    "credits",
)


# -- the engine's signals ----------------------------------------------------------
def hold_blocked(action, *, session, account, rows):
    """Hold back the rows a blocking rule refuses; keep the warnings of the
    others for ``record_warnings`` (connected by ``receivers``)."""
    session.info.pop(_PENDING, None)
    if action not in CHECKED_ACTIONS:
        return {}
    found = check_rows(session, account, action, rows)
    names = {row.id: row.name for row in rows}
    held, warnings = {}, {}
    for project_id, violations in found.items():
        blocking = [v for v in violations if v.blocks]
        if blocking:
            message = "".join(v.message() for v in blocking)
            held[project_id] = NotAllowed(message, project_id, names.get(project_id))
        else:
            warnings[project_id] = violations
    session.info[_PENDING] = warnings
    return held


def record_warnings(action, *, session, account, moves, reason):
    """A project that moved up carries the warnings of this move only (those of
    an earlier move no longer apply); a deleted one none. Two statements."""
    pending = session.info.pop(_PENDING, {})
    if action not in (*CHECKED_ACTIONS, Action.DELETE):
        return
    ids = [move.project_id for move in moves]
    session.execute(delete(ProjectWarning).where(ProjectWarning.project_id.in_(ids)))
    now = utcnow()
    rows = [
        {
            "project_id": project_id,
            "warnings": [{"kind": v.kind.value, "code": v.code, "params": v.params} for v in found],
            "created_at": now,
        }
        for project_id in ids
        if (found := pending.get(project_id))
    ]
    if rows and action is not Action.DELETE:
        session.execute(insert(ProjectWarning.__table__), rows)


# -- reading recorded warnings ---------------------------------------------------
def still_checked(state) -> bool:
    """Whether a project in ``state`` has a checked move (上报, 审核通过并公布) ahead of
    it: the lists show its rule warnings only then."""
    return ProjectState(state) in CHECKED_STATES


def warnings_for(session: Session, account, project_ids: Iterable[int]) -> dict[int, list[str]]:
    """The recorded warnings of ``project_ids``, worded for ``account``: a
    duplicate names the other project only if ``account`` may see it. At most
    two statements."""
    ids = sorted(set(project_ids))
    if not ids:
        return {}
    stmt = select(ProjectWarning.project_id, ProjectWarning.warnings).where(
        ProjectWarning.project_id.in_(ids)
    )
    recorded = {row.project_id: row.warnings or [] for row in session.execute(stmt)}
    others = {w["params"].get("other_id") for ws in recorded.values() for w in ws} - {None}
    seen = set()
    if others:
        seen = set(
            session.scalars(
                select(Project.id).where(
                    Project.id.in_(sorted(others)), project_visibility(account)
                )
            )
        )
    return {
        project_id: [
            Violation(RuleKind(w["kind"]), Severity.WARN, w["code"], dict(w["params"])).message(
                named=w["params"].get("other_id") in seen
            )
            for w in warnings
        ]
        for project_id, warnings in sorted(recorded.items())
        if warnings
    }


__all__ = [
    "RULES",
    "Candidate",
    "Violation",
    "active_settings",
    "check_rows",
    "check_values",
    "clear_rules",
    "copy_rules",
    "evaluate",
    "ruling_year",
    "set_rule",
    "settings_of",
    "still_checked",
    "values_of",
    "warnings_for",
]
