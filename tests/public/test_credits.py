"""学分记录 without a login (public/verify.py): a learner's ID number + name give their
certificates per year with the Ⅰ类 / Ⅱ类 totals of the valid ones; a wrong pair reads
exactly as a learner with none; the ID number is never sent back whole; the transcript's
QR page lists its certificates as they stand now. On the demo data."""

from __future__ import annotations

import io
import re
from collections import defaultdict

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from certificates import issuing
from models import Certificate, rules
from models.certificate import CertificateKind, CertificateStatus, CreditCategory
from public.verify import TRANSCRIPT_SALT, mask_name
from tests.admin.conftest import own_context_browser

SECRET = "test-secret"  # tests/conftest.py's app_config
CSRF = re.compile(r'name="(csrf_token|record)" value="[^"]*"')


@pytest.fixture
def visitor(app, demo_accounts):
    return own_context_browser(app)


def body(response) -> str:
    """The page without its signed values (they carry the time)."""
    return CSRF.sub("", response.get_data(as_text=True))


def learners(session) -> dict[tuple[str, str], list[Certificate]]:
    """Every learner's credit certificates, by (ID number, name)."""
    found = defaultdict(list)
    stmt = select(Certificate).where(Certificate.kind == CertificateKind.CREDIT)
    for certificate in session.scalars(stmt.order_by(Certificate.id)):
        found[(certificate.id_number, certificate.name)].append(certificate)
    return found


def ask(visitor, id_number: str, name: str):
    return visitor.post("/credits", {"id_number": id_number, "name": name})


def test_a_learner_sees_their_certificates_per_year(visitor, session):
    (id_number, name), own = next(iter(learners(session).items()))
    response = ask(visitor, id_number, name)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for certificate in own:
        assert certificate.number in html and certificate.project_name in html
        assert f"/verify/{certificate.code}.pdf" in html
        assert f"{certificate.year} 年度" in html
    assert mask_name(name) in html and rules.mask_id_number(id_number) in html
    assert id_number not in html and name not in html
    assert "Ⅰ类学分" in html and "Ⅱ类学分" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"


def totals(html: str) -> list[str]:
    return re.findall(r"Ⅰ类学分：<strong>([^<]*)</strong>", html)


def test_revoked_certificates_are_listed_not_counted(visitor, session, demo_accounts):
    (id_number, name), own = next(iter(learners(session).items()))
    before = ask(visitor, id_number, name).get_data(as_text=True)
    certificate = own[0]
    year_total = sum(c.credits for c in own if c.year == certificate.year and c.is_valid)
    assert f"{year_total:g}" in totals(before)
    issuing.revoke_by_hand(session, demo_accounts["bjcme"], certificate, "重复发放")
    session.commit()
    after = ask(visitor, id_number, name).get_data(as_text=True)
    assert certificate.number in after and "已撤销" in after
    assert f"{year_total - certificate.credits:g}" in totals(after)
    assert f"/verify/{certificate.code}.pdf" not in after


def test_the_demo_revoked_certificate_is_not_counted(visitor, session):
    revoked = session.scalars(
        select(Certificate).where(
            Certificate.status == CertificateStatus.REVOKED,
            Certificate.kind == CertificateKind.CREDIT,
        )
    ).first()
    own = learners(session)[(revoked.id_number, revoked.name)]
    html = ask(visitor, revoked.id_number, revoked.name).get_data(as_text=True)
    assert revoked.number in html and "已撤销" in html
    expected = sum(
        c.credits
        for c in own
        if c.year == revoked.year and c.is_valid and c.category is CreditCategory.CLASS_I
    )
    assert f"{expected:g}" in totals(html)


def test_the_id_number_is_read_as_the_roster_reads_it(visitor, session):
    (id_number, name), own = next(iter(learners(session).items()))
    wide = "".join(chr(ord(c) + 0xFEE0) for c in id_number)  # full-width digits
    typed = f" {wide[:6]} {wide[6:14]} {wide[14:].lower()} "
    html = ask(visitor, typed, f" {name} ").get_data(as_text=True)
    assert own[0].number in html
    assert wide not in html and id_number not in html


def test_every_wrong_pair_reads_as_no_certificates(visitor, session):
    people = list(learners(session))
    (id_number, name), (other_id, other_name) = people[0], people[1]
    nobody = "110105198001010011"  # a well-formed number with no certificate
    answers = [
        ask(visitor, nobody, "无此人"),
        ask(visitor, id_number, other_name),
        ask(visitor, other_id, name),
        ask(visitor, id_number, name[:-1]),
        ask(visitor, id_number[:-1], name),
        ask(visitor, "", ""),
        ask(visitor, "x" * 300, "y" * 300),
    ]
    assert {a.status_code for a in answers} == {200}
    first = body(answers[0])
    assert all(body(a) == first for a in answers)
    assert "没有找到该证件号码和姓名的证书" in first
    for secret in (id_number, other_id, nobody, name, other_name):
        assert secret not in first


def test_the_lookups_are_rate_limited_in_chinese(visitor, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "CREDITS_RATE_LIMIT", "2 per minute")
    (id_number, name), _ = next(iter(learners(session).items()))
    assert ask(visitor, id_number, name).status_code == 200
    assert ask(visitor, "110105198001010011", "无此人").status_code == 200
    refused = ask(visitor, id_number, name)
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "请求过于频繁" in html and name not in html
    assert refused.headers["X-Robots-Tag"] == "noindex, nofollow"
    # Asking is free: the empty form is not counted.
    assert visitor.get("/credits").status_code == 200


def transcript_token(year: int, codes: list[str]) -> str:
    return URLSafeSerializer(SECRET, salt=TRANSCRIPT_SALT).dumps({"y": year, "c": codes})


def test_the_transcript_qr_page_lists_its_certificates_now(visitor, session, demo_accounts):
    (id_number, name), own = next(iter(learners(session).items()))
    year = own[0].year
    mine = [c for c in own if c.year == year and c.is_valid]
    url = f"/verify/t/{transcript_token(year, [c.code for c in mine])}"
    response = visitor.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert all(c.number in html for c in mine)
    assert mask_name(name) in html and name not in html and id_number not in html
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    issuing.revoke_by_hand(session, demo_accounts["bjcme"], mine[0], "重复发放")
    session.commit()
    assert "已撤销" in visitor.get(url).get_data(as_text=True)


def test_a_forged_transcript_token_is_the_404_of_every_wrong_code(visitor, session):
    code = session.scalars(select(Certificate.code)).first()
    forged = URLSafeSerializer("another-key", salt=TRANSCRIPT_SALT).dumps({"y": 2026, "c": [code]})
    answers = [
        visitor.get(f"/verify/t/{forged}"),
        visitor.get(f"/verify/t/{transcript_token(2026, ['nothing'])}"),
        visitor.get("/verify/t/garbage"),
        visitor.get("/verify/no-such-code"),
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({a.get_data() for a in answers}) == 1


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


RECORD = re.compile(r'name="record" value="([^"]+)"')


def test_the_record_pages_transcript_button(visitor, session):
    (id_number, name), own = next(iter(learners(session).items()))
    page = ask(visitor, id_number, name).get_data(as_text=True)
    tokens = RECORD.findall(page)
    assert tokens and id_number not in page
    response = visitor.post("/credits/transcript.pdf", {"record": tokens[0]}, token_from="/credits")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    year = max(c.year for c in own)
    text = pdf_text(response.get_data())
    assert all(c.number in text for c in own if c.year == year and c.is_valid)


def test_the_transcript_by_id_name_and_year(visitor, session):
    (id_number, name), own = next(iter(learners(session).items()))
    year = own[0].year
    form = {"id_number": id_number, "name": name, "year": str(year)}
    response = visitor.post("/credits/transcript.pdf", form, token_from="/credits")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    none = body(ask(visitor, "110105198001010011", "无此人"))
    wrong = [
        form | {"name": "无此人"},
        form | {"year": "1999"},
        form | {"year": "x"},
        {"record": "forged"},
        {"record": URLSafeSerializer(SECRET, salt="credits-record").dumps({"y": year, "c": []})},
    ]
    for data in wrong:
        refused = visitor.post("/credits/transcript.pdf", data, token_from="/credits")
        assert refused.status_code == 200 and refused.mimetype == "text/html"
        assert body(refused) == none


def test_the_transcripts_qr_opens_its_page(visitor, session, demo_accounts):
    """The QR printed on the transcript, decoded from the rendered page, opens the list of
    its certificates; after a revocation the same QR shows it."""
    from tests.test_certificate_pdf import decoded_qr_codes

    (id_number, name), own = next(iter(learners(session).items()))
    year = own[0].year
    form = {"id_number": id_number, "name": name, "year": str(year)}
    pdf = visitor.post("/credits/transcript.pdf", form, token_from="/credits").get_data()
    [url] = decoded_qr_codes(pdf)
    assert "/verify/t/" in url
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = visitor.get(f"/{path}")
    assert page.status_code == 200
    mine = [c for c in own if c.year == year and c.is_valid]
    html = page.get_data(as_text=True)
    assert all(c.number in html for c in mine) and 'class="text-danger"' not in html
    issuing.revoke_by_hand(session, demo_accounts["bjcme"], mine[0], "重复发放")
    session.commit()
    assert '<span class="text-danger">已撤销' in visitor.get(f"/{path}").get_data(as_text=True)
