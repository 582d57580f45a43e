"""Each filter alone and combined, on the page, the API and the exports, against results
computed in Python over the seeded projects (public_catalog.py ``expected``)."""

from __future__ import annotations

import re

import pytest
from public_catalog import api_ids, discipline_id, expected, read_csv, unit_id
from sqlalchemy import text

# Names stand in for ids, resolved per database (ids differ between runs).
FILTERS = [
    {"q": "心"},
    {"q": "xh-000"},  # the 项目编号 assigned at publication, matched case-insensitively
    {"q": "北京协和医院"},  # organizer
    {"q": "赵红"},  # principal
    {"q": "%"},  # a LIKE wildcard matches only itself
    {"q": "_"},
    {"year": "2025"},
    {"year": "2026"},
    {"level": "national"},
    {"level": "beijing"},
    {"level": "society_i"},
    {"discipline": "儿科学"},
    {"discipline": "针灸学"},
    {"unit": "北京协和医院"},
    {"unit": "北京医学会心血管病学分会"},
    {"date_from": "2026-09-01"},
    {"date_to": "2025-06-30"},
    {"date_from": "2026-06-02", "date_to": "2026-06-02"},  # inside a multi-day project
    {"date_from": "2026-02-01", "date_to": "2026-02-28"},  # only the year-long project
    {"year": "2026", "level": "society_i"},
    {"q": "学习班", "year": "2025"},
    {"q": "进展", "discipline": "临床内科学", "year": "2026"},
    {"unit": "北京中医药学会针灸分会", "date_from": "2025-01-01", "date_to": "2025-12-31"},
    {
        "q": "班",
        "year": "2026",
        "level": "society_i",
        "discipline": "儿科学",
        "unit": "北京医学会儿科学分会",
        "date_from": "2026-01-01",
        "date_to": "2026-12-31",
    },
    {"year": "2025", "level": "national", "unit": "北京医学会儿科学分会"},  # empty
]


def resolve(session, filters: dict) -> dict:
    resolved = dict(filters)
    if "discipline" in filters:
        resolved["discipline"] = str(discipline_id(session, filters["discipline"]))
    if "unit" in filters:
        resolved["unit"] = str(unit_id(session, filters["unit"]))
    return resolved


def page_total(response) -> int:
    match = re.search(r'id="total">\D*(\d+)', response.get_data(as_text=True))
    assert match, "the page shows a total"
    return int(match.group(1))


@pytest.mark.parametrize(
    "filters", FILTERS, ids=lambda f: "&".join(f"{k}={v}" for k, v in f.items())
)
def test_filter_matches_python(client, catalog, session, filters):
    params = resolve(session, filters)
    want = expected(session, params)

    assert api_ids(client, per_page=7, **params) == [p.id for p in want]

    page = client.get("/", query_string={**params, "per_page": 100})
    assert page.status_code == 200
    assert page_total(page) == len(want)
    html = page.get_data(as_text=True)
    for project in want:
        assert f'href="/projects/{project.id}"' in html

    rows = read_csv(client.get("/export.csv", query_string=params))
    assert len(rows) == len(want) + 1
    names = [row[2].removeprefix("'") for row in rows[1:]]
    assert names == [p.name for p in want]


def test_filters_are_not_all_trivial(catalog, session):
    """Guard on the table above: the filters select different, non-empty subsets."""
    sizes = {len(expected(session, resolve(session, f))) for f in FILTERS}
    everything = len(expected(session, {}))
    assert 0 in sizes and len(sizes) > 8
    assert all(size < everything for size in sizes)


def _text_sorts_follow_code_points(session) -> bool:
    if session.get_bind().dialect.name == "sqlite":
        return True
    collation = session.scalar(
        text("SELECT datcollate FROM pg_database WHERE datname = current_database()")
    )
    return collation in ("C", "C.UTF-8", "C.utf8", "POSIX")


SORT_KEYS = {
    "start_date": (lambda p: (p.start_date, p.id), False),
    "-start_date": (lambda p: (p.start_date, p.id), True),
    "published_at": (lambda p: (p.published_at, p.id), False),
    "-published_at": (lambda p: (p.published_at, p.id), True),
    "credits": (lambda p: (p.credits, p.id), False),
    "-credits": (lambda p: (p.credits, p.id), True),
    "name": (lambda p: (p.name, p.id), False),
    "project_no": (lambda p: (p.project_no, p.id), False),
}


@pytest.mark.parametrize("sort", SORT_KEYS)
def test_sorts(client, catalog, session, sort):
    key, reverse = SORT_KEYS[sort]
    if sort in ("name", "project_no") and not _text_sorts_follow_code_points(session):
        pytest.skip("the database's collation does not sort by code point")
    want = sorted(expected(session, {}), key=key, reverse=reverse)
    assert api_ids(client, sort=sort, per_page=5) == [p.id for p in want]
    page = client.get("/", query_string={"sort": sort, "per_page": 100}).get_data(as_text=True)
    positions = [page.index(f'href="/projects/{p.id}"') for p in want]
    # Each project appears twice (phone cards, then the table): compare the first.
    assert positions == sorted(positions)


def test_newest_events_first_unless_the_visitor_sorts(client, catalog, session):
    """With no sort chosen, the page, the API, the CSV and the sort menu all put the latest start
    date first; a sort the visitor picks (oldest first) is kept in the menu and in the links."""
    newest = [p.id for p in expected(session, {})]
    starts = [p.start_date for p in expected(session, {})]
    assert starts[0] > starts[-1]
    assert api_ids(client, per_page=5) == newest
    spec = client.get("/api/v1/openapi.json").get_json()
    sort = next(p for p in spec["paths"]["/projects"]["get"]["parameters"] if p["name"] == "sort")
    assert sort["schema"]["default"] == "-start_date"
    html = client.get("/", query_string={"per_page": 100}).get_data(as_text=True)
    positions = [html.index(f'href="/projects/{i}"') for i in newest]
    assert positions == sorted(positions)
    assert re.search(r'<option value="-start_date"\s+selected', html)
    csv_names = [row[2].removeprefix("'") for row in read_csv(client.get("/export.csv"))[1:]]
    assert csv_names == [p.name for p in expected(session, {})]

    oldest = client.get("/", query_string={"sort": "start_date", "per_page": 4})
    html = oldest.get_data(as_text=True)
    assert re.search(r'<option value="start_date"\s+selected', html)
    assert "sort=start_date" in html  # the page links keep the visitor's sort
    assert f'href="/projects/{newest[-1]}"' in html
    assert api_ids(client, sort="start_date", per_page=50) == newest[::-1]


def test_paging_total_and_links(client, catalog, session):
    want = expected(session, {})
    body = client.get("/api/v1/projects", query_string={"per_page": 4, "page": 2}).get_json()
    assert body["total"] == len(want)
    assert body["pages"] == -(-len(want) // 4)
    assert [i["id"] for i in body["items"]] == [p.id for p in want[4:8]]
    assert body["links"]["prev"].endswith("page=1&per_page=4")
    assert "page=3" in body["links"]["next"]
    last = client.get("/api/v1/projects", query_string={"per_page": 4, "page": body["pages"]})
    assert last.get_json()["links"]["next"] is None
    beyond = client.get("/api/v1/projects", query_string={"per_page": 4, "page": 999}).get_json()
    assert beyond["items"] == [] and beyond["total"] == len(want)


def test_page_paginates_with_total(client, catalog, session):
    want = expected(session, {})
    assert len(want) > 12
    page = client.get("/", query_string={"per_page": 4, "page": 2})
    html = page.get_data(as_text=True)
    assert page_total(page) == len(want)
    assert f'href="/projects/{want[4].id}"' in html
    assert f'href="/projects/{want[0].id}"' not in html
    assert "page=3" in html and "page=1" in html
