"""催办 by e-mail, through a real SMTP server on localhost (aiosmtpd): the unit's
accounts who take each message at once get a Chinese mail; those who chose the daily
digest find the reminder in it; with the SMTP server stopped the reminders are recorded,
their mail stays queued, a second run queues nothing more, and ``flask send-mail``
delivers it once the server is back."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from models import NotificationPreference, OutboxMail, ProjectState, Reminder
from models.message import EmailMode
from tests.factories import make_project, make_tree
from tests.smtp_server import SmtpServer

S = ProjectState
DUE = datetime(2027, 3, 16, 2, tzinfo=UTC)  # 10:00 in Beijing, 15 days after arrival


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_on(app, smtp):
    keys = ("MAIL_SERVER", "MAIL_PORT", "MAIL_RETRY_SECONDS", "SITE_URL")
    saved = {k: app.config.get(k) for k in keys}
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp.port,
        MAIL_RETRY_SECONDS=3600,
        SITE_URL="https://cme.example.org",
    )
    yield smtp
    app.config.update(saved)


@pytest.fixture
def waiting(session, mail_on):
    """Two projects at the society since 1 March 2027; the society's account has an
    address (given after the projects arrived: their own 上报 mail is not counted)."""
    tree = make_tree(session)
    with time_machine.travel(datetime(2027, 3, 1, 2, tzinfo=UTC), tick=False):
        names = [
            make_project(
                session, tree["branch"], S.AT_SOCIETY, year=2027, name=f"心电图学习班{n}"
            ).name
            for n in range(2)
        ]
        session.commit()
    tree["society"].email = "society@example.cn"
    session.commit()
    return tree, names


def queued(session) -> list[OutboxMail]:
    session.expire_all()
    return list(session.scalars(select(OutboxMail).where(OutboxMail.sent_at.is_(None))))


def test_the_unit_gets_a_chinese_mail_with_the_items_and_the_link(app, session, waiting, smtp):
    _, names = waiting
    with time_machine.travel(DUE, tick=False):
        result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "1 reminder(s)" in result.output and "sent 1, failed 0" in result.output
    (mail,) = smtp.inbox.to("society@example.cn")
    assert "催办：2 个项目在贵单位等待已超过 14 天" in mail["Subject"]
    body = mail.get_content()
    assert all(f"- {name}" in body for name in names)
    assert "https://cme.example.org/admin/messages/" in body
    assert queued(session) == []


def test_smtp_down_keeps_the_reminders_mail_queued(app, session, waiting, smtp):
    smtp.stop()
    runner = app.test_cli_runner()
    with time_machine.travel(DUE, tick=False):
        first = runner.invoke(args=["send-reminders"])
        again = runner.invoke(args=["send-reminders"])
    assert first.exit_code == 1 and "sent 0, failed 1" in first.output
    assert again.exit_code == 1 and "0 reminder(s)" in again.output
    (letter,) = queued(session)
    assert letter.recipient == "society@example.cn" and letter.attempts >= 1
    assert "催办" in letter.subject
    assert len(session.scalars(select(Reminder)).all()) == 1
    smtp.start()
    delivered = runner.invoke(args=["send-mail"])
    assert delivered.exit_code == 0 and "sent 1, failed 0" in delivered.output
    assert len(smtp.inbox.to("society@example.cn")) == 1
    assert queued(session) == []


def test_a_digest_reader_finds_the_reminder_in_the_digest(app, session, waiting, smtp):
    tree, _ = waiting
    session.add(NotificationPreference(user_id=tree["society"].id, email_mode=EmailMode.DIGEST))
    session.commit()
    runner = app.test_cli_runner()
    with time_machine.travel(DUE, tick=False) as clock:
        assert runner.invoke(args=["send-reminders"]).exit_code == 0
        assert smtp.inbox.mails == []
        clock.move_to(datetime(2027, 3, 16, 12, tzinfo=UTC))
        assert runner.invoke(args=["send-digest"]).exit_code == 0
    (digest,) = smtp.inbox.to("society@example.cn")
    assert "催办：2 个项目在贵单位等待已超过 14 天" in digest.get_content()
    assert session.scalar(select(Reminder.day)) == date(2027, 3, 16)
