"""The OpenAPI document is valid OpenAPI 3.1 and describes real responses exactly."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate as validate_openapi
from public_catalog import SEARCH_PARAMETERS, expected, withdraw
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from models import utcnow

DOCUMENT_URI = "urn:cme:openapi"


@pytest.fixture
def document(client, app_on_empty_db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def check(document: dict, path: str, status: int, response) -> None:
    """Validate ``response`` against the schema the document gives for ``path``/``status``."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    escaped = path.replace("/", "~1")
    pointer = f"#/paths/{escaped}/get/responses/{status}/content/application~1json/schema"
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource(DOCUMENT_URI, resource)
    validator = Draft202012Validator(
        {"$ref": DOCUMENT_URI + pointer}, registry=registry, format_checker=FormatChecker()
    )
    errors = sorted(validator.iter_errors(response.get_json()), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate_openapi(document)


def test_document_lists_exactly_the_parameters_the_api_reads(document):
    names = {p["name"] for p in document["paths"]["/projects"]["get"]["parameters"]}
    assert names == set(SEARCH_PARAMETERS)


def test_list_responses_match(client, catalog, session, document):
    check(document, "/projects", 200, client.get("/api/v1/projects"))
    check(document, "/projects", 200, client.get("/api/v1/projects?per_page=3&page=2"))
    check(document, "/projects", 200, client.get("/api/v1/projects?year=2031"))
    filters = "q=班&year=2026&level=society_i&date_from=2026-01-01&date_to=2026-12-31"
    check(document, "/projects", 200, client.get(f"/api/v1/projects?{filters}&sort=-credits"))


def test_changes_feed_matches(client, catalog, session, document):
    since = utcnow()
    withdraw(session, catalog.accounts, expected(session, {})[0].id)
    session.commit()
    response = client.get("/api/v1/projects", query_string={"updated_since": since.isoformat()})
    statuses = {item["status"] for item in response.get_json()["items"]}
    assert statuses == {"withdrawn"}
    check(document, "/projects", 200, response)
    everything = client.get("/api/v1/projects?updated_since=2000-01-01T00:00:00Z&per_page=100")
    assert {i["status"] for i in everything.get_json()["items"]} == {"published", "withdrawn"}
    check(document, "/projects", 200, everything)


def test_detail_matches(client, catalog, session, document):
    for project in expected(session, {}):
        check(document, "/projects/{project_id}", 200, client.get(f"/api/v1/projects/{project.id}"))


def test_errors_match(client, catalog, document):
    check(document, "/projects", 400, client.get("/api/v1/projects?page=0"))
    check(document, "/projects", 400, client.get("/api/v1/projects?date_from=x"))
    check(document, "/projects/{project_id}", 404, client.get("/api/v1/projects/999999"))
    withdrawn = client.get(f"/api/v1/projects/{catalog.withdrawn_id}")
    check(document, "/projects/{project_id}", 404, withdrawn)


def test_documented_bounds_are_the_enforced_ones(client, catalog, document):
    parameters = {p["name"]: p for p in document["paths"]["/projects"]["get"]["parameters"]}
    per_page = parameters["per_page"]["schema"]["maximum"]
    assert client.get(f"/api/v1/projects?per_page={per_page}").status_code == 200
    assert client.get(f"/api/v1/projects?per_page={per_page + 1}").status_code == 400
    for sort in parameters["sort"]["schema"]["enum"]:
        assert client.get(f"/api/v1/projects?sort={sort}").status_code == 200
    for level in parameters["level"]["schema"]["enum"]:
        assert client.get(f"/api/v1/projects?level={level}").status_code == 200


def test_json_uses_iso_dates_and_english_names(client, catalog, session):
    project = expected(session, {})[0]
    body = client.get(f"/api/v1/projects/{project.id}").get_json()
    assert body["start_date"] == project.start_date.isoformat()
    assert body["published_at"].endswith("Z")
    assert body["published_at"][:19] == project.published_at.isoformat(timespec="seconds")
    assert all(key.isascii() for key in body)
    assert body["html_url"].endswith(f"/projects/{project.id}")
    assert body["lecturers"][0]["name"] == project.lecturers[0].name
