"""The public search: its parameters, their validation, and the SQL they build.

One parser serves the search page, its exports and the API, so they accept and refuse
exactly the same input. Every statement starts from ``permissions.published_projects()``:
nothing here decides what is public.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, selectinload
from wtforms import Field, Form, validators

from models import Discipline, Project, ProjectEvent, ProjectLevel, Unit, search_index
from permissions import published_projects
from public import held

KEYWORD_MAX = 100
PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 100
# Far beyond any real catalog, and small enough that OFFSET never overflows.
PAGE_MAX = 100_000
YEAR_MIN, YEAR_MAX = 1900, 2999
# The largest id a PostgreSQL INTEGER column holds: a bigger guessed id simply does not
# exist, rather than making the database raise.
ID_MAX = 2**31 - 1
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(2999, 12, 31)
WITHDRAW = "withdraw"

# sort key → ORDER BY; the id breaks ties so that pages never overlap or skip a row.
SORTS = {
    "start_date": (Project.start_date.asc(), Project.id.asc()),
    "-start_date": (Project.start_date.desc(), Project.id.desc()),
    "published_at": (Project.published_at.asc(), Project.id.asc()),
    "-published_at": (Project.published_at.desc(), Project.id.desc()),
    "project_no": (Project.project_no.asc(), Project.id.asc()),
    "name": (Project.name.asc(), Project.id.asc()),
    "credits": (Project.credits.asc(), Project.id.asc()),
    "-credits": (Project.credits.desc(), Project.id.desc()),
}
# The newest events first: a visitor looks for what is coming or just happened, not 2019's.
SORT_DEFAULT = "-start_date"
SORT_TITLES = {
    "start_date": _l("Start date (earliest first)"),
    "-start_date": _l("Start date (latest first)"),
    "published_at": _l("Publication date (oldest first)"),
    "-published_at": _l("Publication date (newest first)"),
    "project_no": _l("Project number"),
    "name": _l("Project name"),
    "credits": _l("Credits (fewest first)"),
    "-credits": _l("Credits (most first)"),
}


class BadParameter(ValueError):
    """A query parameter that cannot be used; ``parameter`` names it, ``message`` says why.

    The message never repeats the rejected value, so it can be shown or returned as it is.
    """

    def __init__(self, parameter: str, message) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True)
class SearchParams:
    """A validated search. ``None`` means "no filter" for every filter field."""

    q: str | None = None
    year: int | None = None
    level: ProjectLevel | None = None
    discipline: int | None = None
    unit: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = SORT_DEFAULT
    page: int = 1
    per_page: int = PER_PAGE_DEFAULT
    updated_since: datetime | None = None

    @property
    def filtered(self) -> bool:
        """Whether any filter (not sorting or paging) is set."""
        return any(
            getattr(self, name) is not None
            for name in ("q", "year", "level", "discipline", "unit", "date_from", "date_to")
        )

    def query_args(self, **changes) -> dict[str, str]:
        """The parameters as they appear in a URL, defaults left out, with ``changes``."""
        values = {
            "q": self.q,
            "year": self.year,
            "level": self.level.value if self.level else None,
            "discipline": self.discipline,
            "unit": self.unit,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "updated_since": _iso_datetime(self.updated_since),
            "sort": None if self.sort == SORT_DEFAULT else self.sort,
            "page": None if self.page == 1 else self.page,
            "per_page": None if self.per_page == PER_PAGE_DEFAULT else self.per_page,
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v is not None}


def _iso_datetime(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


# --- parsing -------------------------------------------------------------------------------
#
# A WTForms form (no CSRF: a search is a GET anyone may link to). Each field reads the first
# value of its parameter, stripped; an empty one means "no filter". Conversions that WTForms'
# own fields do more loosely (int() also reads "+5", "1_000" and other scripts' digits;
# strptime reads "2026-1-5") are the fields' ``convert``; ranges, lengths and choices are
# WTForms' validators.


class _Parameter(Field):
    """One query parameter: ``convert`` turns its stripped text into a value, or raises
    ``ValueError`` with the message to show."""

    def __init__(self, *validators_, **kwargs) -> None:
        super().__init__(validators=[validators.Optional(), *validators_], **kwargs)

    def convert(self, raw: str):
        return raw

    def process_formdata(self, valuelist) -> None:
        raw = valuelist[0].strip() if valuelist else ""
        self.data = self.convert(raw) if raw else None


class _WholeNumber(_Parameter):
    def __init__(self, low: int, high: int, **kwargs) -> None:
        message = _l("must be between %(low)s and %(high)s", low=low, high=high)
        super().__init__(validators.NumberRange(low, high, message=message), **kwargs)

    def convert(self, raw: str) -> int:
        # isdecimal() also accepts other scripts' digits, which int() reads; ASCII keeps it plain.
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
            raise ValueError(_l("must be a whole number"))
        return int(raw)


class _Date(_Parameter):
    def convert(self, raw: str) -> date:
        try:
            value = date.fromisoformat(raw) if len(raw) == 10 else None
        except ValueError:
            value = None
        if value is None or not DATE_MIN <= value <= DATE_MAX:
            raise ValueError(_l("must be a date written as YYYY-MM-DD"))
        return value


class _DateTime(_Parameter):
    """An ISO 8601 date-time; with an offset it is converted to UTC, without one it is UTC."""

    def convert(self, raw: str) -> datetime:
        try:
            value = datetime.fromisoformat(raw) if len(raw) <= 40 else None
        except ValueError:
            value = None
        if value is None or not DATE_MIN.year <= value.year <= DATE_MAX.year:
            raise ValueError(_l("must be a date-time such as 2026-01-31T08:00:00Z"))
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value


def _choice(choices) -> _Parameter:
    message = _l("must be one of: %(choices)s", choices=", ".join(sorted(choices)))
    return _Parameter(validators.AnyOf(list(choices), message=message))


def _no_control_characters(form, field) -> None:
    # PostgreSQL refuses NUL in text, and no real keyword holds control characters.
    if any(unicodedata.category(ch) == "Cc" for ch in field.data):
        raise validators.ValidationError(_l("must not contain control characters"))


class SearchForm(Form):
    """The search parameters. Fields are declared in the order they are checked: the first
    field with an error is the one reported."""

    level = _choice({m.value for m in ProjectLevel})
    q = _Parameter(
        validators.Length(
            max=KEYWORD_MAX, message=_l("must be at most %(max)s characters", max=KEYWORD_MAX)
        ),
        _no_control_characters,
    )
    year = _WholeNumber(YEAR_MIN, YEAR_MAX)
    discipline = _WholeNumber(1, ID_MAX)
    unit = _WholeNumber(1, ID_MAX)
    date_from = _Date()
    date_to = _Date()
    sort = _choice(SORTS)
    page = _WholeNumber(1, PAGE_MAX)
    per_page = _WholeNumber(1, PER_PAGE_MAX)
    updated_since = _DateTime()


def parse(args, *, allow_updated_since: bool = False) -> SearchParams:
    """Validate request arguments into ``SearchParams``; raise ``BadParameter`` on the first
    unusable one. ``updated_since`` (the API's changes feed) is refused elsewhere."""
    form = SearchForm(args)
    if not allow_updated_since:
        del form.updated_since
    if not form.validate():
        name = next(name for name, errors in form.errors.items() if errors)
        raise BadParameter(name, form.errors[name][0])
    params = _params(form.data)
    _check_together(params, args, allow_updated_since)
    return params


def _check_together(params: SearchParams, args, allow_updated_since: bool) -> None:
    """What no single field tells: the dates' order, and an ``updated_since`` given where
    the form had no such field (the site's search)."""
    if params.date_from and params.date_to and params.date_to < params.date_from:
        raise BadParameter("date_to", _l("must not be before date_from"))
    if not allow_updated_since and (args.get("updated_since") or "").strip():
        raise BadParameter("updated_since", _l("is only available in the API"))


def _params(data: dict) -> SearchParams:
    """The valid form's data as ``SearchParams``, an empty choice its default."""
    return SearchParams(
        q=data["q"],
        year=data["year"],
        level=ProjectLevel(data["level"]) if data["level"] else None,
        discipline=data["discipline"],
        unit=data["unit"],
        date_from=data["date_from"],
        date_to=data["date_to"],
        sort=data["sort"] or SORT_DEFAULT,
        page=data["page"] or 1,
        per_page=data["per_page"] or PER_PAGE_DEFAULT,
        updated_since=data.get("updated_since"),
    )


# --- queries -------------------------------------------------------------------------------


def conditions(params: SearchParams) -> list:
    """The WHERE terms of the filters in ``params`` (the published scope is added apart)."""
    terms = []
    if params.q:
        # autoescape: a % or _ typed by the user matches itself, not "anything".
        terms.append(
            or_(
                Project.name.icontains(params.q, autoescape=True),
                Project.project_no.icontains(params.q, autoescape=True),
                Project.organizer.icontains(params.q, autoescape=True),
                Project.principal.icontains(params.q, autoescape=True),
            )
        )
        indexed = search_index.matches(search_index.COLUMNS, [params.q])
        if indexed is not None:
            terms.append(indexed)
    if params.year is not None:
        terms.append(Project.year == params.year)
    if params.level is not None:
        terms.append(Project.level == params.level)
    if params.discipline is not None:
        # Each committee keeps its own list, so one name may have an id per tree:
        # the catalog (every tree's published projects) filters by the name.
        same_name = select(Discipline.id).where(
            Discipline.name
            == select(Discipline.name).where(Discipline.id == params.discipline).scalar_subquery()
        )
        terms.append(Project.discipline_id.in_(same_name))
    if params.unit is not None:
        terms.append(Project.owner_unit_id == params.unit)
    # 举办日期 overlapping the range: it starts before the range ends and ends after it starts.
    if params.date_to is not None:
        terms.append(Project.start_date <= params.date_to)
    if params.date_from is not None:
        terms.append(Project.end_date >= params.date_from)
    if params.updated_since is not None:
        # A project changes for the feed when its row does, or when its 已举办 does.
        since = params.updated_since
        terms.append(
            or_(Project.updated_at >= since, Project.id.in_(held.projects_changed_since(since)))
        )
    return terms


def matching(params: SearchParams) -> Select:
    """Published projects matching the filters, unordered."""
    return published_projects().where(*conditions(params))


def ordered(params: SearchParams) -> Select:
    """Published projects matching the filters, in the requested order."""
    return matching(params).order_by(*SORTS[params.sort])


def count(session: Session, params: SearchParams) -> int:
    stmt = matching(params).with_only_columns(func.count(Project.id)).order_by(None)
    return session.scalar(stmt)


@dataclass
class Page:
    """One page of results: ``items`` are Projects (``withdrawn`` carries the changes feed's
    ids of projects taken off the catalog, see ``changes_page``)."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def page(
    session: Session, params: SearchParams, *, lecturers: bool = False, total: int | None = None
) -> Page:
    """One page of the search: three statements (four with ``lecturers``), whatever its size.

    The page's ids are chosen first, sorting only (key, id) pairs; then just those rows are
    loaded, with discipline and owner unit joined by the mapping itself and lecturers, a
    collection, in one extra SELECT ... IN. Sorting whole joined rows to keep twenty of
    them is what made a large catalog slow.
    """
    if total is None:  # the callers pass the cached total (``public.catalog.count``)
        total = count(session, params)
    if not total:
        return Page([], total, params.page, params.per_page)
    window = (
        ordered(params)
        .with_only_columns(Project.id)
        .limit(params.per_page)
        .offset((params.page - 1) * params.per_page)
    )
    ids = list(session.scalars(window))
    return Page(_load(session, ids, lecturers=lecturers), total, params.page, params.per_page)


def _load(session: Session, ids: list[int], *, lecturers: bool) -> list[Project]:
    """The published projects ``ids``, in that order (one that stopped being published in
    the meantime is left out)."""
    if not ids:
        return []
    stmt = published_projects().where(Project.id.in_(ids))
    if lecturers:
        stmt = stmt.options(selectinload(Project.lecturers))
    found = {p.id: p for p in session.scalars(stmt)}
    return [found[i] for i in ids if i in found]


def stream(session: Session, params: SearchParams, *, batch: int = 500):
    """All matching projects in order, fetched ``batch`` rows at a time (for exports)."""
    stmt = ordered(params).execution_options(yield_per=batch)
    return session.scalars(stmt)


@dataclass(frozen=True)
class Withdrawn:
    """A changes-feed entry: a project that left the catalog since ``updated_since``."""

    id: int
    updated_at: datetime
    status: str = "withdrawn"


def changes_page(session: Session, params: SearchParams) -> Page:
    """The changes feed (``updated_since`` set): published projects changed since then, and
    projects withdrawn since then that are not published again, in change order.

    Withdrawn entries ignore the content filters on purpose: filtering them would need the
    current, no longer public, fields of the project, and a client that mirrors the catalog
    only needs to know which ids to drop. Four statements, whatever the page size.
    """
    since = params.updated_since
    published_ids = published_projects().with_only_columns(Project.id)
    held_at = held.changed_at_of_project(Project.id)
    current = matching(params).with_only_columns(
        Project.id.label("id"),
        # The later of the row's change and its 已举办's (an accepted report).
        case((held_at > Project.updated_at, held_at), else_=Project.updated_at).label("changed_at"),
        literal("published").label("status"),
    )
    withdrawn = (
        select(
            ProjectEvent.project_id.label("id"),
            func.max(ProjectEvent.created_at).label("changed_at"),
            literal("withdrawn").label("status"),
        )
        .where(
            ProjectEvent.action == WITHDRAW,
            ProjectEvent.created_at >= since,
            ProjectEvent.project_id.not_in(published_ids),
        )
        .group_by(ProjectEvent.project_id)
    )
    feed = union_all(current, withdrawn).subquery()
    total = session.scalar(select(func.count()).select_from(feed))
    rows = session.execute(
        select(feed.c.id, feed.c.changed_at, feed.c.status)
        .order_by(feed.c.changed_at, feed.c.id)
        .limit(params.per_page)
        .offset((params.page - 1) * params.per_page)
    ).all()
    loaded = {
        p.id: p
        for p in _load(session, [r.id for r in rows if r.status == "published"], lecturers=True)
    }
    items = [
        loaded.get(r.id) if r.status == "published" else Withdrawn(r.id, r.changed_at) for r in rows
    ]
    # A project withdrawn between the two statements is dropped rather than shown.
    return Page([i for i in items if i is not None], total, params.page, params.per_page)


def get_published(session: Session, project_id: int) -> Project | None:
    """One published project with its lecturers, or None (also for impossible ids)."""
    if not 1 <= project_id <= ID_MAX:
        return None
    stmt = (
        published_projects()
        .where(Project.id == project_id)
        .options(selectinload(Project.lecturers))
    )
    return session.scalars(stmt).unique().one_or_none()


def published_page(session: Session, project_id: int) -> tuple | None:
    """What a published project's page (or its JSON) shows: (the project, what was held
    of it, the page's Last-Modified); None when no published project has this id."""
    found = get_published(session, project_id)
    if found is None:
        return None
    facts, changed_at = held.held_with_change(session, project_id)
    return found, facts, held.last_modified(found, changed_at)


def discipline_options(session: Session) -> list[tuple[int, str]]:
    """The names of the disciplines that have at least one published project, each
    once (every tree keeps its own list; the filter matches the name), in the
    committees' order. A name no published project uses is never shown."""
    used = published_projects().where(Project.discipline_id == Discipline.id).exists()
    stmt = (
        select(func.min(Discipline.id), Discipline.name)
        .where(used)
        .group_by(Discipline.name)
        .order_by(func.min(Discipline.sort_order), Discipline.name)
    )
    return [tuple(row) for row in session.execute(stmt)]


def unit_options(session: Session) -> list[tuple[int, str]]:
    """Units that own at least one published project (never one with none: that would
    reveal a unit whose projects are all unpublished)."""
    # EXISTS per unit probes an index and stops at the first row, where IN (subquery)
    # reads every published project.
    used = published_projects().where(Project.owner_unit_id == Unit.id).exists()
    stmt = select(Unit.id, Unit.name).where(used).order_by(Unit.name)
    return [tuple(row) for row in session.execute(stmt)]


def year_options(session: Session) -> list[int]:
    """Years that have published projects, newest first."""
    stmt = (
        published_projects()
        .with_only_columns(Project.year)
        .distinct()
        .order_by(Project.year.desc())
    )
    return list(session.scalars(stmt))


def catalog_changed_at(session: Session) -> datetime | None:
    """When the public catalog last changed: the latest publication or change of a published
    project, or the latest withdrawal (which removes a row without touching the others)."""
    latest_published = (
        published_projects()
        .with_only_columns(func.max(Project.updated_at))
        .order_by(None)
        .scalar_subquery()
    )
    latest_withdrawal = (
        select(func.max(ProjectEvent.created_at))
        .where(ProjectEvent.action == WITHDRAW)
        .scalar_subquery()
    )
    first, second = session.execute(select(latest_published, latest_withdrawal)).one()
    stamps = [s for s in (first, second) if s is not None]
    return max(stamps) if stamps else None
