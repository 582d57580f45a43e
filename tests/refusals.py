"""What a refused request shows: the status and the Chinese title of the error page
(errors.py), so that a test of a refusal checks what the user reads, not only the code."""

from __future__ import annotations

# The error page's title for each status, as the user reads it (errors.py, messages.po).
TITLES = {
    400: "请求无法处理",
    403: "您无权打开此页面",
    404: "页面不存在",
    405: "此处不能进行该操作",
}
# A POST whose CSRF token is missing or forged: a 400 that says the page expired.
EXPIRED = "页面已过期"


def assert_refused_with(response, status: int, title: str | None = None) -> str:
    """The response is ``status`` with its Chinese error page (``title``, by default the
    status's own); returns the page's text."""
    assert response.status_code == status, response.status_code
    text = response.get_data(as_text=True)
    assert (title or TITLES[status]) in text, text[:500]
    return text


def assert_expired(response) -> str:
    """A POST refused for its CSRF token: 400, and the page says it expired."""
    return assert_refused_with(response, 400, EXPIRED)


def assert_not_found(response, *titles: str) -> None:
    """A 404 as its reader gets it: the API's JSON error for programs, for people a
    Chinese page saying one of ``titles`` (by default the error page's)."""
    assert response.status_code == 404, response.status_code
    if response.mimetype == "application/json":
        assert response.get_json()["error"]["code"] == "not_found"
        return
    text = response.get_data(as_text=True)
    assert any(title in text for title in titles or (TITLES[404],)), text[:500]
