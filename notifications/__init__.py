"""Notifications (消息提醒): messages in the panel and e-mail when projects or
execution reports (执行情况) move.

Layer: above ``workflow`` (it listens to the engine's ``hooks.moved`` and
``hooks.execution_moved`` signals; the engine never imports it) and ``permissions``
(whose scopes decide which rows a unit may be told about); the views and the app
import it.

- ``planning``: who is told about a bulk action (pure).
- ``store``: the messages and queued mails, written in the action's transaction.
- ``mail``: the outbox, sent after the commit by the job worker or a thread, never by a
  request; retries.
- ``digest``: the daily digest.
- ``inbox``: an account's messages, unread count, mark read, e-mail choice.
- ``reminders``: 催办, the reminders when work waits and their escalation
  (``flask send-reminders``).
"""

from __future__ import annotations

import click
from flask import Flask, current_app, has_app_context

from models.message import MessageSubject
from notifications import digest, inbox, mail, reminders, store


def on_moved(action, session, account, moves, reason=None, subject=MessageSubject.PROJECTS, **_):
    """One message per receiving unit of this bulk action, in its transaction.

    The engine also runs outside an app (a script, a worker thread with its own
    session): the messages are written all the same, with the default settings."""
    if not has_app_context() or current_app.config.get("NOTIFICATIONS_ENABLED", True):
        store.write(session, action, account, moves, reason, subject)


def on_execution_moved(action, session, account, moves, reason=None, **_):
    """The same for execution reports (``hooks.execution_moved``): the messages name
    执行情况 and open the 执行情况 lists."""
    on_moved(action, session, account, moves, reason, subject=MessageSubject.EXECUTIONS)


def init_app(app: Flask) -> None:
    """Mail settings, the sender thread (without Redis) and the two commands."""
    mail.init_app(app)
    app.cli.add_command(send_mail_command)
    app.cli.add_command(send_digest_command)
    app.cli.add_command(send_reminders_command)


NO_MAIL_SERVER = "MAIL_SERVER is not set: no mail is sent."


def send_queued(session, said: str = "") -> int:
    """Send the queued mail (retrying what failed before) and say how it went, after
    ``said``: the number of mails that failed (they stay queued for the next pass)."""
    sent, failed = mail.send_all(session)
    click.echo(f"{said}sent {sent}, failed {failed} (left queued)")
    return failed


@click.command("send-mail")
def send_mail_command():
    """Send the queued mail (retries what failed before)."""
    from extensions import db

    if not mail.enabled():
        click.echo(NO_MAIL_SERVER)
        return
    if send_queued(db.session):
        raise SystemExit(1)


@click.command("send-digest")
def send_digest_command():
    """Queue and send today's daily digests (once a day per account)."""
    from extensions import db

    if not mail.enabled():
        click.echo(NO_MAIL_SERVER)
        return
    queued = digest.queue_digests(db.session)
    if send_queued(db.session, f"digests {queued}; "):
        raise SystemExit(1)


@click.command("send-reminders")
def send_reminders_command():
    """Send today's reminders (催办) and escalations, once each: safe to run every
    minute, twice at once, or after an outage; then send the queued mail."""
    from extensions import db

    summary = reminders.run(db.session)
    click.echo(f"Reminders: {summary}")
    if mail.enabled() and send_queued(db.session):
        raise SystemExit(1)


__all__ = ["digest", "inbox", "init_app", "mail", "reminders", "store"]
