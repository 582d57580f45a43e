"""现场签到: on-site QR sign-in onto an execution report's roster (学员名单).

The owner unit opens the sign-in (``open_signin``): a new ``signin_nonce`` is drawn,
which voids every code shown before. The sign-in sheet shows a QR code of a signed,
time-limited token (``make_token``) naming the report, that nonce and the account that
shows it. A learner scans it and types a name, a document and a workplace; ``check`` says
whether that token may sign anyone in now (``Refused`` with why if not) and ``sign_in``
puts the learner on the roster as attended, with the report's credits.

A learner has no account: the roster row is written under the account that showed the
code (carried, signed, in the token), with the same rules as a row added in the panel
(``execution.clean_learner``, ``learner_errors``, one row per ID number), the report's
version moved and one history row (修改, reason 现场签到) as ``execution.add_learner``
writes (``execution.roster_write``, which also counts the report's roster figures
again). So the history says who put the code up, and the engine refuses the row as it
would refuse that account's own edit (the report reported meanwhile, the account gone).

Nothing here commits or reads Flask's request: the view passes the secret key and the
day, and commits once.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import (
    ExecutionReport,
    ExecutionState,
    RosterEntry,
    RosterSource,
    User,
)
from workflow import engine
from workflow.execution import can_edit, clean_learner, learner_errors, roster_write
from workflow.machines import EXECUTIONS
from workflow.transitions import Action

# The token's own salt: a token of another part of the app (a password reset, a
# CSRF token) signed with the same key never reads as a sign-in code.
SALT = "cme-execution-signin"
# A code is good for this long after the sheet showed it.
MAX_AGE = timedelta(hours=24)
# What a learner types on the phone (the rest of a roster row is the report's).
SIGNIN_FIELDS = ("name", "id_type", "id_number", "workplace", "title")

# The history's words for what happened (the reason of an 修改 row).
OPENED = _l("On-site sign-in opened")
CLOSED = _l("On-site sign-in closed")
SIGNED_IN = _l("Signed in on site")


def is_event_day(report: ExecutionReport, today: date) -> bool:
    return report.start_date <= today <= report.end_date


# -- the organiser's side -------------------------------------------------------------------
def open_signin(session: Session, account, report: ExecutionReport) -> None:
    """Open the sign-in with a fresh nonce (codes shown before no longer work).
    The owner unit only, while it may edit the report."""
    engine.ensure_allowed(report, Action.EDIT, account, EXECUTIONS)
    report.signin_open = True
    # Short (72 random bits): the token is signed, the nonce only tells codes apart,
    # and a shorter address makes a QR code that scans from further away.
    report.signin_nonce = secrets.token_urlsafe(9)
    engine.edit(session, account, report, str(OPENED), machine=EXECUTIONS)


def close_signin(session: Session, account, report: ExecutionReport) -> None:
    """Close the sign-in: every code refuses from now on."""
    engine.ensure_allowed(report, Action.EDIT, account, EXECUTIONS)
    if not report.signin_open:
        return
    report.signin_open = False
    engine.edit(session, account, report, str(CLOSED), machine=EXECUTIONS)


def signed_in_count(session: Session, report_id: int) -> int:
    """How many learners came onto the roster by signing in."""
    return session.scalar(
        select(func.count())
        .select_from(RosterEntry)
        .where(RosterEntry.report_id == report_id, RosterEntry.source == RosterSource.SIGNIN)
    )


# -- the code -------------------------------------------------------------------------------
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def make_token(secret_key: str, report: ExecutionReport, account) -> str:
    """The code of an open sign-in, shown by ``account`` (timed from now)."""
    return _serializer(secret_key).dumps([report.id, report.signin_nonce, account.id])


class Why(enum.StrEnum):
    """Why a code signs nobody in."""

    UNKNOWN = "unknown"  # not a code of ours (forged, mistyped), or its report is gone
    EXPIRED = "expired"  # older than MAX_AGE
    REPLACED = "replaced"  # the sign-in was opened again since: a newer code is up
    CLOSED = "closed"  # the organiser closed the sign-in
    LOCKED = "locked"  # the report was reported upwards: its roster no longer changes here
    NOT_TODAY = "not_today"  # outside the event's dates

    @property
    def status(self) -> int:
        """The page's HTTP status: 404 for what is no code of ours, 410 for a code
        that no longer works, 403 for a good code on the wrong day."""
        return {Why.UNKNOWN: 404, Why.NOT_TODAY: 403}.get(self, 410)


REFUSALS = {
    Why.UNKNOWN: (
        _l("This sign-in code is not valid"),
        _l("Scan the QR code at the event again, or ask the organiser for help."),
    ),
    Why.EXPIRED: (
        _l("This sign-in code has expired"),
        _l("Scan the QR code now shown at the event."),
    ),
    Why.REPLACED: (
        _l("This sign-in code has been replaced"),
        _l("The organiser has put up a new QR code: scan the one now shown at the event."),
    ),
    Why.CLOSED: (
        _l("Sign-in is closed"),
        _l("The organiser has closed the sign-in. Ask the organiser if you still need to sign in."),
    ),
    Why.LOCKED: (
        _l("Sign-in has ended"),
        _l("The project's roster has been reported and can no longer be signed onto."),
    ),
    Why.NOT_TODAY: (
        _l("Sign-in is not open today"),
        _l("Sign-in is open only on the event's dates: %(start)s to %(end)s."),
    ),
}


class Refused(Exception):
    """A code that signs nobody in now: ``why``, and the page's title and text."""

    def __init__(self, why: Why, report: ExecutionReport | None = None):
        super().__init__(why.value)
        self.why, self.report = why, report

    @property
    def status(self) -> int:
        return self.why.status

    @property
    def title(self):
        return REFUSALS[self.why][0]

    @property
    def text(self) -> str:
        text = REFUSALS[self.why][1]
        if self.why is Why.NOT_TODAY and self.report is not None:
            return str(text) % {
                "start": self.report.start_date.isoformat(),
                "end": self.report.end_date.isoformat(),
            }
        return str(text)


def read_token(secret_key: str, token: str, max_age: timedelta = MAX_AGE) -> tuple[int, str, int]:
    """(report id, nonce, account id) of a code of ours younger than ``max_age``."""
    try:
        report_id, nonce, account_id = _serializer(secret_key).loads(
            token, max_age=int(max_age.total_seconds())
        )
    except SignatureExpired as exc:
        raise Refused(Why.EXPIRED) from exc
    except (BadSignature, ValueError, TypeError) as exc:
        raise Refused(Why.UNKNOWN) from exc
    if not (isinstance(report_id, int) and isinstance(nonce, str) and isinstance(account_id, int)):
        raise Refused(Why.UNKNOWN)
    return report_id, nonce, account_id


@dataclass(frozen=True)
class Sheet:
    """An open sign-in a code leads to: the report and the account that showed the code."""

    report: ExecutionReport
    shown_by: User


def _held(session: Session, report_id: int) -> ExecutionReport | None:
    """The report, read fresh, its row held until the transaction ends: sign-ins to one
    report at the same moment (a hall scanning the code at nine) then take turns
    instead of failing on each other's version. PostgreSQL: ``SELECT … FOR UPDATE``.
    SQLite has one writer at a time, from its first write on: that first write is an
    UPDATE that changes nothing (not even ``updated_at``'s onupdate), before the read.
    Call it first in its transaction."""
    table = ExecutionReport.__table__
    if session.get_bind().dialect.name != "postgresql":
        session.execute(
            update(table)
            .where(table.c.id == report_id)
            .values(version=table.c.version, updated_at=table.c.updated_at)
        )
    return session.scalar(
        select(ExecutionReport)
        .where(ExecutionReport.id == report_id)
        .with_for_update(of=ExecutionReport)
        .execution_options(populate_existing=True)
    )


def check(
    session: Session,
    secret_key: str,
    token: str,
    today: date,
    max_age: timedelta = MAX_AGE,
    *,
    hold: bool = False,
) -> Sheet:
    """The sign-in ``token`` leads to, if it may sign a learner in on ``today``
    (Beijing); else ``Refused`` with why. ``hold``: before a sign-in, hold the
    report's row until the transaction ends (``_held``; first in the transaction)."""
    report_id, nonce, account_id = read_token(secret_key, token, max_age)
    report = _held(session, report_id) if hold else session.get(ExecutionReport, report_id)
    if report is None:
        raise Refused(Why.UNKNOWN)
    if report.signin_nonce != nonce:
        raise Refused(Why.REPLACED)
    if not ExecutionState(report.state).modifiable:
        raise Refused(Why.LOCKED)
    account = session.get(User, account_id)
    if not report.signin_open or account is None or not can_edit(account, report):
        raise Refused(Why.CLOSED)
    if not is_event_day(report, today):
        raise Refused(Why.NOT_TODAY, report)
    return Sheet(report, account)


# -- the learner's side ---------------------------------------------------------------------
@dataclass
class Outcome:
    """What a sign-in did: ``entry`` added, or ``already`` on the roster, or ``errors``."""

    entry: RosterEntry | None = None
    already: bool = False
    errors: dict | None = None


def is_on_roster(session: Session, report: ExecutionReport, id_number: str | None) -> bool:
    return id_number is not None and (
        session.scalar(
            select(RosterEntry.id)
            .where(RosterEntry.report_id == report.id, RosterEntry.id_number == id_number)
            .limit(1)
        )
        is not None
    )


def sign_in(session: Session, sheet: Sheet, values) -> Outcome:
    """Put the learner of ``values`` (``SIGNIN_FIELDS``) on the sheet's roster as
    attended, with the report's credits, by the rules of a row added in the panel."""
    report = sheet.report
    row = clean_learner(
        {name: values.get(name) for name in SIGNIN_FIELDS} | {"attended": True, "credits": None}
    )
    row["credits"] = report.credits
    if errors := learner_errors(report, row):
        return Outcome(errors=errors)
    if is_on_roster(session, report, row["id_number"]):
        return Outcome(already=True)
    entry = RosterEntry(report_id=report.id, source=RosterSource.SIGNIN, **row)
    # As every roster write: the version moves, one history row, the figures counted again.
    with roster_write(session, sheet.shown_by, report, str(SIGNED_IN)):
        session.add(entry)
    return Outcome(entry=entry)
