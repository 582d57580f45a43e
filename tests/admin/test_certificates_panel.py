"""证书 in the panel (/admin/certificates/): who sees which certificates (each demo
account), ID numbers masked on every page, the committee's revocation by hand, the
link from a report's page, the PDF and the ZIP (at once and as a background job)
written to the security log, and CSRF on every POST. Both databases."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import func, or_, select

from models import (
    Certificate,
    CertificateEvent,
    CertificateStatus,
    rules,
)
from models.certificate import RevokeCause
from tests.admin.conftest import download_job, exports_in_background, job_of
from tests.admin.test_roster_import import exports_logged
from tests.refusals import assert_expired, assert_not_found, assert_refused_with

ACCOUNTS = ("bjcme", "bma", "bjtcm", "bma_cardio", "bma_peds", "tcm_acu", "pumch")
DETAILS = re.compile(r"/admin/certificates/details/\?id=(\d+)")
LIST = "/admin/certificates/?page_size=200"


def chain_of(session, user) -> set[int]:
    """The certificates of the reports along whose review chain ``user``'s unit stands."""
    unit = user.unit_id
    return set(
        session.scalars(
            select(Certificate.id).where(
                or_(
                    Certificate.owner_unit_id == unit,
                    Certificate.society_id == unit,
                    Certificate.committee_id == unit,
                )
            )
        )
    )


def listed(browser, url: str = LIST) -> set[int]:
    response = browser.get(url)
    assert response.status_code == 200, response.status_code
    return {int(n) for n in DETAILS.findall(response.get_data(as_text=True))}


def all_ids(session) -> set[int]:
    return set(session.scalars(select(Certificate.id)))


def one_of(session, **where) -> Certificate:
    stmt = select(Certificate).filter_by(**where).order_by(Certificate.id).limit(1)
    return session.scalars(stmt).one()


@pytest.mark.parametrize("username", ACCOUNTS)
def test_each_account_sees_the_certificates_of_its_chain_only(
    login_as, session, demo_accounts, username
):
    user = demo_accounts[username]
    expected = chain_of(session, user)
    browser = login_as(username)
    shown = listed(browser)
    assert shown == expected
    # 证书 is in every unit's menu; 证书设置 only in the committee's.
    menu = browser.get("/admin/").get_data(as_text=True)
    assert "/admin/certificates/" in menu
    assert ("/admin/certificate-settings/" in menu) is (username == "bjcme")
    if username != "bjcme":
        # Every certificate outside the chain answers 404: details, PDF, revocation.
        others = sorted(all_ids(session) - expected)
        assert others, "the demo data holds certificates of other chains"
        other = others[0]
        assert_not_found(browser.get(f"/admin/certificates/details/?id={other}"))
        assert_not_found(browser.get(f"/admin/certificates/{other}.pdf"))
        assert_not_found(
            browser.post(
                f"/admin/certificates/revoke/{other}",
                {"reason": "越权"},
                token_from="/admin/certificates/",
            )
        )


def test_the_demo_chains_are_as_the_tree_says(login_as, session, demo_accounts):
    """Concrete figures, so that the rule above is not only compared with itself."""
    units = {name: demo_accounts[name].unit_id for name in ACCOUNTS}
    by_owner = {
        name: set(session.scalars(select(Certificate.id).where(Certificate.owner_unit_id == unit)))
        for name, unit in units.items()
    }
    assert by_owner["pumch"] and by_owner["bma_cardio"] and by_owner["tcm_acu"]
    expected = {
        "bma": by_owner["bma_cardio"] | by_owner["bma_peds"],
        "bjtcm": by_owner["tcm_acu"],
        "bjcme": all_ids(session),
    }
    for name, ids in expected.items():
        browser = login_as(name)
        assert listed(browser) == ids, name
        browser.logout()


def test_the_list_has_the_manuals_columns_and_masks_every_id_number(login_as, session):
    browser = login_as("bjcme")
    text = browser.get(LIST).get_data(as_text=True)
    for word in (
        "证书编号",
        "证书类型",
        "姓名",
        "证件号码",
        "项目名称",
        "学分",
        "发证日期",
        "状态",
    ):
        assert word in text, word
    assert "学分证书" in text and "授课证明" in text and "有效" in text and "已撤销" in text
    numbers = [n for n in session.scalars(select(Certificate.id_number)) if n]
    assert numbers
    for number in numbers:
        assert number not in text
        assert rules.mask_id_number(number) in text


@pytest.mark.parametrize("username", ["bjcme", "bma", "bma_cardio", "pumch"])
def test_the_details_page_masks_the_id_number_and_shows_the_history(
    login_as, session, demo_accounts, username
):
    mine = chain_of(session, demo_accounts[username])
    certificate = session.scalars(
        select(Certificate)
        .where(Certificate.id.in_(mine), Certificate.id_number.is_not(None))
        .order_by(Certificate.id)
        .limit(1)
    ).one()
    browser = login_as(username)
    text = browser.get(f"/admin/certificates/details/?id={certificate.id}").get_data(as_text=True)
    assert certificate.number in text and certificate.name in text
    assert certificate.id_number not in text
    assert rules.mask_id_number(certificate.id_number) in text
    assert "操作记录" in text and "发证" in text
    # Only the committee is offered 撤销.
    assert ("cme-revoke-form" in text) is (username == "bjcme")


def test_filters_and_search(login_as, session):
    browser = login_as("bjcme")
    report_id = session.scalar(select(func.min(Certificate.report_id)))
    of_report = set(
        session.scalars(select(Certificate.id).where(Certificate.report_id == report_id))
    )
    assert listed(browser, f"{LIST}&flt0_report={report_id}") == of_report
    revoked = set(
        session.scalars(
            select(Certificate.id).where(Certificate.status == CertificateStatus.REVOKED)
        )
    )
    assert revoked, "the demo holds a revoked certificate"
    assert listed(browser, f"{LIST}&flt0_status=revoked") == revoked
    teaching = set(session.scalars(select(Certificate.id).where(Certificate.kind == "teaching")))
    assert listed(browser, f"{LIST}&flt0_kind=teaching") == teaching
    year = session.scalar(select(func.min(Certificate.year)))
    of_year = set(session.scalars(select(Certificate.id).where(Certificate.year == year)))
    assert listed(browser, f"{LIST}&flt0_year={year}") == of_year
    first = one_of(session)
    assert listed(browser, f"{LIST}&search={first.number}") == {first.id}
    # A filtered report's list names it and offers its ZIP.
    text = browser.get(f"{LIST}&flt0_report={report_id}").get_data(as_text=True)
    assert "下载这些证书（ZIP）" in text
    # An ID number is not searchable (no lookup by a whole number in the panel).
    numbered = session.scalars(
        select(Certificate).where(Certificate.id_number.is_not(None)).limit(1)
    ).one()
    assert listed(browser, f"{LIST}&search={numbered.id_number}") == set()


def test_the_report_page_links_to_its_certificates(login_as, session):
    certificate = one_of(session)
    count = session.scalar(
        select(func.count())
        .select_from(Certificate)
        .where(Certificate.report_id == certificate.report_id)
    )
    browser = login_as("bjcme")
    text = browser.get(f"/admin/execution/{certificate.report_id}/").get_data(as_text=True)
    assert f"证书（{count}）" in text
    assert f"/admin/certificates/?flt0_report={certificate.report_id}" in text


def revoke(browser, certificate_id: int, reason: str | None):
    data = {} if reason is None else {"reason": reason}
    return browser.post(
        f"/admin/certificates/revoke/{certificate_id}",
        data,
        token_from=f"/admin/certificates/details/?id={certificate_id}",
        follow_redirects=True,
    )


def events_of(session, certificate_id: int) -> list[CertificateEvent]:
    session.expire_all()
    return session.scalars(
        select(CertificateEvent)
        .where(CertificateEvent.certificate_id == certificate_id)
        .order_by(CertificateEvent.id)
    ).all()


def test_the_committee_revokes_one_certificate_with_a_reason(login_as, session, demo_accounts):
    certificate = one_of(session, status=CertificateStatus.VALID)
    cid, number = certificate.id, certificate.number
    browser = login_as("bjcme")
    # Without a reason (or only spaces): refused, nothing changes.
    for reason in (None, "", "   "):
        text = revoke(browser, cid, reason).get_data(as_text=True)
        assert "请填写撤销原因" in text
    session.expire_all()
    assert session.get(Certificate, cid).status == CertificateStatus.VALID
    assert [e.action for e in events_of(session, cid)] == ["issue"]

    response = revoke(browser, cid, "学员身份信息有误")
    text = response.get_data(as_text=True)
    assert f"证书 {number} 已撤销。" in text
    session.expire_all()
    revoked = session.get(Certificate, cid)
    assert revoked.status == CertificateStatus.REVOKED
    assert revoked.revoke_cause == RevokeCause.BY_HAND
    assert revoked.revoke_reason == "学员身份信息有误"
    events = events_of(session, cid)
    assert [e.action for e in events] == ["issue", "revoke"]
    assert events[1].reason == "学员身份信息有误"
    assert events[1].actor_id == demo_accounts["bjcme"].id
    # The details page shows it, with the cause and the reason; no second 撤销 button.
    assert "已撤销" in text and "市继委撤销" in text and "学员身份信息有误" in text
    assert "cme-revoke-form" not in text

    # Revoked already: a clear message, nothing changes.
    text = revoke(browser, cid, "再次撤销").get_data(as_text=True)
    assert f"证书 {number} 已撤销，未作更改。" in text
    assert len(events_of(session, cid)) == 2
    assert session.get(Certificate, cid).revoke_reason == "学员身份信息有误"


@pytest.mark.parametrize("username", ["bma", "bma_cardio", "pumch", "tcm_acu", "bjtcm"])
def test_only_the_committee_may_revoke(login_as, session, demo_accounts, username):
    mine = sorted(chain_of(session, demo_accounts[username]))
    certificate = session.scalars(
        select(Certificate).where(
            Certificate.id.in_(mine), Certificate.status == CertificateStatus.VALID
        )
    ).first()
    browser = login_as(username)
    response = browser.post(
        f"/admin/certificates/revoke/{certificate.id}",
        {"reason": "无权撤销"},
        token_from=f"/admin/certificates/details/?id={certificate.id}",
    )
    assert_refused_with(response, 403)
    session.expire_all()
    assert session.get(Certificate, certificate.id).status == CertificateStatus.VALID
    assert len(events_of(session, certificate.id)) == 1


def test_every_post_needs_a_valid_csrf_token(login_as, session):
    certificate = one_of(session, status=CertificateStatus.VALID)
    browser = login_as("bjcme")
    for url, data in (
        (f"/admin/certificates/revoke/{certificate.id}", {"reason": "原因"}),
        ("/admin/certificate-settings/", {"number_format": "X{year}-{serial}", "title": "标题"}),
        ("/admin/certificate-settings/seal", {"unit": "1"}),
        ("/admin/certificate-settings/seal/1/remove", {}),
    ):
        assert_expired(browser.client.post(url, data=data))
        assert_expired(browser.client.post(url, data=dict(data, csrf_token="forged")))
    session.expire_all()
    assert session.get(Certificate, certificate.id).status == CertificateStatus.VALID


# -- downloads, written to the security log ------------------------------------------------
def test_the_pdf_is_scoped_and_logged(login_as, session):
    certificate = one_of(session, owner_unit_id=session.scalar(select(Certificate.owner_unit_id)))
    before = len(exports_logged(session))
    browser = login_as("bjcme")
    response = browser.get(f"/admin/certificates/{certificate.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF")
    assert certificate.number in response.headers["Content-Disposition"]
    entries = exports_logged(session)
    assert len(entries) == before + 1
    assert "证书 PDF" in entries[-1].detail and certificate.number in entries[-1].detail
    assert entries[-1].username == "bjcme"


def zip_names(body: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        for name in archive.namelist():
            assert archive.read(name).startswith(b"%PDF")
        return set(archive.namelist())


def test_the_reports_zip_is_logged(login_as, session):
    report_id = session.scalar(select(func.min(Certificate.report_id)))
    numbers = set(
        session.scalars(select(Certificate.number).where(Certificate.report_id == report_id))
    )
    before = len(exports_logged(session))
    browser = login_as("bjcme")
    response = browser.get(f"/admin/certificates/export/zip/?flt0_report={report_id}")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/zip"
    body = response.get_data()
    response.close()
    assert zip_names(body) == {f"{n}.pdf" for n in numbers}
    entries = exports_logged(session)
    assert len(entries) == before + 1
    assert "证书 ZIP" in entries[-1].detail and f"{len(numbers)} 份" in entries[-1].detail


def test_a_zip_needs_one_report(login_as, session):
    browser = login_as("bjcme")
    before = len(exports_logged(session))
    response = browser.get("/admin/certificates/export/zip/", follow_redirects=True)
    assert "请先打开某一份执行情况的证书" in response.get_data(as_text=True)
    assert len(exports_logged(session)) == before
    assert browser.get("/admin/certificates/export/csv/").status_code == 404


def test_a_large_zip_is_a_background_job(app, login_as, session, monkeypatch, tmp_path):
    exports_in_background(app, monkeypatch, tmp_path)
    monkeypatch.setitem(app.config, "CERTIFICATE_ZIP_BACKGROUND", 2)
    report_id = session.scalar(select(func.min(Certificate.report_id)))
    numbers = set(
        session.scalars(select(Certificate.number).where(Certificate.report_id == report_id))
    )
    assert len(numbers) > 2
    before = len(exports_logged(session))
    browser = login_as("bjcme")
    job_id = job_of(browser.get(f"/admin/certificates/export/zip/?flt0_report={report_id}"))
    body = download_job(browser, job_id)
    assert zip_names(body) == {f"{n}.pdf" for n in numbers}
    entries = exports_logged(session)
    assert len(entries) == before + 1
    assert "证书 ZIP" in entries[-1].detail and "后台任务" in entries[-1].detail
    # Another account cannot fetch the job's file.
    browser.logout()
    other = login_as("pumch")
    assert other.get(f"/admin/jobs/{job_id}/download").status_code == 404
