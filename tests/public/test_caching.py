"""Conditional GET (ETag, Last-Modified → 304) and the ``updated_since`` changes feed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from public_catalog import WITHDRAWN_NAME, add_project, expected, withdraw

import workflow
from models import Project, ProjectState, utcnow


def first_published(session) -> Project:
    return expected(session, {})[0]


@pytest.mark.parametrize("kind", ["page", "api"])
def test_detail_answers_304_when_unchanged(client, catalog, session, kind):
    project = first_published(session)
    url = f"/projects/{project.id}" if kind == "page" else f"/api/v1/projects/{project.id}"
    first = client.get(url)
    assert first.status_code == 200
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert "no-cache" in first.headers["Cache-Control"]
    if kind == "page":  # the language cookie changes the page
        assert "Cookie" in first.headers["Vary"]

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_list_answers_304_until_the_catalog_changes(client, catalog, session):
    url = "/api/v1/projects?year=2026"
    first = client.get(url)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304

    # A withdrawal changes the list without touching any row still in it.
    withdraw(session, catalog.accounts, expected(session, {"year": "2026"})[0].id)
    session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_detail_etag_follows_what_is_shown(client, catalog, session):
    """The ETag hashes the body: renaming the project's discipline (which does not touch
    the project row) still changes it."""
    project = first_published(session)
    url = f"/api/v1/projects/{project.id}"
    etag = client.get(url).headers["ETag"]
    project.discipline.name = project.discipline.name + "（新）"
    session.commit()
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert again.headers["ETag"] != etag
    assert again.get_json()["discipline"].endswith("（新）")


def feed(client, since, **params) -> list[dict]:
    query = {"updated_since": since.isoformat() + "Z", "per_page": 100, **params}
    response = client.get("/api/v1/projects", query_string=query)
    assert response.status_code == 200
    return response.get_json()["items"]


def test_feed_reports_changes_and_withdrawals(client, catalog, session):
    since = utcnow()
    assert feed(client, since) == []

    gone = first_published(session)
    withdraw(session, catalog.accounts, gone.id)
    new = add_project(
        session, catalog.accounts, "pumch", ProjectState.PUBLISHED, project_no="NEW-1"
    )
    unpublished = add_project(session, catalog.accounts, "pumch", ProjectState.AT_COMMITTEE)
    session.commit()

    items = feed(client, since)
    assert [(i["id"], i["status"]) for i in items] == [
        (gone.id, "withdrawn"),
        (new.id, "published"),
    ]
    assert set(items[0]) == {"id", "status", "updated_at"}
    assert unpublished.id not in [i["id"] for i in items]
    assert feed(client, utcnow()) == []


def test_feed_republished_project_is_published_not_withdrawn(client, catalog, session):
    since = utcnow()
    project = first_published(session)
    withdraw(session, catalog.accounts, project.id)
    project = session.get(Project, project.id)
    workflow.apply(session, project, workflow.Action.PUBLISH, catalog.accounts["bjcme"])
    session.commit()
    assert [(i["id"], i["status"]) for i in feed(client, since)] == [(project.id, "published")]


def test_feed_of_the_whole_history(client, catalog, session):
    """From the beginning: every published project, and the withdrawn one of the seed."""
    items = feed(client, utcnow().replace(year=2000))
    published = {p.id for p in expected(session, {})}
    assert {i["id"] for i in items if i["status"] == "published"} == published
    assert [i["id"] for i in items if i["status"] == "withdrawn"] == [catalog.withdrawn_id]
    assert WITHDRAWN_NAME not in str(items)


def test_feed_reads_offsets(client, catalog, session):
    withdraw(session, catalog.accounts, first_published(session).id)
    session.commit()
    instant = utcnow().replace(microsecond=0) - timedelta(minutes=1)
    beijing = (instant + timedelta(hours=8)).isoformat()

    def ids(since: str) -> list[int]:
        response = client.get("/api/v1/projects", query_string={"updated_since": since})
        return [item["id"] for item in response.get_json()["items"]]

    as_utc = ids(instant.isoformat() + "Z")
    assert as_utc
    assert ids(beijing + "+08:00") == as_utc
    assert ids(instant.isoformat()) == as_utc  # no offset: UTC
    assert ids(beijing) == []  # the same digits read as UTC are eight hours later
