"""Certificate PDFs (certificates/pdf.py) read back as a reader would: pypdf for
the text, the page size and the embedded font; pypdfium2 renders the page and
zxing-cpp decodes its QR code. On both databases, from the demo's certificates
and from rosters accepted here."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO

import pypdfium2
import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw
from pypdf import PdfReader
from sqlalchemy import delete, select

from certificates import issuing
from certificates import pdf as certificate_pdfs
from models import Certificate, CertificateKind, CertificateStatus, CreditCategory, Seal
from models.rules import mask_id_number
from tests.test_certificates import accepted_report, certificates_of
from tests.test_execution_workflow import accounts

A4_LANDSCAPE = (841.89, 595.28)  # points


def url_of(code: str) -> str:
    return f"http://localhost/verify/{code}"


def demo_certificates(session, count=None) -> list[Certificate]:
    query = (
        select(Certificate)
        .where(Certificate.kind == CertificateKind.CREDIT)
        .order_by(Certificate.id)
        .limit(count)
    )
    found = session.scalars(query).all()
    assert found, "the demo has accepted reports, so issued certificates"
    return found


def render(certificate: Certificate, seals=None) -> bytes:
    return certificate_pdfs.certificate_pdf(
        certificate, verify_url=url_of(certificate.code), seals=seals or {}
    )


def labelled(text: str, label: str, value: str) -> bool:
    """``label：value`` on one line (pypdf may put a space between the cells)."""
    return re.search(rf"{re.escape(label)}：\s*{re.escape(value)}(\s|$)", text) is not None


def text_of(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def pdfium_text(data: bytes) -> str:
    """The text as PDFium (Chrome's reader) extracts it."""
    document = pypdfium2.PdfDocument(data)
    text = document[0].get_textpage().get_text_range()
    document.close()
    return text


def decoded_qr_codes(data: bytes, page=0) -> list[str]:
    """The QR codes zxing-cpp finds on the page rendered at 216 dpi."""
    document = pypdfium2.PdfDocument(data)
    image = document[page].render(scale=3).to_pil()
    document.close()
    return [
        result.text
        for result in zxingcpp.read_barcodes(image)
        if result.format == zxingcpp.BarcodeFormat.QRCode
    ]


def fonts_of(data: bytes) -> list[dict]:
    """Each font of the first page as (BaseFont, descriptor) of its descendant."""
    page = PdfReader(BytesIO(data)).pages[0]
    found = []
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        descendant = font["/DescendantFonts"][0].get_object()
        found.append((str(font["/BaseFont"]), descendant["/FontDescriptor"].get_object()))
    return found


def test_the_page_says_who_what_and_how_much_in_chinese(demo_accounts, session):
    certificate = demo_certificates(session, 1)[0]
    data = render(certificate)
    reader = PdfReader(BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4_LANDSCAPE, abs=0.5)
    text = text_of(data)
    for expected in (
        certificate.name,
        certificate.number,
        certificate.title,
        certificate.project_name,
        mask_id_number(certificate.id_number),
        "学分证书",
        "证书编号",
        "发证日期",
        "学分类别",
        "Ⅰ类学分",
        "主办单位",
        certificate.organiser,
        certificate.committee_name,
        url_of(certificate.code)[:20],
    ):
        assert expected in text, expected
    assert labelled(text, "授予学分", f"{certificate.credits:g}")
    assert certificate.id_number not in text  # the ID number only masked
    assert "已撤销" not in text


def test_the_font_is_an_embedded_subset(demo_accounts, session):
    data = render(demo_certificates(session, 1)[0])
    fonts = fonts_of(data)
    assert fonts
    for base_font, descriptor in fonts:
        assert re.fullmatch(r"/[A-Z]{6}\+\S+", base_font), base_font
        program = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
        assert program is not None, "the font program is embedded"
        font = TTFont(BytesIO(program.get_object().get_data()))
        # Only the glyphs the page uses, not the vendored font's 9,446 characters.
        assert len(font.getGlyphOrder()) < 300
    assert len(data) < 200_000


def test_the_qr_code_decodes_to_the_verify_url(demo_accounts, session):
    certificate = demo_certificates(session, 1)[0]
    assert decoded_qr_codes(render(certificate)) == [url_of(certificate.code)]


def test_the_qr_code_is_drawn_as_vectors(demo_accounts, session):
    data = render(demo_certificates(session, 1)[0], seals={})
    assert len(PdfReader(BytesIO(data)).pages[0].images) == 0  # no seal, so no image at all
    assert decoded_qr_codes(data)  # yet a QR code to decode


def test_a_teaching_certificate_has_topic_and_hours_and_no_id(demo_accounts, session):
    report = accepted_report(session, accounts(demo_accounts), learners=1, zero=0)
    teaching = next(
        c for c in certificates_of(session, report.id) if c.kind == CertificateKind.TEACHING
    )
    text = text_of(render(teaching))
    assert "授课证明" in text and teaching.name in text and teaching.topic in text
    assert labelled(text, "学时", f"{teaching.hours:g}")
    assert "证件号码" not in text


def test_a_revoked_certificate_says_so(demo_accounts, session):
    a = accounts(demo_accounts)
    report = accepted_report(session, a, learners=1, zero=0)
    certificate = certificates_of(session, report.id)[0]
    assert "已撤销" not in text_of(render(certificate))
    assert issuing.revoke_by_hand(session, a["committee"], certificate, "重复发放")
    session.commit()
    assert certificate.status == CertificateStatus.REVOKED
    data = render(certificate)
    text = text_of(data)
    assert "已撤销" in text and "重复发放" in text and certificate.number in text
    assert decoded_qr_codes(data) == [url_of(certificate.code)]  # still verifiable: 已撤销


def seal_png(color=(200, 30, 30)) -> bytes:
    image = Image.new("RGBA", (240, 240), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((10, 10, 230, 230), outline=color, width=12)
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_the_two_seals_are_printed_where_stored(demo_accounts, session):
    certificate = demo_certificates(session, 1)[0]
    units = (certificate.committee_id, certificate.owner_unit_id)
    session.execute(delete(Seal).where(Seal.unit_id.in_(units)))  # the demo may have some
    session.commit()
    assert certificate_pdfs.seals_for(session, [certificate]) == {}
    assert len(PdfReader(BytesIO(render(certificate))).pages[0].images) == 0
    png = seal_png()
    session.add(Seal(unit_id=certificate.committee_id, png=png))
    session.commit()
    seals = certificate_pdfs.seals_for(session, [certificate])
    assert seals == {certificate.committee_id: png}
    assert len(PdfReader(BytesIO(render(certificate, seals))).pages[0].images) == 1
    session.add(Seal(unit_id=certificate.owner_unit_id, png=seal_png((20, 20, 160))))
    session.commit()
    seals = certificate_pdfs.seals_for(session, [certificate])
    assert set(seals) == {certificate.committee_id, certificate.owner_unit_id}
    data = render(certificate, seals)
    assert len(PdfReader(BytesIO(data)).pages[0].images) == 2
    assert decoded_qr_codes(data) == [url_of(certificate.code)]  # the seals hide no module


def test_a_damaged_seal_leaves_the_page_without_it(demo_accounts, session):
    certificate = demo_certificates(session, 1)[0]
    data = render(certificate, {certificate.committee_id: b"\x89PNG not really"})
    assert certificate.number in text_of(data)


def test_a_zip_holds_one_pdf_per_certificate_named_by_number(demo_accounts, session):
    certificates = demo_certificates(session, 4)
    out, seen = BytesIO(), []
    written = certificate_pdfs.write_certificates(
        iter(certificates), out, verify_url_for=url_of, seals={}, progress=seen.append
    )
    assert written == len(certificates) and seen == list(range(1, len(certificates) + 1))
    with zipfile.ZipFile(BytesIO(out.getvalue())) as zf:
        assert zf.namelist() == [f"{c.number}.pdf" for c in certificates]
        for certificate in certificates:
            text = text_of(zf.read(f"{certificate.number}.pdf"))
            assert certificate.name in text and certificate.number in text


def test_an_empty_zip_is_still_a_zip(demo_accounts, session):
    out = BytesIO()
    assert certificate_pdfs.write_certificates([], out, verify_url_for=url_of, seals={}) == 0
    assert zipfile.ZipFile(BytesIO(out.getvalue())).namelist() == []


def test_a_transcript_totals_the_valid_credits_by_category(demo_accounts, session):
    a = accounts(demo_accounts)
    report = accepted_report(session, a, learners=3, zero=0)
    mine = [c for c in certificates_of(session, report.id) if c.kind == CertificateKind.CREDIT]
    assert issuing.revoke_by_hand(session, a["committee"], mine[2], "重复发放")
    session.commit()
    mine[1].category = CreditCategory.CLASS_II  # in memory only: a Ⅱ类 line to add up
    url = "http://localhost/verify/t/token"
    data = certificate_pdfs.transcript_pdf(
        mine, name=mine[0].name, masked_id="110***********1234", year=report.year, verify_url=url
    )
    session.rollback()
    text = text_of(data)
    assert labelled(text, "Ⅰ类学分", f"{mine[0].credits:g}")  # the revoked one counts nothing
    assert labelled(text, "Ⅱ类学分", f"{mine[1].credits:g}")
    assert all(c.number in text for c in mine) and "已撤销" in text and "有效" in text
    assert f"{report.year} 学分记录" in text
    assert decoded_qr_codes(data) == [url]


@pytest.mark.parametrize("name", ["刘䶮", "吉𠮷祥", "张\u9fffX"])
def test_a_rare_character_in_a_name_does_not_fail(demo_accounts, session, name):
    certificate = demo_certificates(session, 1)[0]
    certificate.name = name  # in memory only
    data = render(certificate)
    session.rollback()
    # PDFium, as a viewer copies it (pypdf reads a surrogate pair's ToUnicode entry as "\x00𠮷").
    text = pdfium_text(data)
    fonts = fonts_of(data)  # the fallback font, where used, is an embedded subset too
    assert len({base_font for base_font, _ in fonts}) == len(fonts)
    for base_font, descriptor in fonts:
        assert re.fullmatch(r"/[A-Z]{6}\+\S+", base_font)
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor
    drawable = certificate_pdfs.font_chars() | (
        certificate_pdfs._fallback_font()[2] if certificate_pdfs._fallback_font() else set()
    )
    expected = "".join(c if ord(c) in drawable else "〓" for c in name)
    assert expected in text


def test_without_a_fallback_font_a_missing_character_is_marked(demo_accounts, session, monkeypatch):
    certificate = demo_certificates(session, 1)[0]
    certificate.name = "吉𠮷祥"  # 𠮷 is outside GB2312 and the 通用规范汉字表
    monkeypatch.setattr(certificate_pdfs, "FALLBACK_FONTS", ())
    certificate_pdfs._fallback_font.cache_clear()
    try:
        text = text_of(render(certificate))
    finally:
        certificate_pdfs._fallback_font.cache_clear()
        session.rollback()
    assert "吉〓祥" in text
