"""Every error under /api/ is the API's JSON error body, whatever raised it (routing, a
wrong method, the parser, an uncaught exception), and the OpenAPI document says what
the parser does with empty values and control characters."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from jsonschema import Draft202012Validator

from app import create_app
from extensions import db

ERROR_KEYS = {"error"}


def assert_json_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:200]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == ERROR_KEYS
    assert body["error"]["code"] == code
    # The strict headers hold for API errors too.
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/projects/abc",
        "/api/v1/projects/-1",
        "/api/v1/projects/0",
        "/api/v1/projects/%D9%A3",  # ٣, an Arabic-Indic 3
        "/api/v1/projects/99999999999999999999999",
        "/api/v1/projects/9223372036854775808",
        "/api/v1/projects/1/",
        "/api/v1/projects/1.5",
        "/api",
        "/api/",
        "/api/v1",
        "/api/v1/",
        "/api/v2/projects",
        "/api/v1/no-such-thing",
    ],
)
def test_malformed_ids_and_unknown_paths_answer_json_404(client, catalog, url):
    assert_json_error(client.get(url), 404, "not_found")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("url", ["/api/v1/projects", "/api/v1/projects/1", "/api/v1/openapi.json"])
def test_wrong_method_answers_json_405(client, catalog, url, method):
    response = client._client.open(url, method=method, buffered=True)
    assert_json_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_an_uncaught_exception_under_api_answers_json_500(tmp_path):
    app = create_app(
        {
            "TESTING": False,  # let the error handler answer, as in production
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'errors.sqlite'}",
        }
    )
    with app.app_context():
        upgrade()

    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError("a bug")

    try:
        response = app.test_client().get("/api/v1/_boom")
        assert_json_error(response, 500, "internal_server_error")
        assert "a bug" not in response.get_data(as_text=True)
    finally:
        with app.app_context():
            db.engine.dispose()


def _parameter_schema(client, name: str) -> dict:
    document = client.get("/api/v1/openapi.json").get_json()
    parameters = document["paths"]["/projects"]["get"]["parameters"]
    return next(p for p in parameters if p["name"] == name)["schema"]


def test_empty_updated_since_is_the_catalog_as_documented(client, catalog):
    """An empty value is no filter, for every parameter; the document allows it."""
    empty = client.get("/api/v1/projects?updated_since=").get_json()
    plain = client.get("/api/v1/projects").get_json()
    assert empty["total"] == plain["total"]
    assert all(item["status"] == "published" for item in empty["items"])
    for name in ("updated_since", "year", "level", "date_from", "sort", "page"):
        assert Draft202012Validator(_parameter_schema(client, name)).is_valid("")
    described = client.get("/api/v1/openapi.json").get_json()
    assert "empty one is the same as leaving it out" in described["info"]["description"]


@pytest.mark.parametrize("keyword", ["a\x01b", "a\x00b", "tab\there", "a\x7fb", "a\x85b"])
def test_control_characters_in_q_are_refused_as_documented(client, catalog, keyword):
    response = client.get("/api/v1/projects", query_string={"q": keyword})
    assert_json_error(response, 400, "invalid_parameter")
    assert response.get_json()["error"]["parameter"] == "q"
    assert not Draft202012Validator(_parameter_schema(client, "q")).is_valid(keyword)


def test_ordinary_keywords_are_valid_in_the_document(client, catalog):
    schema = _parameter_schema(client, "q")
    for keyword in ("心血管", "PCI 2026", "a-b_c (d)", "全角　空格"):
        assert Draft202012Validator(schema).is_valid(keyword)
        assert client.get("/api/v1/projects", query_string={"q": keyword}).status_code == 200
