"""Malformed parameters get a clear 400 naming the parameter, or an empty result; never a
500; whatever input is echoed back is escaped."""

from __future__ import annotations

import pytest

LONG = "长" * 101
# (query, the parameter the 400 names)
REFUSED = [
    ({"year": "abc"}, "year"),
    ({"year": "20.5"}, "year"),
    ({"year": "-1"}, "year"),
    ({"year": "1" * 40}, "year"),
    ({"year": "１９９９"}, "year"),  # full-width digits
    ({"page": "0"}, "page"),
    ({"page": "-3"}, "page"),
    ({"page": "x"}, "page"),
    ({"page": str(10**12)}, "page"),
    ({"per_page": str(10**6)}, "per_page"),
    ({"per_page": "0"}, "per_page"),
    ({"sort": "bogus"}, "sort"),
    ({"sort": "name; DROP TABLE projects"}, "sort"),
    ({"level": "<b>x</b>"}, "level"),
    ({"discipline": "1 OR 1=1"}, "discipline"),
    ({"unit": str(10**20)}, "unit"),
    ({"date_from": "2026-13-01"}, "date_from"),
    ({"date_from": "2026/01/01"}, "date_from"),
    ({"date_to": "yesterday"}, "date_to"),
    ({"date_from": "2026-06-01", "date_to": "2026-05-01"}, "date_to"),
    ({"q": LONG}, "q"),
    ({"q": "a\x00b"}, "q"),
]
# Accepted, and find nothing (or only what literally contains them).
HARMLESS = [
    "' OR '1'='1",
    "'; DROP TABLE projects; --",
    '" OR ""="',
    "\\",
    "%%",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "${7*7}",
    "长" * 100,
]
SCRIPT = "<script>alert(1)</script>"


def test_api_refuses_with_json_400(client, catalog):
    for query, parameter in REFUSED:
        response = client.get("/api/v1/projects", query_string=query)
        assert response.status_code == 400, query
        error = response.get_json()["error"]
        assert error["code"] == "invalid_parameter", query
        assert error["parameter"] == parameter, query
        assert error["message"], query
        for value in query.values():
            assert value not in error["message"] or value.isdigit(), query


@pytest.mark.parametrize("url", ["/", "/export.csv", "/export.xlsx"])
def test_pages_refuse_with_400(client, catalog, url):
    for query, _parameter in REFUSED:
        response = client.get(url, query_string=query)
        assert response.status_code == 400, query
        assert response.mimetype == "text/html", query
        html = response.get_data(as_text=True)
        assert 'class="alert alert-danger"' in html, query
        assert "<b>x</b>" not in html, query


def test_page_error_names_the_field_in_chinese(client, catalog):
    html = client.get("/", query_string={"year": "abc"}).get_data(as_text=True)
    assert "年度必须是整数。" in html
    html = client.get("/", query_string={"date_from": "2026-06-01", "date_to": "2026-05-01"})
    assert "举办日期至不能早于开始日期。" in html.get_data(as_text=True)


def test_metacharacters_find_nothing(client, catalog):
    for keyword in HARMLESS:
        api = client.get("/api/v1/projects", query_string={"q": keyword})
        assert api.status_code == 200, keyword
        assert api.get_json()["total"] == 0, keyword
        page = client.get("/", query_string={"q": keyword})
        assert page.status_code == 200, keyword
        assert "共查到 0 个已公布项目" in page.get_data(as_text=True), keyword
        assert client.get("/export.csv", query_string={"q": keyword}).status_code == 200


def test_echoed_keyword_is_escaped(client, catalog):
    html = client.get("/", query_string={"q": SCRIPT}).get_data(as_text=True)
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    refused = client.get("/", query_string={"q": SCRIPT, "year": "x"})
    assert refused.status_code == 400
    assert SCRIPT not in refused.get_data(as_text=True)


def test_updated_since_belongs_to_the_api(client, catalog):
    assert client.get("/", query_string={"updated_since": "2026-01-01"}).status_code == 400
    bad = client.get("/api/v1/projects", query_string={"updated_since": "last week"})
    assert bad.status_code == 400
    assert bad.get_json()["error"]["parameter"] == "updated_since"


def test_repeated_and_empty_parameters(client, catalog):
    assert client.get("/api/v1/projects?year=&level=&q=").status_code == 200
    assert client.get("/api/v1/projects?year=2025&year=abc").status_code == 200


def test_unknown_api_path_and_method(client, catalog):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
