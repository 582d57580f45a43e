"""Conditional GET for the public pages and the API (ETag, Last-Modified, 304)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, request


def conditional(response: Response, *, last_modified: datetime | None = None) -> Response:
    """Tag ``response`` and answer 304 Not Modified when the client's copy is current.

    The ETag is a hash of the body, so it changes whenever anything shown changes (a
    project, a renamed discipline, the language); it takes precedence over
    ``If-Modified-Since``. ``last_modified`` is naive UTC. ``no-cache`` lets caches keep the
    response but makes them ask again each time, so a withdrawn project disappears at once.
    """
    response.add_etag()
    if last_modified is not None:
        response.last_modified = last_modified.replace(tzinfo=UTC)
    response.cache_control.no_cache = True
    return response.make_conditional(request)
