"""Notification e-mail through a real SMTP server (aiosmtpd) on localhost: sent
after the commit with a Chinese subject and body, by the process's mail thread (no
Redis) or the job worker (Redis), never by the web request; an SMTP failure leaves the
transition committed and the mail queued, and ``flask periodic`` or ``flask send-mail``
delivers it; the daily digest sends one mail per account per day."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

import jobs
import workflow
from extensions import db
from models import (
    NotificationPreference,
    OutboxMail,
    Project,
    ProjectState,
    ReminderClock,
    User,
    utcnow,
)
from models.message import EmailMode
from notifications import digest, reminders
from notifications.mail import RQ_QUEUE
from tests.admin.conftest import own_context_browser
from tests.admin.test_projects import act
from tests.factories import make_project
from tests.hung_server import HungServer
from tests.smtp_server import free_port
from workflow import Action

S = ProjectState


@pytest.fixture(autouse=True)
def no_reminders(request):
    """These tests count the mail of moves and digests one by one; on the demo data the
    committee's 催办 (in ``flask periodic`` too) would add reminders' mail to them. The
    reminders' own mail is tested in tests/test_reminders_mail.py."""
    if "demo_accounts" not in request.fixturenames:
        return
    session = request.getfixturevalue("session")
    committee = request.getfixturevalue("demo_accounts")["bjcme"].unit_id
    off = {clock.value: {"on": False} for clock in ReminderClock}
    reminders.save_settings(session, committee, reminders.Settings.of(off, None))
    session.commit()


@pytest.fixture
def mail_to(app, smtp, monkeypatch):
    """Mail on, to the test's SMTP server; the mail thread does not retry by itself within
    a test (``flask periodic`` does). Restored afterwards."""
    mail = {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_RETRY_SECONDS": 3600,
        "SITE_URL": "https://cme.example.org",
    }
    for key, value in mail.items():
        monkeypatch.setitem(app.config, key, value)
    smtp.inbox.port = smtp.port
    smtp.inbox.server = smtp
    return smtp.inbox


def eventually(check, timeout: float = 15):
    """``check()``'s first true value, asked until ``timeout``: for what the mail thread
    does after the response."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def give_addresses(session, *usernames) -> dict[str, str]:
    addresses = {}
    for username in usernames:
        user = session.scalar(select(User).where(User.username == username))
        user.email = f"{username}@example.cn"
        addresses[username] = user.email
    session.commit()
    return addresses


def queued(session) -> list[OutboxMail]:
    session.expire_all()
    return list(session.scalars(select(OutboxMail).where(OutboxMail.sent_at.is_(None))))


def login(app, username):
    browser = own_context_browser(app)
    assert browser.login(username).status_code == 302
    return browser


def unlock_over_http(browser, ids, reason):
    return act(
        browser, "review", "unlock", ids, reason_confirmed="1", reason=reason, follow_redirects=True
    )


def test_a_report_is_mailed_after_the_commit_in_chinese(app, demo_accounts, session, mail_to):
    addresses = give_addresses(session, "bma", "bjcme", "bma_peds")
    cardio = demo_accounts["bma_cardio"]
    projects = [make_project(session, cardio, S.DRAFT) for _ in range(2)]
    session.commit()
    names = [p.name for p in projects]

    branch = login(app, "bma_cardio")
    response = branch.post(
        "/admin/projects/action/",
        {"action": "report", "rowid": [str(p.id) for p in projects]},
        token_from="/admin/projects/",
        follow_redirects=True,
    )
    assert response.status_code == 200

    (mail,) = eventually(lambda: mail_to.to(addresses["bma"]))
    assert mail["Subject"].strip() == "【北京CME】北京医学会心血管病学分会 上报了 2 个项目"
    body = mail.get_content()
    assert "北京医学会心血管病学分会 上报了 2 个项目" in body
    for name in names:
        assert name in body
    # The link comes from SITE_URL, never from the request's Host header.
    assert "查看：https://cme.example.org/admin/messages/" in body
    assert "请勿直接回复" in body
    # Nobody outside the receiving unit: not the committee, not another branch.
    assert mail_to.to(addresses["bjcme"]) == []
    assert mail_to.to(addresses["bma_peds"]) == []
    assert eventually(lambda: queued(session) == [])


def test_an_smtp_failure_keeps_the_transition_and_the_mail_for_a_retry(
    app, demo_accounts, session, mail_to
):
    addresses = give_addresses(session, "bma_cardio")
    cardio = demo_accounts["bma_cardio"]
    ids = [make_project(session, cardio, S.AT_SOCIETY).id for _ in range(2)]
    session.commit()
    app.config["MAIL_PORT"] = free_port()  # nothing listens there: refused

    society = login(app, "bma")
    response = unlock_over_http(society, ids, "请补充授课教师职称")
    assert response.status_code == 200
    # The mail thread tries, and fails.
    assert eventually(lambda: [r.attempts for r in queued(session)] == [1])

    session.expire_all()
    assert {session.get(Project, i).state for i in ids} == {S.RETURNED}
    (waiting,) = queued(session)
    assert waiting.recipient == addresses["bma_cardio"]
    assert "Connection refused" in waiting.last_error
    assert "请补充授课教师职称" in waiting.body
    assert mail_to.mails == []

    # The server is back: cron's `flask periodic` sends it.
    app.config["MAIL_PORT"] = mail_to.port
    result = app.test_cli_runner().invoke(args=["periodic"])
    assert result.exit_code == 0, result.output
    assert "Mail: sent 1, failed 0" in result.output
    (mail,) = mail_to.to(addresses["bma_cardio"])
    assert mail["Subject"].strip() == "【北京CME】北京医学会 退回修改了 2 个项目"
    assert "原因：请补充授课教师职称" in mail.get_content()
    assert queued(session) == []


def test_a_stopped_server_then_flask_send_mail(app, demo_accounts, session, mail_to):
    cardio, committee = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    ids = [make_project(session, cardio, S.PUBLISHED).id for _ in range(3)]
    session.commit()
    addresses = give_addresses(session, "bma_cardio", "bma")
    mail_to.server.stop()

    # No request here: the command line (or a script) moves, commits, and the
    # mail waits in the outbox for `flask send-mail`.
    workflow.apply_bulk(session, Action.WITHDRAW, committee, ids, "学分填写有误")
    session.commit()
    assert {r.recipient for r in queued(session)} == set(addresses.values())

    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 1, result.output
    assert "failed 2" in result.output
    assert {session.get(Project, i).state for i in ids} == {S.AT_COMMITTEE}
    assert len(queued(session)) == 2

    mail_to.server.start()
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output
    assert queued(session) == []
    for username in ("bma_cardio", "bma"):
        (mail,) = mail_to.to(addresses[username])
        assert mail["Subject"].strip() == "【北京CME】北京市继续医学教育委员会 撤销公布了 3 个项目"
        assert "原因：学分填写有误" in mail.get_content()


def test_accounts_that_turned_mail_off_or_chose_a_digest_get_none_at_once(
    app, demo_accounts, session, mail_to
):
    addresses = give_addresses(session, "bma_cardio", "bma")
    session.add(NotificationPreference(user_id=demo_accounts["bma"].id, email_mode=EmailMode.OFF))
    session.add(
        NotificationPreference(user_id=demo_accounts["bma_cardio"].id, email_mode=EmailMode.DIGEST)
    )
    session.commit()
    cardio = demo_accounts["bma_cardio"]
    report = [make_project(session, cardio, S.DRAFT).id for _ in range(2)]
    back = [make_project(session, cardio, S.AT_SOCIETY).id]
    session.commit()
    before = len(queued(session))

    workflow.apply_bulk(session, Action.REPORT, cardio, report)
    workflow.apply_bulk(session, Action.UNLOCK, demo_accounts["bma"], back, "请修改")
    session.commit()
    assert len(queued(session)) == before
    assert mail_to.mails == []
    assert addresses


def test_the_daily_digest_is_one_mail_per_account_per_day(app, demo_accounts, session, mail_to):
    addresses = give_addresses(session, "bma_cardio", "bma")
    for username in ("bma_cardio", "bma"):
        session.add(
            NotificationPreference(user_id=demo_accounts[username].id, email_mode=EmailMode.DIGEST)
        )
    session.commit()
    cardio, bma = demo_accounts["bma_cardio"], demo_accounts["bma"]
    first = [make_project(session, cardio, S.DRAFT).id for _ in range(2)]
    second = [make_project(session, cardio, S.AT_SOCIETY).id]
    session.commit()
    workflow.apply_bulk(session, Action.REPORT, cardio, first)
    session.commit()
    workflow.apply_bulk(session, Action.UNLOCK, bma, second, "请补充")
    session.commit()

    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-digest"])
    assert result.exit_code == 0, result.output
    (to_society,) = mail_to.to(addresses["bma"])
    assert to_society["Subject"].strip().startswith("【北京CME】每日消息汇总")
    assert "北京医学会心血管病学分会 上报了 2 个项目" in to_society.get_content()
    (to_branch,) = mail_to.to(addresses["bma_cardio"])
    branch_body = to_branch.get_content()
    assert "北京医学会 退回修改了 1 个项目" in branch_body
    assert "原因：请补充" in branch_body

    # The same day again: nothing more, even with a new message.
    workflow.apply_bulk(session, Action.REPORT, cardio, second)
    session.commit()
    result = runner.invoke(args=["send-digest"])
    assert result.exit_code == 0, result.output
    assert len(mail_to.mails) == 2

    # The next day: one more for the society, with only what is new.
    tomorrow = utcnow() + timedelta(days=1)
    assert digest.queue_digests(db.session, now=tomorrow) == 1
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    later = mail_to.to(addresses["bma"])
    assert len(later) == 2
    assert "上报了 1 个项目" in later[1].get_content()
    assert "上报了 2 个项目" not in later[1].get_content()


def test_without_mail_server_nothing_is_queued(app, demo_accounts, session):
    assert not app.config.get("MAIL_SERVER")
    give_addresses(session, "bma")
    cardio = demo_accounts["bma_cardio"]
    ids = [make_project(session, cardio, S.DRAFT).id for _ in range(2)]
    session.commit()
    workflow.apply_bulk(session, Action.REPORT, cardio, ids)
    session.commit()
    assert queued(session) == []
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0 and "MAIL_SERVER" in result.output


# -- issue 21, finding 9: no mail from a web request -------------------------------------------
def publish_over_http(app, ids):
    """The committee publishes ``ids``; the response is closed as a server closes it once
    sent (whatever waited for the close has run when this returns)."""
    committee = login(app, "bjcme")
    with committee.post(
        "/admin/audit/action/",
        {"action": "publish", "rowid": [str(i) for i in ids]},
        token_from="/admin/audit/",
    ) as response:
        assert response.status_code == 302, response.get_data(as_text=True)[:300]


@pytest.fixture
def to_publish(demo_accounts, session):
    """Two of 发放证书单位 pumch's projects waiting for the committee, and pumch's address."""
    addresses = give_addresses(session, "pumch")
    ids = [make_project(session, demo_accounts["pumch"], S.AT_COMMITTEE).id for _ in range(2)]
    session.commit()
    return ids, addresses["pumch"]


@pytest.fixture
def hung_smtp(app, mail_to, monkeypatch):
    """A mail server that accepts and never answers (MAIL_TIMEOUT 5 s)."""
    server = HungServer()
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5)
    yield server
    server.close()


def test_a_publish_never_waits_for_a_hanging_mail_server(
    app, session, mail_to, hung_smtp, to_publish, monkeypatch
):
    ids, address = to_publish
    publish_over_http(app, ids)
    # The response is here while the mail is still being tried: the mail thread has the
    # server's connection open, unanswered, and nothing is recorded on the mail yet.
    assert hung_smtp.wait_for_connection()
    assert hung_smtp.unanswered() == 1
    (waiting,) = queued(session)
    assert waiting.recipient == address and waiting.attempts == 0
    session.expire_all()
    assert {session.get(Project, i).state for i in ids} == {S.PUBLISHED}

    hung_smtp.close()  # the thread gives up; the mail stays queued with its error
    assert eventually(lambda: [r.attempts for r in queued(session)] == [1])
    monkeypatch.setitem(app.config, "MAIL_PORT", mail_to.port)
    result = app.test_cli_runner().invoke(args=["periodic"])
    assert result.exit_code == 0, result.output
    (sent,) = mail_to.to(address)
    assert "审核通过并公布了 2 个项目" in sent["Subject"]
    assert queued(session) == []


def test_with_redis_the_job_worker_sends_and_the_web_process_never_does(
    app, session, mail_to, hung_smtp, to_publish, redis_server, monkeypatch
):
    monkeypatch.setitem(app.config, "JOBS_MODE", "rq")
    monkeypatch.setitem(app.config, "REDIS_URL", redis_server.url)
    ids, address = to_publish
    publish_over_http(app, ids)
    connection = Redis.from_url(redis_server.url)
    queue = Queue(RQ_QUEUE, connection=connection)
    assert [job.func_name for job in queue.jobs] == ["notifications.mail.deliver_outbox"]
    assert hung_smtp.accepted == 0  # nobody in the web process spoke to the mail server
    assert len(queued(session)) == 1

    monkeypatch.setitem(app.config, "MAIL_PORT", mail_to.port)
    SimpleWorker([queue], connection=connection).work(burst=True)  # python -m worker
    (sent,) = mail_to.to(address)
    assert "审核通过并公布了 2 个项目" in sent["Subject"]
    assert queued(session) == []
    assert hung_smtp.accepted == 0


def test_with_redis_down_the_mail_waits_for_flask_periodic(
    app, session, mail_to, to_publish, monkeypatch, caplog
):
    monkeypatch.setitem(app.config, "JOBS_MODE", "rq")
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    ids, address = to_publish
    with caplog.at_level(logging.WARNING, logger="notifications.mail"):
        publish_over_http(app, ids)
    assert any("flask periodic" in r.getMessage() for r in caplog.records)
    session.expire_all()
    assert {session.get(Project, i).state for i in ids} == {S.PUBLISHED}
    (waiting,) = queued(session)
    assert waiting.attempts == 0 and mail_to.mails == []

    result = app.test_cli_runner().invoke(args=["periodic"])
    assert result.exit_code == 0, result.output
    assert "Mail: sent 1, failed 0" in result.output
    (sent,) = mail_to.to(address)
    assert "审核通过并公布了 2 个项目" in sent["Subject"]
    assert queued(session) == []


def test_flask_periodic_fails_while_mail_stays_unsent(
    app, demo_accounts, session, mail_to, to_publish
):
    ids, _ = to_publish
    workflow.apply_bulk(session, Action.PUBLISH, demo_accounts["bjcme"], ids)
    session.commit()
    app.config["MAIL_PORT"] = free_port()
    result = app.test_cli_runner().invoke(args=["periodic"])
    assert result.exit_code == 1
    assert "Mail: sent 0, failed 1" in result.output and "periodic_mail" in result.output
    assert len(queued(session)) == 1


def test_the_queue_is_the_one_the_worker_reads():
    assert RQ_QUEUE == jobs.QUEUE
