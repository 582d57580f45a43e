"""Certificates (证书): issued in the acceptance's transaction, numbered gap-free per
committee and year, revoked by every path that undoes what they certify, on both
databases; who sees them in the panel."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from certificates import issuing, numbering
from extensions import db
from models import (
    Certificate,
    CertificateCounter,
    CertificateEvent,
    CertificateKind,
    CertificateSettings,
    CertificateStatus,
    ExecutionReport,
    ExecutionState,
    ProjectState,
    User,
)
from models.certificate import RevokeCause
from permissions.scopes import visible_certificates
from tests.factories import make_project
from tests.test_execution_workflow import accounts, learner
from workflow import Action, NotAllowed, engine, execution

E = ExecutionState


def accepted_report(session, a, owner="issuer", learners=3, zero=1):
    """A published project's report with ``learners`` learners with credits and
    ``zero`` without, reported up and accepted by the committee."""
    project = make_project(session, a[owner], ProjectState.PUBLISHED)
    report = execution.open_report(session, a[owner], project)
    for i in range(learners):
        execution.add_learner(session, a[owner], report, learner(name=f"学员{i}"))
    for _ in range(zero):
        execution.add_learner(session, a[owner], report, learner(name="缺席", attended=False))
    session.commit()
    execution.move(session, report, Action.REPORT, a[owner])
    if owner == "branch":
        execution.move(session, report, Action.REPORT, a["society"])
    execution.move(session, report, Action.ACCEPT, a["committee"])
    session.commit()
    return report


def certificates_of(session, report_id):
    return session.scalars(
        select(Certificate).where(Certificate.report_id == report_id).order_by(Certificate.id)
    ).all()


def test_accepting_a_roster_issues_one_certificate_per_learner_and_lecturer(demo_accounts, session):
    a = accounts(demo_accounts)
    report = accepted_report(session, a, learners=3, zero=1)
    issued = certificates_of(session, report.id)
    credit = [c for c in issued if c.kind == CertificateKind.CREDIT]
    teaching = [c for c in issued if c.kind == CertificateKind.TEACHING]
    assert [c.name for c in credit] == ["学员0", "学员1", "学员2"]  # not the absent one
    assert len(teaching) == len(report.lecturers) >= 1
    assert {c.topic for c in teaching} == {lec.topic for lec in report.lecturers}
    first = credit[0]
    assert first.credits == report.credits and first.category == "class_i"
    assert first.project_no == report.project.project_no and first.project_name == report.name
    assert first.organiser == report.project.organizer
    assert first.committee_name == a["committee"].unit.name
    assert first.status == CertificateStatus.VALID
    # Numbers: the committee's default format, serials gap-free in roster order.
    serials = [c.serial for c in issued]
    assert serials == list(range(serials[0], serials[0] + len(issued)))
    assert first.number == f"BJCME-{report.year}-{first.serial:06d}"
    # Codes: 128 random bits, URL-safe, all different.
    assert len({c.code for c in issued}) == len(issued)
    assert all(len(c.code) == 22 and c.code.isascii() and "/" not in c.code for c in issued)
    events = session.scalars(
        select(CertificateEvent.action).where(
            CertificateEvent.certificate_id.in_([c.id for c in issued])
        )
    ).all()
    assert events == ["issue"] * len(issued)


def test_a_failed_acceptance_issues_nothing(demo_accounts, session):
    a = accounts(demo_accounts)
    project = make_project(session, a["issuer"], ProjectState.PUBLISHED)
    report = execution.open_report(session, a["issuer"], project)
    execution.add_learner(session, a["issuer"], report, learner())
    execution.move(session, report, Action.REPORT, a["issuer"])
    session.commit()
    key = (a["committee"].unit_id, report.year)

    def last_serial():
        counter = session.get(CertificateCounter, key)
        return counter.last_value if counter else 0

    before = session.scalar(select(func.count()).select_from(Certificate)), last_serial()
    execution.move(session, report, Action.ACCEPT, a["committee"])
    assert session.scalar(select(func.count()).select_from(Certificate)) > before[0]
    session.rollback()  # the request failed after the move: nothing of it stays
    session.expire_all()
    after = session.scalar(select(func.count()).select_from(Certificate)), last_serial()
    assert after == before


def test_the_committees_format_and_title_are_used(demo_accounts, session):
    a = accounts(demo_accounts)
    session.add(
        CertificateSettings(
            committee_id=a["committee"].unit_id,
            number_format="JJ{year}/{serial:04d}",
            title="继续医学教育证书",
        )
    )
    session.commit()
    report = accepted_report(session, a, learners=1, zero=0)
    first = certificates_of(session, report.id)[0]
    assert first.number == f"JJ{report.year}/{first.serial:04d}"
    assert first.title == "继续医学教育证书"


@pytest.mark.parametrize(
    "value, good",
    [
        ("BJCME-{year}-{serial:06d}", True),
        ("{year}{serial}", True),
        ("BJCME-{serial:06d}", False),  # no year: numbers repeat every year
        ("BJCME-{year}", False),
        ("{year}-{serial}-{name}", False),
        ("证书{year}-{serial}", False),
        ("{year}-{serial!r}", False),
        ("{year}-{serial", False),
        ("", False),
    ],
)
def test_a_number_format_is_checked(value, good):
    assert (numbering.format_refusal(value) is None) is good


def test_issuing_costs_the_same_statements_for_any_roster(demo_accounts, session, count_statements):
    a = accounts(demo_accounts)
    counts = []
    for size in (2, 30):
        project = make_project(session, a["issuer"], ProjectState.PUBLISHED)
        report = execution.open_report(session, a["issuer"], project)
        for i in range(size):
            execution.add_learner(session, a["issuer"], report, learner(name=f"学员{i}"))
        execution.move(session, report, Action.REPORT, a["issuer"])
        session.commit()
        a["committee"].unit  # noqa: B018
        with count_statements() as counter:
            issued = issuing.issue(session, a["committee"], [report.id])
        session.rollback()
        assert issued == size + len(report.lecturers)
        counts.append(counter.count)
    assert counts[0] == counts[1], counter.statements


def test_issuing_for_many_reports_costs_the_same_statements_as_for_one(
    demo_accounts, session, count_statements
):
    """Reports of an issuer (no society) and of a branch, learners with and without a
    workplace, lecturers without an ID number: one INSERT for all their certificates."""
    a = accounts(demo_accounts)
    reports = []
    for owner, size in (("issuer", 3), ("branch", 2), ("issuer", 1), ("branch", 4)):
        project = make_project(session, a[owner], ProjectState.PUBLISHED)
        report = execution.open_report(session, a[owner], project)
        for i in range(size):
            execution.add_learner(session, a[owner], report, learner(name=f"学员{owner}{i}"))
        reports.append(report)
    session.commit()
    ids = [report.id for report in reports]
    counts = []
    for chosen in (ids[:1], ids):
        with count_statements() as counter:
            issued = issuing.issue(session, a["committee"], chosen)
        session.rollback()
        assert issued >= len(chosen)
        counts.append(counter.count)
    assert counts[0] == counts[1], counter.statements


# -- revocation ------------------------------------------------------------------------------
def test_a_send_back_revokes_and_a_new_acceptance_issues_new_numbers(demo_accounts, session):
    a = accounts(demo_accounts)
    report = accepted_report(session, a)
    old = certificates_of(session, report.id)
    execution.move(session, report, Action.UNLOCK, a["committee"], "学员名单有误")
    session.commit()
    for certificate in certificates_of(session, report.id):
        assert certificate.status == CertificateStatus.REVOKED
        assert certificate.revoke_cause == RevokeCause.RETURNED
        assert certificate.revoke_reason == "学员名单有误" and certificate.revoked_at
    # A learner removed from the corrected roster gets nothing new.
    removed = session.scalars(
        select(Certificate.roster_entry_id).where(
            Certificate.report_id == report.id, Certificate.kind == CertificateKind.CREDIT
        )
    ).first()
    assert execution.remove_learners(session, a["issuer"], report, [removed]) == 1
    execution.move(session, report, Action.REPORT, a["issuer"])
    execution.move(session, report, Action.ACCEPT, a["committee"])
    session.commit()
    now = certificates_of(session, report.id)
    new = [c for c in now if c.status == CertificateStatus.VALID]
    assert len(new) == len(old) - 1
    assert not {c.number for c in new} & {c.number for c in old}
    assert min(c.serial for c in new) > max(c.serial for c in old)
    assert removed not in {c.roster_entry_id for c in new}
    history = session.scalars(
        select(CertificateEvent.action)
        .where(CertificateEvent.certificate_id == old[0].id)
        .order_by(CertificateEvent.id)
    ).all()
    assert history == ["issue", "revoke"]


def test_withdrawing_the_publication_sets_the_report_back_and_revokes(demo_accounts, session):
    a = accounts(demo_accounts)
    report = accepted_report(session, a)
    project = report.project
    engine.apply(session, project, Action.WITHDRAW, a["committee"], "项目信息有误")
    session.commit()
    session.expire_all()
    report = session.get(ExecutionReport, report.id)
    assert report.state == E.RETURNED
    assert "项目信息有误" in report.return_reason
    for certificate in certificates_of(session, report.id):
        assert certificate.status == CertificateStatus.REVOKED
        assert certificate.revoke_cause == RevokeCause.WITHDRAWN
    # Until it is published again, the report goes nowhere.
    with pytest.raises(NotAllowed):
        execution.move(session, report, Action.REPORT, a["issuer"])


def test_removing_a_learner_revokes_a_certificate_still_valid(demo_accounts, session):
    """Whatever path removes a learner: a valid certificate of theirs is revoked.
    (The panel removes learners only from a report set back, whose certificates
    were revoked then; this is the rule's own guarantee.)"""
    a = accounts(demo_accounts)
    report = accepted_report(session, a, learners=2, zero=0)
    entry_id = certificates_of(session, report.id)[0].roster_entry_id
    assert issuing.revoke_removed(session, a["committee"], report.id, [entry_id]) == 1
    session.commit()
    first = certificates_of(session, report.id)[0]
    assert first.status == CertificateStatus.REVOKED and first.revoke_cause == RevokeCause.REMOVED
    assert certificates_of(session, report.id)[1].status == CertificateStatus.VALID


def test_the_committee_revokes_one_by_hand_once(demo_accounts, session):
    a = accounts(demo_accounts)
    report = accepted_report(session, a, learners=1, zero=0)
    first = certificates_of(session, report.id)[0]
    assert issuing.revoke_by_hand(session, a["committee"], first, "重复发放")
    assert not issuing.revoke_by_hand(session, a["committee"], first, "再次")
    session.commit()
    assert first.status == CertificateStatus.REVOKED and first.revoke_reason == "重复发放"


def test_a_certificate_is_never_deleted(demo_accounts, session):
    a = accounts(demo_accounts)
    report = accepted_report(session, a, learners=1, zero=0)
    session.delete(certificates_of(session, report.id)[0])
    with pytest.raises(AttributeError):
        session.flush()
    session.rollback()


def test_certificates_are_seen_only_along_the_review_chain(demo_accounts, session):
    a = accounts(demo_accounts)
    branch_report = accepted_report(session, a, owner="branch")
    issuer_report = accepted_report(session, a, owner="issuer")

    def seen(who):
        return {c.report_id for c in session.scalars(visible_certificates(a[who]))}

    assert {branch_report.id, issuer_report.id} <= seen("committee")
    assert branch_report.id in seen("branch") and issuer_report.id not in seen("branch")
    assert branch_report.id in seen("society") and issuer_report.id not in seen("society")
    assert issuer_report.id in seen("issuer") and branch_report.id not in seen("issuer")
    assert not seen("other_branch") & {branch_report.id, issuer_report.id}
    assert not seen("other_society") & {branch_report.id, issuer_report.id}


# -- concurrency ------------------------------------------------------------------------------
def test_concurrent_accepts_number_gap_free(app, demo_accounts, session, backend):
    """Two committee members accept two reports of the same year at the same
    moment, each on its own PostgreSQL connection: the serials of both rosters
    together are one unbroken series, none given twice."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers with a database lock; the race needs PostgreSQL")
    a = accounts(demo_accounts)
    reports = []
    for _ in range(2):
        project = make_project(session, a["issuer"], ProjectState.PUBLISHED)
        report = execution.open_report(session, a["issuer"], project)
        for i in range(20):
            execution.add_learner(session, a["issuer"], report, learner(name=f"学员{i}"))
        execution.move(session, report, Action.REPORT, a["issuer"])
        reports.append(report.id)
    session.commit()
    year = session.get(ExecutionReport, reports[0]).year
    mine = (Certificate.committee_id == a["committee"].unit_id, Certificate.year == year)
    before = session.scalar(select(func.coalesce(func.max(Certificate.serial), 0)).where(*mine))
    barrier = threading.Barrier(2, timeout=30)
    errors = []

    def accept(report_id):
        with app.app_context(), Session(db.engine) as own:
            target = own.get(ExecutionReport, report_id)
            account = own.get(User, a["committee"].id)
            account.unit  # noqa: B018
            barrier.wait()
            try:
                execution.move(own, target, Action.ACCEPT, account)
                own.commit()
            except Exception as error:  # reported below
                errors.append(error)

    threads = [threading.Thread(target=accept, args=(rid,)) for rid in reports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    serials = session.scalars(
        select(Certificate.serial)
        .where(*mine, Certificate.serial > before)
        .order_by(Certificate.serial)
    ).all()
    assert serials == list(range(before + 1, before + 1 + len(serials)))
    assert len(serials) >= 40
