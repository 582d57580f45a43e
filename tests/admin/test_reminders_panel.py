"""催办 page (/admin/reminders/): the committee alone sets its reminders (each clock on or
off with its N, and M), a bad number is refused in Chinese next to its field and changes
nothing, every POST needs the CSRF token, and 立即催办 sends today's due reminders once."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from models import Message, MessageKind, ProjectState, Reminder, ReminderClock, ReminderSettings
from notifications import reminders
from tests.admin.conftest import csrf_from
from tests.admin.test_projects import flashes
from tests.factories import held, make_project
from tests.refusals import assert_expired, assert_refused_with

S = ProjectState
URL = "/admin/reminders/"


def settings_form(browser) -> tuple[str, dict]:
    """The page and its values, as a browser posts them back."""
    html = browser.get(URL).get_data(as_text=True)
    form = html[html.index('id="reminder-settings"') :]
    form = form[: form.index("</form>")]
    data = {"csrf_token": csrf_from(html)}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([\w-]+)"', tag)
        if not name or name.group(1) == "csrf_token":
            continue
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                data[name.group(1)] = "y"
        else:
            data[name.group(1)] = re.search(r'value="([^"]*)"', tag).group(1)
    return html, data


def test_the_committee_sets_its_reminders(login_as, browser, session, demo_accounts):
    login_as("bjcme")
    html, data = settings_form(browser)
    assert "催办" in html and "项目在总会等待" in html and "立即催办" in html
    assert data["waiting_society-days"] == "14" and data["waiting_society-on"] == "y"
    del data["execution_due-on"]
    data |= {"waiting_society-days": "10", "escalate_after_days": "5"}
    response = browser.client.post(URL, data=data)
    assert response.status_code == 302
    assert "催办设置已保存" in flashes(browser.get(response.headers["Location"]))
    stored = reminders.settings_for(session, demo_accounts["bjcme"].unit_id)
    assert stored.days(ReminderClock.WAITING_SOCIETY) == 10
    assert not stored.on(ReminderClock.EXECUTION_DUE) and stored.on(ReminderClock.WINDOW_CLOSING)
    assert stored.escalate_after_days == 5


def test_a_bad_number_is_refused_in_chinese_and_changes_nothing(login_as, browser, session):
    login_as("bjcme")
    _, data = settings_form(browser)
    data |= {"window_closing-days": "-1", "escalate_after_days": "", "execution_due-days": "x"}
    response = browser.client.post(URL, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "请输入0至365之间的整数" in html and "此项为必填项" in html
    assert session.scalar(select(func.count()).select_from(ReminderSettings)) == 0


def test_every_post_needs_the_csrf_token(login_as, browser, session):
    login_as("bjcme")
    _, data = settings_form(browser)
    del data["csrf_token"]
    assert_expired(browser.client.post(URL, data=data))
    assert_expired(browser.client.post(URL + "run", data={}))
    assert session.scalar(select(func.count()).select_from(ReminderSettings)) == 0
    assert session.scalar(select(func.count()).select_from(Reminder)) == 0


@pytest.mark.parametrize("username", ["bma", "bma_cardio", "pumch"])
def test_only_the_committee_reaches_the_page(login_as, username):
    browser = login_as(username)
    assert_refused_with(browser.get(URL), 403)
    assert browser.client.post(URL + "run", data={}).status_code in (400, 403)


def test_remind_now_sends_the_due_reminders_once(login_as, browser, session, demo_accounts):
    with time_machine.travel(datetime(2026, 9, 1, 2, tzinfo=UTC), tick=False) as clock:
        make_project(session, demo_accounts["bma_cardio"], S.AT_SOCIETY, year=2026)
        session.commit()
        clock.move_to(datetime(2026, 9, 20, 2, tzinfo=UTC))
        login_as("bjcme")
        token = browser.token(URL)
        first = browser.client.post(URL + "run", data={"csrf_token": token})
        assert first.status_code == 302
        page = browser.get(first.headers["Location"])
        said = flashes(page)
        second = browser.client.post(URL + "run", data={"csrf_token": token})
        again = flashes(browser.get(second.headers["Location"]))
    assert re.search(r"已催办：向待办单位发出 [1-9]\d* 条", said)
    assert "已催办：向待办单位发出 0 条，向其上级单位发出 0 条" in again
    society = demo_accounts["bma"].unit_id
    session.expire_all()
    sent = session.scalars(select(Reminder).where(Reminder.unit_id == society)).all()
    assert [(r.clock, r.escalation) for r in sent if r.clock is ReminderClock.WAITING_SOCIETY] == [
        (ReminderClock.WAITING_SOCIETY, False)
    ]
    html = page.get_data(as_text=True)
    assert "催办记录" in html and "北京医学会" in html
    bell = session.scalars(
        select(Message).where(Message.unit_id == society, Message.kind == MessageKind.REMINDER)
    ).all()
    assert len(bell) == len(sent)


def test_the_bell_lists_a_reminder_about_execution_reports(
    login_as, browser, session, demo_accounts
):
    from datetime import date

    with time_machine.travel(datetime(2026, 8, 20, 2, tzinfo=UTC), tick=False) as clock:
        course = held(date(2026, 9, 1), date(2026, 9, 2))
        make_project(session, demo_accounts["pumch"], S.PUBLISHED, **course)
        session.commit()
        clock.move_to(datetime(2026, 9, 20, 2, tzinfo=UTC))
        reminders.run(session)
        login_as("pumch")
        response = browser.get("/admin/messages/")
    assert response.status_code == 200
    assert "份执行情况已逾期，尚未上报" in response.get_data(as_text=True)
