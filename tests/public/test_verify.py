"""证书验证 without a login (public/verify.py, the API's /certificates/<code>): a code shows
its certificate masked and its status read now; every wrong code, every wrong number + name
pair gets one answer; revocation shows at once; rate limits answer 429 in Chinese; a bulk
file of 5,000 numbers or codes comes back with a status column, looked up in a few
statements. On the demo data (which has issued certificates, one revoked by hand)."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from sqlalchemy import select

import exports
import workflow
from certificates import issuing
from models import Certificate, ExecutionReport, rules
from models.certificate import CertificateKind, CertificateStatus
from public.verify import mask_name
from tests.admin.conftest import own_context_browser
from workflow import Action, execution

CSRF = re.compile(r'name="csrf_token" value="[^"]*"')


@pytest.fixture
def visitor(app, demo_accounts):
    """A phone with no login."""
    return own_context_browser(app)


def certificates(session, **where) -> list[Certificate]:
    stmt = select(Certificate).filter_by(**where).order_by(Certificate.id)
    return list(session.scalars(stmt))


def valid_credit(session) -> Certificate:
    return certificates(session, kind=CertificateKind.CREDIT, status=CertificateStatus.VALID)[0]


def body(response) -> str:
    """The page without its CSRF token (signed with the time: it changes every second)."""
    return CSRF.sub("", response.get_data(as_text=True))


def test_mask_name():
    assert mask_name("张三明") == "张*明"
    assert mask_name("欧阳小明") == "欧**明"
    assert mask_name("张三") == "张*"
    assert mask_name(" 李 ") == "*"
    assert mask_name("") == ""


def test_the_page_shows_the_certificate_masked(visitor, session):
    certificate = valid_credit(session)
    response = visitor.get(f"/verify/{certificate.code}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for shown in (
        certificate.number,
        certificate.project_name,
        certificate.organiser,
        certificate.committee_name,
        mask_name(certificate.name),
        rules.mask_id_number(certificate.id_number),
        "有效",
        "Ⅰ类学分",
        f"{certificate.credits:g}",
        certificate.issued_on.isoformat(),
        f"/verify/{certificate.code}.pdf",
    ):
        assert shown in html, shown
    assert certificate.name not in html
    assert certificate.id_number not in html
    assert certificate.workplace not in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_teaching_certificate_shows_topic_and_hours(visitor, session):
    certificate = certificates(session, kind=CertificateKind.TEACHING)[0]
    html = visitor.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "授课证明" in html and certificate.topic in html
    assert f"{certificate.hours:g}" in html
    assert certificate.name not in html


def test_every_wrong_code_gets_the_same_chinese_404(visitor, session):
    code = valid_credit(session).code
    wrong = [
        "x",
        code[:-1] + ("A" if code[-1] != "A" else "B"),
        code.lower() if code.lower() != code else code.upper(),
        code + "x",
        "A" * 200,
        "bulk.pdf",
    ]
    answers = [visitor.get(f"/verify/{w}") for w in wrong]
    assert {a.status_code for a in answers} == {404}
    first = answers[0].get_data()
    assert all(a.get_data() == first for a in answers)
    html = first.decode()
    assert "页面不存在" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert all(a.headers["X-Robots-Tag"] == "noindex, nofollow" for a in answers)
    # The PDF of a wrong code too.
    pdf = visitor.get(f"/verify/{wrong[1]}.pdf")
    assert pdf.status_code == 404 and pdf.get_data() == first


def test_the_api_gives_the_same_fields_and_one_404(visitor, session):
    certificate = valid_credit(session)
    response = visitor.get(f"/api/v1/certificates/{certificate.code}")
    assert response.status_code == 200
    data = response.get_json()
    assert data["number"] == certificate.number
    assert data["status"] == "valid" and data["status_label"] == "有效"
    assert data["name"] == mask_name(certificate.name)
    assert data["id_number"] == rules.mask_id_number(certificate.id_number)
    assert data["credits"] == certificate.credits
    assert data["html_url"].endswith(f"/verify/{certificate.code}")
    assert certificate.name not in response.get_data(as_text=True)
    assert certificate.id_number not in response.get_data(as_text=True)
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"
    misses = [visitor.get(f"/api/v1/certificates/{w}") for w in ("x", certificate.code + "x")]
    assert {m.status_code for m in misses} == {404}
    assert misses[0].get_data() == misses[1].get_data()
    assert misses[0].get_json()["error"]["code"] == "not_found"


def test_revoked_by_hand_shows_at_once(visitor, session, demo_accounts):
    certificate = valid_credit(session)
    url = f"/verify/{certificate.code}"
    assert "有效" in visitor.get(url).get_data(as_text=True)
    assert visitor.get(f"/api/v1/certificates/{certificate.code}").get_json()["status"] == "valid"
    assert issuing.revoke_by_hand(session, demo_accounts["bjcme"], certificate, "证书信息有误")
    session.commit()
    html = visitor.get(url).get_data(as_text=True)
    assert "已撤销" in html and "证书信息有误" in html and "市继委撤销" in html
    data = visitor.get(f"/api/v1/certificates/{certificate.code}").get_json()
    assert data["status"] == "revoked" and data["revoke_reason"] == "证书信息有误"
    assert data["revoke_cause"] == "by_hand" and data["revoked_on"]


def test_a_report_set_back_revokes_its_certificates_on_the_page(visitor, session, demo_accounts):
    certificate = valid_credit(session)
    report = session.get(ExecutionReport, certificate.report_id)
    url, api = f"/verify/{certificate.code}", f"/api/v1/certificates/{certificate.code}"
    visitor.get(url)  # read once: no copy of it may be served afterwards
    execution.move(session, report, Action.UNLOCK, demo_accounts["bjcme"], "学员名单需更正")
    session.commit()
    html = visitor.get(url).get_data(as_text=True)
    assert "已撤销" in html and "执行情况已设为可修改" in html and "学员名单需更正" in html
    assert visitor.get(api).get_json()["revoke_cause"] == "returned"


def test_withdrawing_the_publication_revokes_on_the_page_and_in_the_api(
    visitor, session, demo_accounts
):
    certificate = valid_credit(session)
    url, api = f"/verify/{certificate.code}", f"/api/v1/certificates/{certificate.code}"
    assert visitor.get(api).get_json()["status"] == "valid"
    project_id = certificate.project_id
    done = workflow.apply_bulk(
        session, Action.WITHDRAW, demo_accounts["bjcme"], [project_id], "公布信息有误"
    )
    session.commit()
    assert done.done == [project_id]
    html = visitor.get(url).get_data(as_text=True)
    assert "已撤销" in html and "项目已撤销公布" in html and "公布信息有误" in html
    data = visitor.get(api).get_json()
    assert data["status"] == "revoked" and data["revoke_cause"] == "withdrawn"


def test_a_learner_removed_from_the_corrected_roster_stays_revoked(visitor, session, demo_accounts):
    """Set back, corrected (one learner removed) and accepted again: the removed learner's
    certificate reads 已撤销; everyone else's new certificate reads 有效, the old one 已撤销."""
    certificate = valid_credit(session)
    report = session.get(ExecutionReport, certificate.report_id)
    owner = next(a for a in demo_accounts.values() if a.unit_id == report.owner_unit_id)
    others = certificates(session, report_id=report.id, kind=CertificateKind.CREDIT)
    kept = {c.roster_entry_id for c in others if c.is_valid} - {certificate.roster_entry_id}
    execution.move(session, report, Action.UNLOCK, demo_accounts["bjcme"], "删除一名未出勤学员")
    assert execution.remove_learners(session, owner, report, [certificate.roster_entry_id]) == 1
    execution.move(session, report, Action.REPORT, owner)
    if report.society_id is not None:
        society = next(a for a in demo_accounts.values() if a.unit_id == report.society_id)
        execution.move(session, report, Action.REPORT, society)
    execution.move(session, report, Action.ACCEPT, demo_accounts["bjcme"])
    session.commit()
    assert visitor.get(f"/api/v1/certificates/{certificate.code}").get_json()["status"] == (
        "revoked"
    )
    renewed = certificates(
        session, report_id=report.id, kind=CertificateKind.CREDIT, status=CertificateStatus.VALID
    )
    assert {c.roster_entry_id for c in renewed} == kept
    assert certificate.roster_entry_id not in {c.roster_entry_id for c in renewed}
    for old in others:
        assert "已撤销" in visitor.get(f"/verify/{old.code}").get_data(as_text=True)
    assert "有效" in visitor.get(f"/verify/{renewed[0].code}").get_data(as_text=True)


def test_the_demo_certificate_revoked_by_hand_reads_revoked(visitor, session):
    revoked = certificates(session, status=CertificateStatus.REVOKED)
    assert revoked
    html = visitor.get(f"/verify/{revoked[0].code}").get_data(as_text=True)
    assert "已撤销" in html and revoked[0].revoke_reason in html


# -- the form: number + name -------------------------------------------------------------


def test_number_and_name_open_the_certificate(visitor, session):
    certificate = valid_credit(session)
    response = visitor.post("/verify", {"number": certificate.number, "name": certificate.name})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/verify/{certificate.code}")
    # Full-width and blanks as a phone types them.
    wide = "".join(
        chr(ord(c) + 0xFEE0) if c.isalnum() and c.isascii() else c for c in certificate.number
    )
    again = visitor.post("/verify", {"number": f" {wide} ", "name": f" {certificate.name} "})
    assert again.status_code == 303


def test_every_wrong_pair_gets_the_same_answer(visitor, session):
    certificate = valid_credit(session)
    other = next(
        c for c in certificates(session, kind=CertificateKind.CREDIT) if c.name != certificate.name
    )
    pairs = [
        (certificate.number, other.name),  # a real number, another learner's name
        (other.number, certificate.name),
        (certificate.number, certificate.name[:-1]),
        ("BJCME-1999-000001", certificate.name),
        ("", ""),
        ("x" * 500, "y" * 500),
    ]
    answers = [visitor.post("/verify", {"number": n, "name": m}) for n, m in pairs]
    assert {a.status_code for a in answers} == {404}
    first = body(answers[0])
    assert all(body(a) == first for a in answers)
    assert "没有与该证书编号和姓名相符的证书" in first
    assert certificate.name not in first and other.name not in first
    assert certificate.number not in first
    assert answers[0].headers["X-Robots-Tag"] == "noindex, nofollow"


def test_the_form_is_csrf_protected(visitor, session):
    certificate = valid_credit(session)
    visitor.get("/verify")
    response = visitor.client.post(
        "/verify", data={"number": certificate.number, "name": certificate.name}
    )
    assert response.status_code == 400
    assert certificate.code not in response.headers.get("Location", "")


def test_every_post_needs_the_csrf_token(visitor, session):
    """The learner's record, its transcript and the bulk upload, posted without the
    token: refused (400) and nothing of the learner or the file answered."""
    certificate = valid_credit(session)
    pair = {"id_number": certificate.id_number, "name": certificate.name}
    for url, data in (
        ("/credits", pair),
        ("/credits/transcript.pdf", pair | {"year": str(certificate.year)}),
        ("/verify/bulk", {"file": (io.BytesIO(certificate.code.encode()), "codes.csv")}),
    ):
        visitor.get(url.replace("/transcript.pdf", ""))
        response = visitor.client.post(url, data=data)
        assert response.status_code == 400, url
        assert response.mimetype == "text/html", url
        assert certificate.project_name not in response.get_data(as_text=True), url


# -- rate limits -------------------------------------------------------------------------


def test_lookups_are_rate_limited_in_chinese(visitor, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_RATE_LIMIT", "3 per minute")
    code = valid_credit(session).code
    assert visitor.get(f"/verify/{code}").status_code == 200
    assert visitor.get(f"/api/v1/certificates/{code}").status_code == 200
    assert visitor.get("/verify/wrong").status_code == 404
    # The page, the API and the form share one count per client.
    page = visitor.get(f"/verify/{code}")
    assert page.status_code == 429
    html = page.get_data(as_text=True)
    assert "请求过于频繁" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert page.headers["X-Robots-Tag"] == "noindex, nofollow"
    api = visitor.get(f"/api/v1/certificates/{code}")
    assert api.status_code == 429 and api.get_json()["error"]["code"] == "too_many_requests"
    assert (
        visitor.post("/verify", {"number": "x", "name": "y"}, token_from="/verify").status_code
        == 429
    )
    # Other addresses are counted apart.
    other = visitor.client.get(f"/verify/{code}", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200


def test_bulk_is_rate_limited(visitor, app, monkeypatch):
    monkeypatch.setitem(app.config, "BULK_VERIFY_RATE_LIMIT", "1 per minute")
    assert visitor.post("/verify/bulk", {"file": (io.BytesIO(b"x\n"), "a.csv")}).status_code == 200
    refused = visitor.post("/verify/bulk", {"file": (io.BytesIO(b"x\n"), "a.csv")})
    assert refused.status_code == 429 and "请求过于频繁" in refused.get_data(as_text=True)


# -- bulk verification -------------------------------------------------------------------


def keys_of(session) -> tuple[str, str, str, str]:
    """A valid certificate's number, another's code, a revoked one's number, an unknown."""
    valid = certificates(session, kind=CertificateKind.CREDIT, status=CertificateStatus.VALID)
    revoked = certificates(session, status=CertificateStatus.REVOKED)[0]
    return valid[0].number, valid[1].code, revoked.number, "BJCME-1999-999999"


EXPECTED = ["有效", "有效", "已撤销", "未找到"]


def bulk_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def post_file(visitor, data: bytes, filename: str):
    return visitor.post(
        "/verify/bulk",
        {"file": (io.BytesIO(data), filename)},
        token_from="/verify/bulk",
        content_type="multipart/form-data",
    )


def test_bulk_csv_comes_back_with_a_status_column(visitor, session):
    keys = keys_of(session)
    lines = ["序号,证书编号,备注", *(f"{i},{k},=1+1" for i, k in enumerate(keys, 1))]
    lines.insert(3, ",,")  # a blank row stays where it was
    response = post_file(visitor, "\n".join(lines).encode("utf-8"), "名单.csv")
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = bulk_rows(response)
    assert rows[0] == ["序号", "证书编号", "备注", "状态"]
    data = [r for r in rows[1:] if any(r)]
    assert [r[1] for r in data] == [exports.neutralise(k) for k in keys]
    assert [r[3] for r in data] == EXPECTED
    assert rows[3] == ["", "", "", ""]
    # A formula typed in the file comes back neutralised, never as a formula.
    assert data[0][2] == "'=1+1"


def test_bulk_without_a_header_reads_the_first_column(visitor, session):
    keys = keys_of(session)
    rows = bulk_rows(post_file(visitor, "\n".join(keys).encode(), "codes.csv"))
    assert [r[0] for r in rows[1:]] == [exports.neutralise(k) for k in keys]
    assert [r[-1] for r in rows[1:]] == EXPECTED
    assert rows[0][-1] == "状态"


def test_bulk_xlsx_round_trip(visitor, session):
    keys = keys_of(session)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["验证码", "科室"])
    for key in keys:
        sheet.append([key, "心内科"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = post_file(visitor, buffer.getvalue(), "验证.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    payload = response.get_data()
    response.close()
    back = openpyxl.load_workbook(io.BytesIO(payload), read_only=True)
    values = [list(row) for row in back.active.iter_rows(values_only=True)]
    assert values[0] == ["验证码", "科室", "状态"]
    # Text cells of the workbook: each code as typed (a code may start with "-"), no '.
    assert [r[0] for r in values[1:]] == list(keys)
    assert [r[2] for r in values[1:]] == EXPECTED


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_bulk_of_5000_rows_in_a_few_statements(visitor, session, count_statements, kind):
    known = certificates(session)
    keys = [c.code if i % 2 else c.number for i, c in enumerate(known)]
    keys += [f"BJCME-1999-{n:06d}" for n in range(5000 - len(keys))]
    if kind == "csv":
        data, name = ("证书编号\n" + "\n".join(keys)).encode(), "big.csv"
    else:
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(["证书编号"])
        for key in keys:
            sheet.append([key])
        buffer = io.BytesIO()
        book.save(buffer)
        data, name = buffer.getvalue(), "big.xlsx"
    token = visitor.token("/verify/bulk")
    with count_statements() as counter:
        response = visitor.client.post(
            "/verify/bulk",
            data={"csrf_token": token, "file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )
        payload = response.get_data()
        response.close()
    assert response.status_code == 200, payload[:300]
    on_certificates = [s for s in counter.statements if "certificates" in s]
    assert len(on_certificates) == 5, counter.statements  # 5,000 keys in chunks of 1,000
    if kind == "csv":
        rows = list(csv.reader(io.StringIO(payload.decode("utf-8-sig"))))
    else:
        book = openpyxl.load_workbook(io.BytesIO(payload), read_only=True)
        rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert len(rows) == 5001
    statuses = {c.code: c.status for c in known} | {c.number: c.status for c in known}
    words = {CertificateStatus.VALID: "有效", CertificateStatus.REVOKED: "已撤销"}
    for key, row in zip(keys, rows[1:], strict=True):
        # a code may start with "-": neutralised in the CSV, as it is in the workbook
        assert row[0] == (exports.neutralise(key) if kind == "csv" else key)
        assert row[1] == words.get(statuses.get(key), "未找到")


def test_bulk_refuses_bad_files_in_chinese(visitor, session):
    too_many = ("证书编号\n" + "\n".join(f"N{i}" for i in range(5001))).encode()
    cases = [
        (b"", "a.csv", "文件是空的"),
        (b"\x00\x01\x02binary", "a.csv", ""),
        (too_many, "a.csv", "5000"),
        (b"PK\x03\x04broken", "a.xlsx", ""),
    ]
    for data, name, words in cases:
        response = post_file(visitor, data, name)
        assert response.status_code == 400, name
        html = response.get_data(as_text=True)
        assert 'class="alert alert-danger"' in html
        assert words in html
    missing = visitor.post("/verify/bulk", {}, token_from="/verify/bulk")
    assert missing.status_code == 400 and "请选择要上传的文件" in missing.get_data(as_text=True)


def test_the_api_answers_match_the_openapi_document(visitor, session, demo_accounts):
    from tests.public.test_api_openapi import check

    document = visitor.get("/api/v1/openapi.json").get_json()
    path = "/certificates/{code}"
    assert path in document["paths"]
    for certificate in certificates(session)[:5]:
        check(document, path, 200, visitor.get(f"/api/v1/certificates/{certificate.code}"))
    revoked = certificates(session, status=CertificateStatus.REVOKED)[0]
    check(document, path, 200, visitor.get(f"/api/v1/certificates/{revoked.code}"))
    teaching = certificates(session, kind=CertificateKind.TEACHING)[0]
    check(document, path, 200, visitor.get(f"/api/v1/certificates/{teaching.code}"))
    check(document, path, 404, visitor.get("/api/v1/certificates/unknown"))


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_of_a_code(visitor, session):
    certificate = valid_credit(session)
    response = visitor.get(f"/verify/{certificate.code}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"
    assert f"{certificate.number}.pdf" in response.headers["Content-Disposition"]
    assert certificate.number in pdf_text(response.get_data())


def test_the_pdfs_qr_opens_the_verification_page(visitor, session):
    from tests.test_certificate_pdf import decoded_qr_codes

    certificate = valid_credit(session)
    [url] = decoded_qr_codes(visitor.get(f"/verify/{certificate.code}.pdf").get_data())
    assert url.endswith(f"/verify/{certificate.code}")
    path = url.split("://", 1)[1].split("/", 1)[1]
    assert "有效" in visitor.get(f"/{path}").get_data(as_text=True)


def test_bulk_reads_numbers_as_typed(visitor, session):
    """A number typed in small letters or full-width, with blanks, is still the number."""
    number = keys_of(session)[0]
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in number)
    lines = ["证书编号", number.lower(), f"  {wide} ", "BJCME-1999-999999"]
    rows = bulk_rows(post_file(visitor, "\n".join(lines).encode(), "typed.csv"))
    assert [r[-1] for r in rows[1:]] == ["有效", "有效", "未找到"]
