"""E-mail: composed and queued in the transaction of the move (the outbox), sent
after the commit, never inside it, and never by a web request.

Flask-Mailman speaks SMTP with the settings from the environment (MAIL_SERVER,
MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD, MAIL_USE_TLS, MAIL_USE_SSL,
MAIL_DEFAULT_SENDER, MAIL_TIMEOUT). Without MAIL_SERVER nothing is queued or
sent (``make run`` needs no mail server).

Who sends, once a transaction that queued mail has committed (``on_commit``):

- with Redis (``JOBS_MODE`` "rq"): one ``deliver_outbox`` job is put on the job queue for
  ``python -m worker``; if Redis cannot take it, the mail waits for the next
  ``flask periodic``;
- without (``make run``): the process's ``Courier``, one thread that sends while the
  request's own thread answers;
- always: ``flask periodic`` (cron, every minute) and ``flask send-mail`` send whatever is
  queued.

A mail server that hangs therefore ties up a worker process or a thread, never a web
request. A mail that cannot be sent stays queued with its error, and the transition
that caused it stands; it is tried again by the next of these (the Courier after
MAIL_RETRY_SECONDS).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app, has_app_context, has_request_context
from flask_mailman import EmailMessage, Mail
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import utcnow
from models.message import MessageSubject, OutboxMail
from notifications.wording import (
    in_mail_language,
    reason_line,
    rows_heading,
    rows_in_all,
    sentence,
)

log = logging.getLogger(__name__)
mailer = Mail()

# Projects named in one mail; the rest are counted.
NAMED_PROJECTS = 20
QUEUED = "notifications.mail_queued"
BATCH = 200
# The job queue ``python -m worker`` reads (``jobs.QUEUE``; this layer sits below ``jobs``).
RQ_QUEUE = "cme"
COURIER = "notifications.courier"


def init_app(app: Flask) -> None:
    """The mailer and the sender thread; the ``MAIL_*`` settings are in ``settings``."""
    mailer.init_app(app)
    app.extensions[COURIER] = Courier(app)


def enabled(app: Flask | None = None) -> bool:
    return bool((app or current_app).config.get("MAIL_SERVER"))


# -- composing ---------------------------------------------------------------
def message_link(message_id: int) -> str:
    """The message's address (it opens the filtered list)."""
    return _site_link("messages.open_message", id=message_id)


def inbox_link() -> str:
    return _site_link("messages.index")


def _site_link(endpoint: str, **values) -> str:
    """SITE_URL followed by the path: never built from the request's ``Host``
    header, which a client chooses (a mail must not carry a link it forged)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config.get("SITE_URL", "").rstrip("/") + path


def _compose(row: dict, message_id: int) -> dict:
    from flask_babel import gettext

    about = MessageSubject.of_list(row["list_endpoint"])
    text = sentence(row["kind"], row["actor_name"], row["count"], about)
    lines = [text, ""]
    if row.get("reason"):
        lines += [reason_line(row["reason"]), ""]
    lines.append(rows_heading(about))
    names = [p["name"] for p in row["projects"]]
    lines += [f"- {name}" for name in names[:NAMED_PROJECTS]]
    if len(names) > NAMED_PROJECTS:
        lines.append(rows_in_all(about, len(names)))
    lines += ["", gettext("Open: %(link)s", link=message_link(message_id)), "", footer()]
    return {"subject": subject(text), "body": "\n".join(lines)}


def compose(row: dict, message_id: int) -> dict:
    """Subject and body (Chinese) of the mail about message ``row``."""
    return in_mail_language(_compose, row, message_id)


def subject(text: str) -> str:
    from flask_babel import gettext

    return gettext("[Beijing CME] %(text)s", text=text)


def footer() -> str:
    from flask_babel import gettext

    return gettext(
        "This mail was sent by the Beijing CME project filing and publishing system;"
        " do not reply. On the Messages page you can choose a daily digest or no e-mail."
    )


# -- sending after the commit, off the request ------------------------------------
def send_after_commit(session: Session) -> None:
    """Mark ``session``'s transaction as having queued mail: it is handed to a sender
    once the transaction commits (and not at all if it rolls back)."""
    session.info[QUEUED] = True


def on_commit(session: Session) -> None:
    if session.info.pop(QUEUED, False) and has_app_context():
        _hand_over(current_app._get_current_object())


def on_rollback(session: Session) -> None:
    session.info.pop(QUEUED, None)


def _hand_over(app: Flask) -> None:
    """Give the outbox to whatever sends it here; never send in this thread (a request's,
    or a command's that sends by itself). Outside a request without Redis (a command, a
    script) nothing is started: ``flask periodic`` sends it."""
    if app.config.get("JOBS_MODE") == "rq":
        _enqueue(app)
    elif has_request_context():
        app.extensions[COURIER].wake()


def _enqueue(app: Flask) -> None:
    """One ``deliver_outbox`` job on the worker's queue; Redis down: logged, and the mail
    waits in the outbox for ``flask periodic``."""
    from redis import Redis
    from redis.backoff import NoBackoff
    from redis.exceptions import RedisError
    from redis.retry import Retry
    from rq import Queue

    # The request waits for this: short timeouts, one retry at once (not redis-py's three).
    seconds = app.config["REDIS_TIMEOUT_MS"] / 1000
    try:
        connection = Redis.from_url(
            app.config["REDIS_URL"],
            socket_connect_timeout=seconds,
            socket_timeout=seconds,
            retry=Retry(NoBackoff(), 1),
        )
        Queue(RQ_QUEUE, connection=connection).enqueue(deliver_outbox, result_ttl=0)
    except RedisError as error:
        log.warning(
            "queued mail left for flask periodic: the job queue is unavailable (%s: %s)",
            type(error).__name__,
            error,
        )


def deliver_outbox() -> None:
    """The job ``python -m worker`` runs (in its application context): send the outbox."""
    from extensions import db

    sent, failed = send_all(db.session)
    log.info("outbox: %s sent, %s failed (left queued)", sent, failed)


class Courier:
    """Without Redis (``make run``): one thread of the process sends the outbox, woken after
    each commit that queued mail, while the request's thread answers. After a failure it
    tries again every MAIL_RETRY_SECONDS until the outbox is sent or a commit wakes it."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._wake.set()
        with self._lock:  # started on first use: after gunicorn forked its workers
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="mail", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        retry = None
        while True:
            self._wake.wait(timeout=retry)
            self._wake.clear()
            _, failed = deliver(self.app)
            retry = max(1, int(self.app.config["MAIL_RETRY_SECONDS"])) if failed else None


def deliver(app: Flask) -> tuple[int, int]:
    """Send the outbox in an application context of its own; a failure is logged and
    leaves the mail queued."""
    from extensions import db

    with app.app_context():
        try:
            return send_all(db.session)
        except Exception:
            log.exception("sending the queued mail failed")
            return 0, 1


def _connection():
    config = current_app.config
    return mailer.get_connection(
        host=config["MAIL_SERVER"],
        port=int(config["MAIL_PORT"]),
        username=config.get("MAIL_USERNAME"),
        password=config.get("MAIL_PASSWORD"),
        use_tls=bool(config.get("MAIL_USE_TLS")),
        use_ssl=bool(config.get("MAIL_USE_SSL")),
        timeout=config.get("MAIL_TIMEOUT"),
    )


def _failed(row: OutboxMail, error: BaseException) -> None:
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:500]
    log.warning(
        "mail %s to %s not sent (attempt %s): %s",
        row.id,
        row.recipient,
        row.attempts,
        row.last_error,
    )


def send_due(session: Session, limit: int = BATCH) -> tuple[int, int]:
    """Send queued mail, oldest first, over one SMTP connection; each sent one
    is marked sent, each failure counted with its error. Returns (sent, failed).

    PostgreSQL: the rows are locked (SKIP LOCKED) so that two senders never send
    the same mail; commits once at the end."""
    if not enabled():
        return 0, 0
    rows = list(
        session.scalars(
            select(OutboxMail)
            .where(OutboxMail.sent_at.is_(None))
            .order_by(OutboxMail.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not rows:
        session.commit()
        return 0, 0
    sent = failed = 0
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    connection = _connection()
    try:
        connection.open()
    except Exception as error:  # refused, unreachable, timed out, bad login
        for row in rows:
            _failed(row, error)
        failed = len(rows)
    else:
        for row in rows:
            message = EmailMessage(
                row.subject, row.body, sender, [row.recipient], connection=connection
            )
            try:
                message.send()
            except Exception as error:
                _failed(row, error)
                failed += 1
            else:
                row.sent_at = utcnow()
                row.attempts += 1
                sent += 1
        try:
            connection.close()
        except Exception:  # the mails are already accepted
            log.warning("closing the SMTP connection failed", exc_info=True)
    session.commit()
    return sent, failed


def send_all(session: Session) -> tuple[int, int]:
    """Send batches until the outbox is empty or a batch has a failure."""
    sent = failed = 0
    while True:
        batch_sent, batch_failed = send_due(session)
        sent, failed = sent + batch_sent, failed + batch_failed
        if batch_failed or batch_sent < BATCH:
            return sent, failed
