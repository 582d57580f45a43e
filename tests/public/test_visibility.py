"""Nothing of an unpublished or withdrawn project reaches the public: not on a page, in a
count, an option list, an export, the API, or a detail URL."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from public_catalog import SECRET, WITHDRAWN_NAME, expected, read_csv

from tests.refusals import TITLES, assert_not_found

# Every public URL that lists projects, and the searches that would find the hidden ones.
LISTINGS = ["/", "/export.csv", "/export.xlsx", "/api/v1/projects"]
SEARCHES = [
    {},
    {"q": SECRET},
    {"q": "WITHDRAWN"},
    {"q": "未公布"},
    {"year": "2031"},
    {"date_from": "2031-01-01"},
    {"per_page": "100"},
]

# What a visitor reads at the address of a project that is not (or no longer) published.
NO_SUCH_PROJECT = "此地址没有已公布的项目"
PAGE_NOT_FOUND = TITLES[404]


def body_text(response) -> str:
    """A response's text, an XLSX's cell values included, without the parts that echo the
    request (the page's search form, the API's links)."""
    if response.is_json:
        return json.dumps(response.get_json()["items"], ensure_ascii=False)
    if response.mimetype.endswith("spreadsheetml.sheet"):
        sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
        return "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row)
    text = response.get_data(as_text=True)
    if "<form" in text:
        text = text[: text.index("<form")] + text[text.index("</form>") :]
    return text


def hidden_words(catalog) -> list[str]:
    return [SECRET, WITHDRAWN_NAME, "W-1", catalog.hidden_unit, str(catalog.hidden_year)]


@pytest.mark.parametrize("url", LISTINGS)
def test_hidden_projects_appear_on_no_listing(client, catalog, url):
    for search in SEARCHES:
        response = client.get(url, query_string=search)
        assert response.status_code == 200, search
        text = body_text(response)
        for word in hidden_words(catalog):
            assert word not in text, (search, word)


def test_counts_only_count_published(client, catalog, session):
    published = len(expected(session, {}))
    assert client.get("/api/v1/projects").get_json()["total"] == published
    assert len(read_csv(client.get("/export.csv"))) == published + 1
    for search in ({"q": SECRET}, {"year": "2031"}, {"q": "WITHDRAWN"}):
        assert client.get("/api/v1/projects", query_string=search).get_json()["total"] == 0
        page = client.get("/", query_string=search).get_data(as_text=True)
        assert 'id="total">' in page and "共查到 0 个" in page


def test_filter_options_come_from_published_projects(client, catalog):
    page = client.get("/").get_data(as_text=True)
    assert catalog.hidden_unit not in page
    assert f">{catalog.hidden_discipline}<" not in page
    assert f">{catalog.hidden_year}<" not in page
    assert ">北京协和医院<" in page and ">儿科学<" in page and ">2025<" in page


@pytest.mark.parametrize("prefix", ["/projects/", "/api/v1/projects/"])
def test_detail_of_hidden_project_is_404(client, catalog, prefix):
    for project_id in [*catalog.secret_ids, catalog.withdrawn_id]:
        response = client.get(f"{prefix}{project_id}")
        assert_not_found(response, NO_SUCH_PROJECT)
        for word in hidden_words(catalog):
            assert word not in response.get_data(as_text=True)


@pytest.mark.parametrize("prefix", ["/projects/", "/api/v1/projects/"])
def test_guessed_ids_are_404(client, catalog, prefix):
    for guess in ("0", "-1", "999999", "2147483648", "99999999999999999999999", "1.0", "x"):
        # An id no project has, or no id at all (the site's own page not found).
        assert_not_found(client.get(prefix + guess), NO_SUCH_PROJECT, PAGE_NOT_FOUND)


def test_api_404_is_json(client, catalog):
    response = client.get(f"/api/v1/projects/{catalog.secret_ids[0]}")
    assert response.get_json() == {"error": {"code": "not_found", "message": "Not found."}}
    assert client.get("/api/v1/projects/abc").get_json()["error"]["code"] == "not_found"


def test_published_detail_is_shown(client, catalog, session):
    project = expected(session, {})[0]
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert project.name in page and project.project_no in page
    body = client.get(f"/api/v1/projects/{project.id}").get_json()
    assert body["id"] == project.id and body["status"] == "published"


def test_withdrawn_project_disappears_at_once(client, catalog, session):
    from public_catalog import withdraw

    project = expected(session, {})[0]
    assert client.get(f"/projects/{project.id}").status_code == 200
    withdraw(session, catalog.accounts, project.id)
    session.commit()
    assert_not_found(client.get(f"/projects/{project.id}"), NO_SUCH_PROJECT)
    assert_not_found(client.get(f"/api/v1/projects/{project.id}"))
    assert project.id not in [i["id"] for i in client.get("/api/v1/projects").get_json()["items"]]
