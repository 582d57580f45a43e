"""A Flask test client that logs in through the real login form, as a browser would."""

from __future__ import annotations

import re

from bench.datagen import PASSWORD

# Any <input> named csrf_token, whatever the order of its attributes.
TOKEN_INPUT = re.compile(r"<input[^>]*name=\"csrf_token\"[^>]*>")
VALUE = re.compile(r'value="([^"]+)"')


class BenchError(RuntimeError):
    """A scenario got an answer it should not have: its figures would be meaningless."""


def csrf_from(html: str) -> str:
    tag = TOKEN_INPUT.search(html)
    if not tag:
        raise BenchError("the page carries no CSRF token")
    return VALUE.search(tag.group(0)).group(1)


class Browser:
    """One signed-in (or anonymous) visitor of the in-process app."""

    def __init__(self, app):
        self.client = app.test_client()

    def get(self, url: str, expect: int = 200):
        """GET ``url`` and read the whole body; returns (status, body bytes read)."""
        response = self.client.get(url, buffered=False)
        try:
            size = sum(len(chunk) for chunk in response.response)
        finally:
            response.close()
        if response.status_code != expect:
            raise BenchError(f"GET {url} answered {response.status_code}, expected {expect}")
        return response, size

    def text(self, url: str) -> str:
        response = self.client.get(url)
        if response.status_code != 200:
            raise BenchError(f"GET {url} answered {response.status_code}")
        return response.get_data(as_text=True)

    def token(self, url: str) -> str:
        return csrf_from(self.text(url))

    def post(self, url: str, data: dict, expect: int = 302):
        response = self.client.post(url, data=data)
        if response.status_code != expect:
            body = response.get_data(as_text=True)[:300]
            raise BenchError(f"POST {url} answered {response.status_code}: {body}")
        return response

    def login(self, username: str) -> Browser:
        token = self.token("/login")
        self.post("/login", {"username": username, "password": PASSWORD, "csrf_token": token})
        return self
