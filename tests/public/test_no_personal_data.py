"""A crawler over every public URL (the catalog and its exports, every project page, the
open-data API and its OpenAPI document, every certificate's verification page and JSON,
the transcript pages, a learner's record, the bulk file): no whole ID number, no phone and
no full name of any learner on a roster appears in any answer. Certificates show their
holder masked (张*明, 110***********1234) and nothing else of them. On the demo data, whose
accepted rosters have issued certificates (one revoked)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from models import Certificate, Project, ProjectState, RosterEntry
from models.certificate import CertificateKind
from public.verify import TRANSCRIPT_SALT
from tests.admin.conftest import own_context_browser

SECRET = "test-secret"  # tests/conftest.py's app_config
HREF = re.compile(r'href="(/[^"#]*)"')


class Crawler:
    """A client without a login that keeps every answer's text (JSON decoded, so that
    Chinese is not hidden behind \\u escapes) and follows the site's own links."""

    def __init__(self, app) -> None:
        self.browser = own_context_browser(app)
        self.pages: dict[str, str] = {}

    def text(self, response) -> str:
        if response.mimetype == "application/json":
            return json.dumps(response.get_json(), ensure_ascii=False)
        data = response.get_data()
        response.close()
        if response.mimetype == "text/csv":
            return data.decode("utf-8-sig")
        assert not data.startswith(b"PK"), "a binary answer the crawler cannot read"
        return data.decode("utf-8")

    def keep(self, label: str, response) -> str:
        assert response.status_code in (200, 303, 404), (label, response.status_code)
        text = self.text(response)
        self.pages[label] = text + " " + str(dict(response.headers))
        return text

    def get(self, url: str) -> str:
        if url in self.pages:
            return self.pages[url]
        return self.keep(url, self.browser.get(url))

    def post(self, url: str, data: dict, label: str) -> str:
        return self.keep(label, self.browser.post(url, data, token_from=url))

    def follow_links(self, start: str) -> None:
        """Every link of the site's own pages reachable from ``start`` (no panel, no login,
        no language switch, no downloads beyond the catalog's CSV)."""
        queue = [start]
        while queue:
            url = queue.pop()
            text = self.get(url)
            for link in HREF.findall(text):
                link = link.replace("&amp;", "&")
                if link.startswith(("/admin", "/login", "/lang", "/static")):
                    continue
                if link.startswith("/export.xlsx") or link.endswith(".pdf"):
                    continue
                if link not in self.pages and len(self.pages) < 2000:
                    queue.append(link)


@pytest.fixture
def crawler(app, demo_accounts, monkeypatch) -> Crawler:
    for setting in ("VERIFY_RATE_LIMIT", "CREDITS_RATE_LIMIT", "BULK_VERIFY_RATE_LIMIT"):
        monkeypatch.setitem(app.config, setting, "100000 per minute")
    return Crawler(app)


def roster_secrets(session) -> set[str]:
    """What must never be public: every learner's whole ID number, phone and name."""
    secrets = set()
    for entry in session.scalars(select(RosterEntry)):
        secrets.update(v for v in (entry.id_number, entry.phone, entry.name) if v)
    return secrets


def test_no_public_answer_carries_a_learners_personal_data(crawler, session):
    secrets = roster_secrets(session)
    certificates = list(session.scalars(select(Certificate).order_by(Certificate.id)))
    assert any(c.kind is CertificateKind.CREDIT for c in certificates)
    assert secrets >= {c.name for c in certificates if c.kind is CertificateKind.CREDIT}

    # The catalog, every published project, the API and its document.
    crawler.follow_links("/")
    published = session.scalars(select(Project.id).where(Project.state == ProjectState.PUBLISHED))
    for project_id in published:
        crawler.get(f"/projects/{project_id}")
        crawler.get(f"/api/v1/projects/{project_id}")
    for url in (
        "/api/v1/projects?per_page=100",
        "/api/v1/projects?updated_since=2000-01-01T00:00:00Z&per_page=100",
        "/api/v1/openapi.json",
        "/export.csv",
        "/verify",
        "/verify/bulk",
        "/credits",
    ):
        crawler.get(url)

    # Every certificate: its page (and the links on it), its JSON.
    for certificate in certificates:
        crawler.follow_links(f"/verify/{certificate.code}")
        crawler.get(f"/api/v1/certificates/{certificate.code}")
    crawler.get("/verify/no-such-code")
    crawler.get("/api/v1/certificates/no-such-code")

    # The paper copy's form, right and wrong.
    first = certificates[0]
    crawler.post("/verify", {"number": first.number, "name": first.name}, "form: right pair")
    crawler.post("/verify", {"number": first.number, "name": "无此人"}, "form: wrong pair")

    # Every learner's record, its transcript pages, and the record of a wrong pair.
    serializer = URLSafeSerializer(SECRET, salt=TRANSCRIPT_SALT)
    years: dict[tuple, list[str]] = {}
    for certificate in certificates:
        if certificate.kind is CertificateKind.CREDIT:
            key = (certificate.id_number, certificate.name, certificate.year)
            years.setdefault(key, []).append(certificate.code)
    for (id_number, name, year), codes in years.items():
        label = f"credits: {id_number[-4:]} {year}"
        page = crawler.post("/credits", {"id_number": id_number, "name": name}, label)
        assert "/verify/" in page  # the record was found, and it is masked
        token = serializer.dumps({"y": year, "c": codes})
        crawler.follow_links(f"/verify/t/{token}")
    crawler.post(
        "/credits", {"id_number": first.id_number or "", "name": "无此人"}, "credits: wrong"
    )

    # The bulk file of every number and code.
    keys = [c.number for c in certificates] + [c.code for c in certificates]
    upload = io.BytesIO(("证书编号\n" + "\n".join(keys)).encode())
    bulk = crawler.post("/verify/bulk", {"file": (upload, "all.csv")}, "bulk")
    assert len(list(csv.reader(io.StringIO(bulk)))) == len(keys) + 1

    assert len(crawler.pages) > 50
    leaks = {
        (label, secret)
        for label, text in crawler.pages.items()
        for secret in secrets
        if secret in text
    }
    assert not leaks, sorted(leaks)[:20]
