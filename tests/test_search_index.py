"""The trigram index changes how the keyword searches find rows, never which rows.

For many terms (one, two and more Chinese characters, ASCII in either case, numbers,
LIKE wildcards, quotes), the panel's search and the public keyword search return exactly
the rows of the plain ILIKE scan, on both databases; on SQLite the index is really used
for terms of three characters or more and kept in step when rows change."""

from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import func, or_, select, text

from admin_views.projects import ProjectView
from models import Project, ProjectState, search_index
from public import search
from tests.factories import make_project

TERMS = [
    # one and two Chinese characters: below the trigram, matched by the scan
    "心",
    "会",
    "内科",
    "研讨",
    "针灸",
    # three and more
    "研讨会",
    "心血管",
    "培训班",
    "心力衰竭诊治",
    "北京协和",
    "不存在的词语",
    # ASCII, numbers, mixed case, punctuation
    "ABC",
    "abc",
    "AbC-xyz",
    "2026",
    "01",
    "2026-01",
    "(国)",
    "张医生",
    # LIKE wildcards and FTS5 syntax characters taken literally (public) or as
    # wildcards (panel, where Flask-Admin does not escape them)
    "100%",
    "_针",
    "a%b",
    '"引号"',
    "AND",
    "x OR y",
    "*",
    "Ａｂｃ",
]

EXTRA_NAMES = [
    "ABC-XYZ 国际研讨会",
    "abc 心力衰竭诊治进展",
    'a%b 与 "引号" 的培训班',
    "x OR y 逻辑 AND 推理 * 研讨",
    "全角 Ａｂｃ 字母",
]


@pytest.fixture
def projects(demo_accounts, session):
    """The demo projects plus a few names with ASCII, quotes, wildcards and full-width
    letters, published (the public search sees them) and not."""
    owner = demo_accounts["pumch"]
    for i, name in enumerate(EXTRA_NAMES):
        state = ProjectState.PUBLISHED if i % 2 == 0 else ProjectState.DRAFT
        make_project(session, owner, state, name=name, principal=f"Dr Abc{i}")
    session.commit()
    return session


def _admin_view() -> ProjectView:
    admin = current_app.extensions["admin"][0]
    return admin.views_of(ProjectView)[0]


def _panel_ids(session, term: str, *, indexed: bool) -> set[int]:
    view = _admin_view()
    query = select(Project.id)
    if indexed:
        query, *_ = view._apply_search(query, None, {}, {}, term)
    else:
        query, *_ = super(ProjectView, view)._apply_search(query, None, {}, {}, term)
    return set(session.scalars(query))


def _public_ids(session, term: str, *, indexed: bool) -> set[int]:
    if indexed:
        stmt = search.matching(search.SearchParams(q=term))
    else:
        stmt = search.published_projects().where(
            or_(
                *(
                    getattr(Project, c).icontains(term, autoescape=True)
                    for c in search_index.COLUMNS
                )
            )
        )
    return set(session.scalars(stmt.with_only_columns(Project.id)))


@pytest.mark.parametrize("term", TERMS)
def test_panel_search_same_rows_as_the_scan(projects, term):
    assert _panel_ids(projects, term, indexed=True) == _panel_ids(projects, term, indexed=False)


@pytest.mark.parametrize("term", TERMS)
def test_public_search_same_rows_as_the_scan(projects, term):
    assert _public_ids(projects, term, indexed=True) == _public_ids(projects, term, indexed=False)


def test_several_terms_and_prefixes_in_the_panel(projects):
    for search_text in ("心 研讨会", "abc 心力衰竭", "^ABC", "=abc", "内科 2026 研讨"):
        assert _panel_ids(projects, search_text, indexed=True) == _panel_ids(
            projects, search_text, indexed=False
        )


def test_terms_found_at_all(projects):
    """The comparison above is not vacuous: common terms do match rows."""
    for term in ("心", "研讨会", "abc", "Ａｂｃ"):
        assert _panel_ids(projects, term, indexed=True), term
    assert _public_ids(projects, "ABC-XYZ", indexed=True)


def test_short_terms_are_not_looked_up(projects):
    assert search_index.matches(search_index.COLUMNS, ["内科"]) is None
    assert search_index.matches(search_index.COLUMNS, ["a%bc"], wildcards=True) is None
    assert search_index.matches(search_index.COLUMNS, ["研讨会"]) is not None


def test_sqlite_index_used_and_kept_in_step(projects, backend):
    if backend != "sqlite" or not search_index.SQLITE_HAS_TRIGRAM:
        pytest.skip("the FTS5 index is SQLite's")
    session = projects
    sql = str(
        search.matching(search.SearchParams(q="研讨会")).compile(dialect=session.get_bind().dialect)
    )
    assert "projects_search MATCH" in sql
    plan = " ".join(
        str(row[-1])
        for row in session.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT rowid FROM projects_search"
                " WHERE projects_search MATCH '\"研讨会\"'"
            )
        )
    )
    assert "VIRTUAL TABLE INDEX" in plan
    project = session.scalars(select(Project).where(Project.name == EXTRA_NAMES[0])).one()
    project.name = "改名后的远程会诊课程"
    session.commit()
    assert _panel_ids(session, "远程会诊", indexed=True) == {project.id}
    assert project.id not in _panel_ids(session, "ABC-XYZ", indexed=True)
    session.delete(project)
    session.commit()
    assert _panel_ids(session, "远程会诊", indexed=True) == set()
    # The index holds exactly the table's rows (FTS5's own consistency check).
    session.execute(text("INSERT INTO projects_search(projects_search) VALUES ('integrity-check')"))


def test_postgresql_trigram_indexes_exist(projects, backend):
    if backend != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's")
    session = projects
    names = set(
        session.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'projects'"))
    )
    has_extension = session.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
    if has_extension:
        assert set(search_index.PG_INDEXES) <= names


@pytest.mark.parametrize(
    ("few", "wide"),
    [(0, True), (0, False), (10_000, True)],
    ids=["many-candidates", "many-candidates-narrow-scope", "few-candidates"],
)
def test_the_lists_page_and_count_conditions_keep_the_scan_s_rows(projects, few, wide):
    """``list_conditions`` names the candidates when they are few and otherwise tests
    them (page) or drives from them (count): either way, the scan's rows."""
    view = _admin_view()
    for term in [*TERMS, "心 研讨会", "abc 心力衰竭"]:
        scan, *_ = super(ProjectView, view)._apply_search(select(Project.id), None, {}, {}, term)
        expected = set(projects.scalars(scan))
        terms = [t[1:] if t[:1] in "^=" else t for t in term.split(" ") if t]
        page, count = search_index.list_conditions(
            projects, view.column_searchable_list, terms, wildcards=True, few=few, wide_scope=wide
        )
        if page is None:
            assert not any(search_index.indexable(t, wildcards=True) for t in terms)
            continue
        assert set(projects.scalars(scan.where(page))) == expected, term
        assert set(projects.scalars(scan.where(count))) == expected, term


def test_sqlite_looks_the_candidates_up_for_the_count(projects, backend):
    """The count of a search over many candidates reads them by rowid (not every row of
    the scope, testing each against the candidates); few candidates are named."""
    if backend != "sqlite" or not search_index.SQLITE_HAS_TRIGRAM:
        pytest.skip("the FTS5 index is SQLite's")
    session = projects
    columns = ProjectView.column_searchable_list
    for few in (0, 10_000):
        _, count = search_index.list_conditions(session, columns, ["研讨会"], few=few)
        stmt = select(func.count()).select_from(Project).where(Project.state != "draft", count)
        sql = str(
            stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
        )
        assert ("MATCH" in sql) is (few == 0) and "= 1" not in sql
        rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
        plan = " ".join(str(row[-1]) for row in rows)
        assert "SEARCH projects USING INTEGER PRIMARY KEY" in plan, plan
    # A narrower scope's count tests the candidates along its own index instead.
    _, count = search_index.list_conditions(session, columns, ["研讨会"], few=0, wide_scope=False)
    sql = str(select(Project.id).where(count).compile(dialect=session.get_bind().dialect))
    assert sql.endswith(") = 1")
