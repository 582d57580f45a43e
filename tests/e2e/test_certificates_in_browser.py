"""证书 from end to end in Chromium, as the issue tells it: a learner on a phone finds
their record (学分记录) by ID number + name, downloads the certificate's PDF, and the QR
code on it — decoded from the PDF, nobody scans — opens the verification page, which
says 有效; the committee withdraws the project's publication (撤销公布) and the same
page says 已撤销 at once. Then the committee revokes another certificate by hand from
证书 and sees it revoked on its page and on /verify. Screens at 1366 and 390 px under
test-output/e2e/."""

from __future__ import annotations

import pypdfium2
import pytest
import zxingcpp
from sqlalchemy import select

from models import (
    Certificate,
    CertificateKind,
    CertificateStatus,
    ExecutionReport,
    ExecutionState,
    Project,
)

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 900}


def qr_codes(pdf: bytes) -> list[str]:
    """The QR codes on the PDF's first page, rendered at 216 dpi and decoded by zxing-cpp."""
    document = pypdfium2.PdfDocument(pdf)
    image = document[0].render(scale=3).to_pil()
    document.close()
    found = zxingcpp.read_barcodes(image)
    return [r.text for r in found if r.format == zxingcpp.BarcodeFormat.QRCode]


def both_widths(person, name: str) -> None:
    person.page.set_viewport_size(DESK)
    person.shot(f"{name}-1366")
    person.page.set_viewport_size(PHONE)
    person.shot(f"{name}-390")


def fits_the_phone(page) -> None:
    """Nothing wider than the phone's screen (no sideways scrolling)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width


def a_valid_certificate(session, owner_username: str, demo_accounts) -> Certificate:
    """A valid 学分证书 of an accepted report of ``owner``'s unit, from the demo data."""
    unit_id = demo_accounts[owner_username].unit_id
    return session.scalars(
        select(Certificate)
        .join(ExecutionReport, ExecutionReport.id == Certificate.report_id)
        .where(
            Certificate.owner_unit_id == unit_id,
            Certificate.kind == CertificateKind.CREDIT,
            Certificate.status == CertificateStatus.VALID,
            ExecutionReport.state == ExecutionState.ACCEPTED,
        )
        .order_by(Certificate.id)
    ).first()


def test_a_learner_verifies_by_the_pdfs_qr_until_the_committee_withdraws(
    people, session, demo_accounts, live_server
):
    certificate = a_valid_certificate(session, "pumch", demo_accounts)
    project = session.get(Project, certificate.project_id)
    id_number, name, number = certificate.id_number, certificate.name, certificate.number

    # 1. The learner, on a phone, finds the record by ID number + name.
    learner = people()
    page = learner.page
    page.set_viewport_size(PHONE)
    learner.go("/credits")
    page.fill("#credits-id", id_number)
    page.fill("#credits-name", name)
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    body = page.inner_text("body")
    assert number in body and project.name in body and id_number not in page.content()
    fits_the_phone(page)
    both_widths(learner, "certificates-record")
    page.set_viewport_size(PHONE)

    # 2. The certificate's PDF, as the record links it; its QR code holds the address.
    row = page.locator("tr", has_text=number)
    href = row.get_by_role("link", name="PDF").get_attribute("href")
    response = page.request.get(live_server + href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    [address] = qr_codes(response.body())
    assert address == f"{live_server}/verify/{certificate.code}"

    # 3. The address the QR code carries, opened on the phone: 有效.
    page.goto(address)
    status = page.locator("[role=status] .cme-status")
    assert "有效" in status.inner_text()
    assert number in page.inner_text("body") and id_number not in page.content()
    assert name not in page.inner_text("body") or len(name) < 2  # shown as 张*明
    assert page.locator("meta[name=robots]").get_attribute("content").startswith("noindex")
    fits_the_phone(page)
    both_widths(learner, "certificates-verify-valid")
    page.set_viewport_size(PHONE)

    # 4. The committee withdraws the project's publication (撤销公布) with a reason.
    committee = people()
    committee.login("bjcme")
    committee.go(f"/admin/audit/?status=all&year={project.year}&search={project.name}")
    cpage = committee.page
    cpage.check(f"input.action-checkbox[value='{project.id}']")
    cpage.locator("button.cme-list-button", has_text="撤销公布").click()
    cpage.wait_for_load_state()
    cpage.fill("textarea[name=reason]", "主办单位申报信息有误，撤销公布")
    cpage.locator("button[type=submit]", has_text="确定").click()
    cpage.wait_for_load_state()
    assert "已处理 1 项" in " ".join(cpage.locator(".alert").all_inner_texts())

    # 5. The same address, reloaded on the phone: 已撤销, with the date and the reason.
    page.reload()
    status_text = page.locator("[role=status]").inner_text()
    assert "已撤销" in status_text and "有效" not in status_text
    assert "撤销公布" in page.inner_text("body")
    both_widths(learner, "certificates-verify-revoked")


def test_the_committee_revokes_one_by_hand_and_sees_it_at_once(people, session, demo_accounts):
    certificate = a_valid_certificate(session, "bma_cardio", demo_accounts)
    committee = people()
    committee.login("bjcme")
    committee.go("/admin/certificates/")
    page = committee.page
    assert certificate.number in page.inner_text("body")
    both_widths(committee, "certificates-list")
    page.set_viewport_size(DESK)
    page.locator("tr", has_text=certificate.number).get_by_role("link").first.click()
    page.wait_for_load_state()
    assert certificate.number in page.inner_text("body")
    page.fill("#revoke-reason", "学员信息登记错误，证书作废")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="撤销", exact=True).click()
    page.wait_for_load_state()
    body = page.inner_text("body")
    assert "已撤销" in body and "学员信息登记错误，证书作废" in body
    both_widths(committee, "certificates-revoked-by-hand")

    visitor = people()
    visitor.page.set_viewport_size(PHONE)
    visitor.go(f"/verify/{certificate.code}")
    assert "已撤销" in visitor.page.locator("[role=status] .cme-status").inner_text()
