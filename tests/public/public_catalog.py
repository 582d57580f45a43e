"""Helpers of the public catalog tests: seeding through the workflow engine, and the
expected search results computed in Python, without the application's query code."""

from __future__ import annotations

import contextvars
import csv
import io
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

import workflow
from demo import drive
from models import (
    Discipline,
    ExecutionState,
    Lecturer,
    Project,
    ProjectLevel,
    ProjectMode,
    ProjectState,
    Unit,
    UnitKind,
    User,
)
from workflow import execution

SECRET = "SECRET"  # in every unpublished test project's name, number and principal
WITHDRAWN_NAME = "WITHDRAWN 已撤销公布的项目"
FORMULA_NAME = '=HYPERLINK("http://example.invalid","点击")'
# The query parameters of the public search, page and API alike.
SEARCH_PARAMETERS = (
    "q",
    "year",
    "level",
    "discipline",
    "unit",
    "date_from",
    "date_to",
    "sort",
    "page",
    "per_page",
    "updated_since",
)


class FreshClient:
    """The Flask test client, each request in an empty ``contextvars`` context.

    The ``app_on_empty_db`` fixture keeps an app context pushed for the test; a request
    would reuse it and its database session. In production every request has its own app context and
    session, closed before a streamed body is read: running each request in an empty
    context reproduces that. Bodies are read inside, so streamed exports run there too.
    """

    def __init__(self, client) -> None:
        self._client = client

    def get(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(self._client.get, *args, **kwargs)


def society_of(accounts: dict[str, User], owner: User) -> User | None:
    """The society account that reviews ``owner``'s projects (None for an issuer)."""
    if owner.unit.kind is not UnitKind.BRANCH:
        return None
    return next(a for a in accounts.values() if a.unit_id == owner.unit.parent_id)


def add_project(session, accounts, owner: str, target: ProjectState, **fields) -> Project:
    """A project of ``owner`` walked to ``target`` through the workflow engine."""
    account = accounts[owner]
    issuer = account.unit.kind is UnitKind.ISSUER
    values = {
        "year": 2026,
        "name": "测试项目",
        "level": ProjectLevel.NATIONAL if issuer else ProjectLevel.SOCIETY_I,
        "organizer": account.unit.name,
        "principal": "张三",
        "principal_title": "主任医师",
        "contact": "李四",
        "phone": "010-12345678",
        "start_date": date(2026, 6, 1),
        "end_date": date(2026, 6, 3),
        "venue": "北京市海淀区",
        "mode": ProjectMode.FACE_TO_FACE,
        "audience": "临床医师",
        "planned_participants": 80,
        "theory_hours": 10,
        "practice_hours": 2,
        "credits": 5,
    }
    values.update(fields)
    if "discipline" not in values:
        values["discipline"] = session.scalar(select(Discipline).where(Discipline.name == "药学"))
    project = Project(**values)
    project.lecturers = [Lecturer(position=0, name="王教授", topic="总论", hours=2)]
    workflow.create(session, account, project)
    drive(
        session,
        project,
        target,
        owner=account,
        society=society_of(accounts, account),
        committee=accounts["bjcme"],
    )
    return project


def publish_in(session, accounts, year: int, name: str) -> Project:
    """A project of pumch's (an issuer) published in ``year``, held on 1–2 March: a year the
    catalog has no other project in."""
    return add_project(
        session,
        accounts,
        "pumch",
        ProjectState.PUBLISHED,
        name=name,
        year=year,
        start_date=date(year, 3, 1),
        end_date=date(year, 3, 2),
    )


def withdraw(session, accounts, project_id: int) -> None:
    """撤销公布 by the committee; a project whose execution report is accepted (the demo
    data has some) cannot be withdrawn until the committee sets the report back first."""
    project = session.get(Project, project_id)
    report = execution.report_of_project(session, project_id)
    if report is not None and report.state == ExecutionState.ACCEPTED:
        execution.move(session, report, workflow.Action.UNLOCK, accounts["bjcme"], "测试撤销")
    workflow.apply(session, project, workflow.Action.WITHDRAW, accounts["bjcme"], "测试撤销")


def discipline_id(session, name: str) -> int:
    return session.scalar(select(Discipline.id).where(Discipline.name == name))


def unit_id(session, name: str) -> int:
    return session.scalar(select(Unit.id).where(Unit.name == name))


@dataclass
class Catalog:
    """The seeded data: demo projects plus the special ones the tests look for."""

    accounts: dict[str, User]
    formula_id: int
    withdrawn_id: int
    secret_ids: list[int] = field(default_factory=list)
    hidden_unit: str = "北京医学会未公布分会"
    hidden_discipline: str = "护理学"
    hidden_year: int = 2031


def _add_hidden_branch(session, accounts) -> User:
    """A branch whose only project is a draft: its name must appear nowhere in public."""
    society = accounts["bma"].unit
    unit = Unit(
        name="北京医学会未公布分会",
        kind=UnitKind.BRANCH,
        parent=society,
        address="北京市",
        manager="钱某",
        phone="010-11112222",
        postal_code="100000",
    )
    user = User(
        username="hidden_branch",
        display_name="未公布分会秘书",
        unit=unit,
        password="x",
        fs_uniquifier="hidden-branch-uniquifier",
    )
    session.add_all([unit, user])
    session.flush()
    return user


def build_catalog(demo, session) -> Catalog:
    """Demo data, plus: a published project whose text fields start with formula
    characters, a published-then-withdrawn project, a long-running project, a name with
    LIKE wildcards, and one unpublished project in each unpublished state (in a year, a
    discipline and a unit that have nothing published)."""
    accounts = dict(demo)
    accounts["hidden_branch"] = _add_hidden_branch(session, accounts)
    formula = add_project(
        session,
        accounts,
        "pumch",
        ProjectState.PUBLISHED,
        name=FORMULA_NAME,
        project_no="=1+2",
        organizer="@SUM(A1:A9)",
        principal="+王医生",
        contact="-李联系",
        venue="\t=cmd|' /C calc'!A0",
        credits=2.5,
        planned_participants=120,
    )
    add_project(
        session,
        accounts,
        "bma_cardio",
        ProjectState.PUBLISHED,
        name="全年心血管病例讨论会",
        start_date=date(2026, 1, 15),
        end_date=date(2026, 12, 20),
        credits=10,
    )
    add_project(
        session,
        accounts,
        "tcm_acu",
        ProjectState.PUBLISHED,
        name="100% 达标_针灸培训班",
        year=2025,
        start_date=date(2025, 11, 1),
        end_date=date(2025, 11, 2),
        discipline=session.scalar(select(Discipline).where(Discipline.name == "针灸学")),
    )
    withdrawn = add_project(
        session, accounts, "pumch", ProjectState.PUBLISHED, name=WITHDRAWN_NAME, project_no="W-1"
    )
    withdraw(session, accounts, withdrawn.id)
    hidden = session.scalar(select(Discipline).where(Discipline.name == "护理学"))
    secrets = []
    for owner, state in (
        ("hidden_branch", ProjectState.DRAFT),
        ("bma_cardio", ProjectState.RETURNED),
        ("bma_peds", ProjectState.AT_SOCIETY),
        ("pumch", ProjectState.AT_COMMITTEE),
    ):
        fields = {}
        if owner == "pumch":
            fields["project_no"] = f"{SECRET}-NO-{state.value}"
        project = add_project(
            session,
            accounts,
            owner,
            state,
            name=f"{SECRET} {state.value} 未公布项目",
            principal=f"{SECRET}负责人",
            organizer=f"{SECRET}主办单位",
            year=2031,
            start_date=date(2031, 3, 1),
            end_date=date(2031, 3, 2),
            discipline=hidden,
            **fields,
        )
        secrets.append(project.id)
    session.commit()
    return Catalog(accounts, formula.id, withdrawn.id, secrets)


# --- the expected results, computed in Python over the seeded rows ----------------------


def all_projects(session) -> list[Project]:
    session.expire_all()
    return list(session.scalars(select(Project)))


def expected(session, filters: dict) -> list[Project]:
    """The published projects ``filters`` should find, in the default order (newest
    start date first, then the higher id) — computed here without the application's query code."""
    keyword = (filters.get("q") or "").lower()

    def keep(p: Project) -> bool:
        if p.state != ProjectState.PUBLISHED:
            return False
        texts = (p.name, p.project_no or "", p.organizer, p.principal)
        checks = [
            not keyword or any(keyword in t.lower() for t in texts),
            "year" not in filters or p.year == int(filters["year"]),
            "level" not in filters or p.level.value == filters["level"],
            "discipline" not in filters or p.discipline_id == int(filters["discipline"]),
            "unit" not in filters or p.owner_unit_id == int(filters["unit"]),
            "date_from" not in filters or p.end_date >= date.fromisoformat(filters["date_from"]),
            "date_to" not in filters or p.start_date <= date.fromisoformat(filters["date_to"]),
        ]
        return all(checks)

    return sorted(
        filter(keep, all_projects(session)), key=lambda p: (p.start_date, p.id), reverse=True
    )


def api_ids(client, **params) -> list[int]:
    """Every id the API lists for ``params``, following the pages."""
    ids, page = [], 1
    while True:
        body = client.get("/api/v1/projects", query_string={**params, "page": page}).get_json()
        ids += [item["id"] for item in body["items"]]
        if body["links"]["next"] is None:
            return ids
        page += 1


def read_csv(response) -> list[list[str]]:
    text = response.data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))
