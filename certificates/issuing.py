"""Issuing and revoking certificates, in the transaction of the move that causes it.

``on_execution_moved`` is a receiver of ``workflow.hooks.execution_moved``
(connected by ``receivers``): 审核通过 of a report issues its certificates (one
per learner with credits, one 授课证明 per lecturer); setting an accepted report
back to modifiable revokes them — with the cause "withdrawn" when it happens
because its project's 撤销公布 set it back (``workflow.execution_rules``). A
re-accepted report issues new certificates with new numbers; the old ones stay
revoked. Every function here runs a constant number of statements whatever the
number of learners, flushes and never commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import insert, literal, select, update
from sqlalchemy.orm import Session

from certificates.numbering import format_number, new_code
from models import (
    Certificate,
    CertificateCounter,
    CertificateEvent,
    CertificateKind,
    CertificateSettings,
    CertificateStatus,
    CreditCategory,
    ExecutionLecturer,
    ExecutionReport,
    Project,
    ProjectLevel,
    ProjectState,
    RosterEntry,
    Unit,
    utcnow,
)
from models.base import beijing_today
from models.certificate import DEFAULT_CERTIFICATE_TITLE, DEFAULT_NUMBER_FORMAT, RevokeCause
from models.execution import ExecutionState
from workflow import counters
from workflow.transitions import Action

# Every level filed here awards Ⅰ类 credits (国家级, 北京市级, 学（协）会Ⅰ类).
CATEGORY_OF_LEVEL = dict.fromkeys(ProjectLevel, CreditCategory.CLASS_I)
ISSUE, REVOKE = "issue", "revoke"


def on_execution_moved(action, *, session: Session, account, moves, reason) -> None:
    """Receiver of ``hooks.execution_moved``: issue on 审核通过, revoke when an
    accepted report is set back."""
    if action is Action.ACCEPT:
        issue(session, account, [move.project_id for move in moves])
    elif action is Action.UNLOCK:
        accepted = [m.project_id for m in moves if m.source == ExecutionState.ACCEPTED.value]
        if accepted:
            _revoke_returned(session, account, accepted, reason)


def settings_of(session: Session, committee_ids: Iterable[int]) -> dict[int, CertificateSettings]:
    """Each committee's certificate settings (its defaults where it set none)."""
    ids = sorted(set(committee_ids))
    stored = {
        s.committee_id: s
        for s in session.scalars(
            select(CertificateSettings).where(CertificateSettings.committee_id.in_(ids))
        )
    }
    return {
        committee_id: stored.get(committee_id)
        or CertificateSettings(
            committee_id=committee_id,
            number_format=DEFAULT_NUMBER_FORMAT,
            title=DEFAULT_CERTIFICATE_TITLE,
        )
        for committee_id in ids
    }


def issue(session: Session, account, report_ids: list[int]) -> int:
    """Issue the certificates of the accepted reports ``report_ids``: one per
    roster row with credits > 0 and one per lecturer, numbered in roster order.
    How many were issued. Seven statements whatever the number of learners."""
    if not report_ids:
        return 0
    reports = session.execute(
        select(
            ExecutionReport.id,
            ExecutionReport.project_id,
            ExecutionReport.year,
            ExecutionReport.owner_unit_id,
            ExecutionReport.society_id,
            ExecutionReport.committee_id,
            ExecutionReport.name,
            ExecutionReport.start_date,
            ExecutionReport.end_date,
            ExecutionReport.credits,
            Project.project_no,
            Project.level,
            Project.organizer,
            Unit.name.label("committee_name"),
        )
        .join(Project, Project.id == ExecutionReport.project_id)
        .join(Unit, Unit.id == ExecutionReport.committee_id)
        .where(ExecutionReport.id.in_(sorted(report_ids)))
        .order_by(ExecutionReport.id)
    ).all()
    settings = settings_of(session, (r.committee_id for r in reports))
    holders = _holders(session, report_ids)
    serials = _serials(session, reports, holders)
    now, today = utcnow(), beijing_today()
    rows = []
    for report in reports:
        setting = settings[report.committee_id]
        for holder in holders[report.id]:
            serial = next(serials[(report.committee_id, report.year)])
            rows.append(
                {
                    "roster_entry_id": None,
                    "lecturer_id": None,
                    "id_number": None,
                    "topic": None,
                    "hours": None,
                    **holder,
                    "committee_id": report.committee_id,
                    "year": report.year,
                    "serial": serial,
                    "number": format_number(setting.number_format, report.year, serial),
                    "code": new_code(),
                    "status": CertificateStatus.VALID,
                    "report_id": report.id,
                    "project_id": report.project_id,
                    "owner_unit_id": report.owner_unit_id,
                    "society_id": report.society_id,
                    "project_name": report.name,
                    "project_no": report.project_no,
                    "level": ProjectLevel(report.level).value,
                    "category": CATEGORY_OF_LEVEL[ProjectLevel(report.level)],
                    "start_date": report.start_date,
                    "end_date": report.end_date,
                    "organiser": report.organizer,
                    "committee_name": report.committee_name,
                    "title": setting.title,
                    "issued_on": today,
                    "issued_at": now,
                }
            )
    if not rows:
        return 0
    # render_nulls: every row keeps its None values (an issuer's society, a lecturer's ID
    # number), so all rows share one column set and go in one executemany; without it the
    # ORM leaves out each row's None columns and splits the INSERT wherever they change.
    session.execute(insert(Certificate).execution_options(render_nulls=True), rows)
    _write_events(
        session,
        account,
        ISSUE,
        None,
        (Certificate.report_id.in_(sorted(report_ids)), Certificate.issued_at == now),
        now,
    )
    return len(rows)


def _holders(session: Session, report_ids: list[int]) -> dict[int, list[dict]]:
    """Each report's certificate holders, by report id: the roster's rows with credits
    (roster order), then the lecturers (their order on the report). Two statements."""
    holders: dict[int, list[dict]] = defaultdict(list)
    learners = session.execute(
        select(
            RosterEntry.report_id,
            RosterEntry.id,
            RosterEntry.name,
            RosterEntry.id_number,
            RosterEntry.workplace,
            RosterEntry.credits,
        )
        .where(RosterEntry.report_id.in_(sorted(report_ids)), RosterEntry.credits > 0)
        .order_by(RosterEntry.report_id, RosterEntry.id)
    )
    for row in learners:
        holders[row.report_id].append(
            {
                "kind": CertificateKind.CREDIT,
                "roster_entry_id": row.id,
                "name": row.name,
                "id_number": row.id_number,
                "workplace": row.workplace,
                "credits": row.credits,
            }
        )
    lecturers = session.execute(
        select(
            ExecutionLecturer.report_id,
            ExecutionLecturer.id,
            ExecutionLecturer.name,
            ExecutionLecturer.unit,
            ExecutionLecturer.topic,
            ExecutionLecturer.hours,
        )
        .where(ExecutionLecturer.report_id.in_(sorted(report_ids)))
        .order_by(ExecutionLecturer.report_id, ExecutionLecturer.position, ExecutionLecturer.id)
    )
    for row in lecturers:
        holders[row.report_id].append(
            {
                "kind": CertificateKind.TEACHING,
                "lecturer_id": row.id,
                "name": row.name,
                "workplace": row.unit,
                "topic": row.topic,
                "hours": row.hours,
                "credits": 0,
            }
        )
    return holders


def _serials(session: Session, reports, holders: dict) -> dict:
    """An iterator of the serials each (committee, year) issues now, as many as its
    reports' holders, advanced in one go (``counters.advance``)."""
    needed: dict[tuple[int, int], int] = defaultdict(int)
    for report in reports:
        needed[(report.committee_id, report.year)] += len(holders[report.id])
    return {
        key: iter(values)
        for key, values in counters.advance(
            session, CertificateCounter.__table__, {k: n for k, n in needed.items() if n}
        ).items()
    }


def _write_events(session, account, action, reason, where, now) -> None:
    """One history row per certificate matching ``where``, in one INSERT … SELECT."""
    chosen = select(
        Certificate.id,
        literal(action),
        literal(reason),
        literal(account.id if account is not None else None),
        literal(account.unit_id if account is not None else None),
        literal(now),
    ).where(*where)
    session.execute(
        insert(CertificateEvent).from_select(
            ["certificate_id", "action", "reason", "actor_id", "actor_unit_id", "created_at"],
            chosen,
        )
    )


def revoke(session: Session, account, where, cause: RevokeCause, reason: str | None) -> int:
    """Revoke every valid certificate matching ``where`` (a tuple of conditions)
    with ``cause`` and ``reason``; how many were revoked. Two statements."""
    now = utcnow()
    valid = (*where, Certificate.status == CertificateStatus.VALID)
    _write_events(session, account, REVOKE, reason, valid, now)
    result = session.execute(
        update(Certificate)
        .where(*valid)
        .values(
            status=CertificateStatus.REVOKED,
            revoked_at=now,
            revoke_cause=cause,
            revoke_reason=reason,
        )
        .execution_options(synchronize_session=False)
    )
    _expire(session)
    return result.rowcount


def _revoke_returned(session: Session, account, report_ids: list[int], reason) -> None:
    """Reports set back after acceptance: their certificates are revoked, as
    "withdrawn" for the reports whose project is no longer published."""
    unpublished = set(
        session.scalars(
            select(ExecutionReport.id)
            .join(Project, Project.id == ExecutionReport.project_id)
            .where(ExecutionReport.id.in_(report_ids), Project.state != ProjectState.PUBLISHED)
        )
    )
    for cause, ids in (
        (RevokeCause.WITHDRAWN, sorted(unpublished)),
        (RevokeCause.RETURNED, sorted(set(report_ids) - unpublished)),
    ):
        if ids:
            revoke(session, account, (Certificate.report_id.in_(ids),), cause, reason)


def revoke_removed(session: Session, account, report_id: int, entry_ids: list[int]) -> int:
    """Learners removed from a corrected roster: any certificate of theirs still
    valid is revoked (setting the report back revoked them already; this keeps
    it so whatever path removed them)."""
    if not entry_ids:
        return 0
    where = (Certificate.report_id == report_id, Certificate.roster_entry_id.in_(entry_ids))
    return revoke(session, account, where, RevokeCause.REMOVED, None)


def on_learners_removed(report, *, session: Session, account, entry_ids) -> None:
    """Receiver of ``hooks.learners_removed``."""
    revoke_removed(session, account, report.id, list(entry_ids))


def revoke_by_hand(session: Session, account, certificate: Certificate, reason: str) -> bool:
    """The committee revokes one certificate, with a reason; False when it was
    revoked already. (Who may is the caller's check: ``permissions``.)"""
    where = (Certificate.id == certificate.id,)
    return revoke(session, account, where, RevokeCause.BY_HAND, reason) == 1


def _expire(session: Session) -> None:
    """Loaded certificates must not show their old status."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Certificate):
            session.expire(obj)
