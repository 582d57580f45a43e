"""现场签到, the learner's side (public/signin.py): a good code on an event day puts the
learner on the roster as attended with the report's credits, once per ID number; every
other code (forged, expired, replaced, closed, the report reported, another day) is
refused with a Chinese page and adds nothing; no roster data on any of these pages."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from models import ExecutionEvent, ExecutionReport, ProjectState, RosterEntry, RosterSource, rules
from models.base import beijing_today
from tests.admin.conftest import own_context_browser
from tests.factories import make_project
from tests.refusals import assert_expired
from workflow import Action, execution, signin

SECRET = "test-secret"  # tests/conftest.py's app_config


def id_number(serial: int, birth: str = "19850312") -> str:
    first17 = f"110105{birth}{serial:03d}"
    return first17 + rules.id_check_character(first17)


def learner(serial: int = 1, **overrides) -> dict:
    return {
        "name": "王小明",
        "id_type": "resident",
        "id_number": id_number(serial),
        "workplace": "北京协和医院",
        "title": "主治医师",
    } | overrides


class Sheet:
    def __init__(self, session, owner):
        project = make_project(session, owner, ProjectState.PUBLISHED)
        self.report = execution.open_report(session, owner, project)
        today = beijing_today()
        self.report.start_date = today - timedelta(days=1)
        self.report.end_date = today + timedelta(days=1)
        signin.open_signin(session, owner, self.report)
        session.commit()
        self.session, self.owner = session, owner
        self.token = signin.make_token(SECRET, self.report, owner)

    @property
    def url(self) -> str:
        return f"/signin/{self.token}"

    def rows(self) -> list[RosterEntry]:
        self.session.expire_all()
        return list(
            self.session.scalars(select(RosterEntry).where(RosterEntry.report_id == self.report.id))
        )


@pytest.fixture
def sheet(session, demo_accounts) -> Sheet:
    return Sheet(session, demo_accounts["bma_cardio"])


@pytest.fixture
def phone(app, demo_accounts):
    """A learner's phone: no login, its own cookies."""
    return own_context_browser(app)


def sign_in(phone, url: str, data: dict, token_from: str | None = None):
    return phone.post(url, data, token_from=token_from or url)


def test_a_learner_signs_in_from_the_form(sheet, phone, session):
    page = phone.get(sheet.url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="viewport" content="width=device-width' in html
    for label in ("姓名", "证件类型", "证件号码", "工作单位", "职称", "居民身份证", "护照"):
        assert label in html
    assert sheet.report.name in html
    assert page.headers["Cache-Control"] == "no-store"
    version = sheet.report.version

    response = sign_in(phone, sheet.url, learner())
    assert response.status_code == 200
    done = response.get_data(as_text=True)
    assert "签到成功" in done and "王小明" in done and sheet.report.name in done
    # Nothing else: not the ID number, not the workplace.
    assert learner()["id_number"] not in done and "北京协和医院" not in done

    [row] = sheet.rows()
    assert (row.name, row.id_number, row.workplace, row.title) == (
        "王小明",
        learner()["id_number"],
        "北京协和医院",
        "主治医师",
    )
    assert row.attended and row.credits == sheet.report.credits
    assert row.source == RosterSource.SIGNIN
    report = session.get(ExecutionReport, sheet.report.id)
    assert report.version > version
    last = session.scalars(
        select(ExecutionEvent)
        .where(ExecutionEvent.report_id == report.id)
        .order_by(ExecutionEvent.id.desc())
    ).first()
    # Written under the account that put the code up, with what happened as the reason.
    assert (last.action, last.actor_id, last.reason) == ("edit", sheet.owner.id, "学员现场签到")
    assert signin.signed_in_count(session, report.id) == 1


def test_the_same_id_twice_is_one_row_and_the_same_answer(sheet, phone):
    """Signed in twice is still signed in: the second answer is the first's, so the
    page tells nobody whether an ID number was on the roster already."""
    first = sign_in(phone, sheet.url, learner()).get_data(as_text=True)
    assert "签到成功" in first
    # Typed again on another phone, in lower case and with a space: one row.
    number = learner()["id_number"].lower()
    typed = learner(id_number=f"{number[:6]} {number[6:]}")
    again = sign_in(own_context_browser(phone.client.application), sheet.url, typed)
    assert again.status_code == 200
    assert again.get_data(as_text=True) == first
    assert len(sheet.rows()) == 1


def test_a_wrong_id_number_is_a_field_error_in_chinese(sheet, phone):
    number = learner()["id_number"]
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    response = sign_in(phone, sheet.url, learner(id_number=wrong))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "校验码" in html and "is-invalid" in html and "请更正" in html
    # What the learner typed is kept.
    assert wrong in html and "王小明" in html
    missing = sign_in(phone, sheet.url, learner(name="", workplace=""))
    assert missing.get_data(as_text=True).count("invalid-feedback") >= 2
    assert sheet.rows() == []


def test_a_passport_signs_in_too(sheet, phone):
    response = sign_in(phone, sheet.url, learner(id_type="passport", id_number="E12345678"))
    assert "签到成功" in response.get_data(as_text=True)
    [row] = sheet.rows()
    assert row.id_type.value == "passport"


def _refused(phone, url: str, status: int, words: str):
    """GET and POST (with a good CSRF token: the login page's, a refusal has no form)."""
    page = phone.get(url)
    assert page.status_code == status, page.status_code
    assert words in page.get_data(as_text=True)
    assert "<form" not in page.get_data(as_text=True)
    posted = sign_in(phone, url, learner(7), token_from="/login")
    assert posted.status_code == status, posted.status_code
    assert words in posted.get_data(as_text=True)


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "not-a-token",
        lambda token: URLSafeTimedSerializer(SECRET, salt="another").dumps([1, "x", 1]),
        lambda token: URLSafeTimedSerializer("other-key", salt=signin.SALT).dumps([1, "x", 1]),
    ],
    ids=["tampered", "garbage", "other-salt", "other-key"],
)
def test_a_forged_code_is_not_found(sheet, phone, forge):
    _refused(phone, f"/signin/{forge(sheet.token)}", 404, "签到二维码无效")
    assert sheet.rows() == []


def test_a_code_of_a_report_that_is_gone_is_not_found(sheet, phone):
    token = signin._serializer(SECRET).dumps([999999, sheet.report.signin_nonce, sheet.owner.id])
    _refused(phone, f"/signin/{token}", 404, "签到二维码无效")


class PastSerializer(URLSafeTimedSerializer):
    """Signs as if it were ``hours`` ago."""

    hours = 25

    def make_signer(self, salt=None):
        signer = super().make_signer(salt)
        signer.get_timestamp = lambda: int(time.time()) - self.hours * 3600
        return signer


def test_an_expired_code_is_refused(sheet, phone):
    payload = [sheet.report.id, sheet.report.signin_nonce, sheet.owner.id]
    old = PastSerializer(SECRET, salt=signin.SALT).dumps(payload)
    _refused(phone, f"/signin/{old}", 410, "签到二维码已过期")
    assert sheet.rows() == []
    # The domain's own bound, with a shorter age.
    with pytest.raises(signin.Refused) as refused:
        signin.read_token(SECRET, sheet.token, max_age=timedelta(seconds=-1))
    assert refused.value.why is signin.Why.EXPIRED


def test_a_closed_signin_is_refused(sheet, phone, session):
    signin.close_signin(session, sheet.owner, sheet.report)
    session.commit()
    _refused(phone, sheet.url, 410, "签到已关闭")
    assert sheet.rows() == []


def test_a_code_replaced_by_a_new_one_is_refused(sheet, phone, session):
    signin.open_signin(session, sheet.owner, sheet.report)
    session.commit()
    new = f"/signin/{signin.make_token(SECRET, sheet.report, sheet.owner)}"
    _refused(phone, sheet.url, 410, "签到二维码已更换")
    assert "签到成功" in sign_in(phone, new, learner()).get_data(as_text=True)
    assert len(sheet.rows()) == 1


@pytest.mark.parametrize("days", [-3, 2])
def test_a_day_outside_the_event_is_refused(sheet, phone, session, days):
    today = beijing_today()
    report = session.get(ExecutionReport, sheet.report.id)
    report.start_date = report.end_date = today + timedelta(days=days)
    session.commit()
    shown = report.start_date.isoformat()
    _refused(phone, sheet.url, 403, "今天不开放签到")
    assert shown in phone.get(sheet.url).get_data(as_text=True)
    assert sheet.rows() == []


def test_a_reported_roster_takes_no_signin(sheet, phone, session):
    execution.move(session, sheet.report, Action.REPORT, sheet.owner)
    session.commit()
    _refused(phone, sheet.url, 410, "签到已结束")
    assert sheet.rows() == []


def test_a_post_needs_the_csrf_token(sheet, phone):
    phone.get(sheet.url)
    assert_expired(phone.client.post(sheet.url, data=learner()))
    assert_expired(phone.client.post(sheet.url, data=learner() | {"csrf_token": "forged"}))
    assert sheet.rows() == []


def test_the_posts_are_rate_limited_per_address(sheet, phone, app, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNIN_RATE_LIMIT", "2 per minute")
    for serial in (11, 12):
        assert sign_in(phone, sheet.url, learner(serial)).status_code == 200
    response = sign_in(phone, sheet.url, learner(13))
    assert response.status_code == 429
    assert "请求过于频繁" in response.get_data(as_text=True)
    assert len(sheet.rows()) == 2


def test_no_roster_data_on_the_public_pages(sheet, phone, session):
    sign_in(phone, sheet.url, learner(21, name="李四", workplace="北京医院"))
    other = own_context_browser(phone.client.application)
    pages = [other.get(sheet.url), sign_in(other, sheet.url, learner(22, name="赵五"))]
    pages.append(sign_in(other, sheet.url, learner(21, name="李四")))  # already signed in
    for page in pages:
        html = page.get_data(as_text=True)
        assert "北京医院" not in html and id_number(21) not in html
    assert "李四" not in pages[0].get_data(as_text=True)
    assert "李四" not in pages[1].get_data(as_text=True)
    count = select(func.count()).where(RosterEntry.report_id == sheet.report.id)
    assert session.scalar(count) == 2


def test_a_hall_signing_in_at_once_all_get_on(sheet, app):
    """Eight phones post at the same moment: each learner is on the roster once, none is
    refused for the others' changes of the report."""
    phones = [own_context_browser(app) for _ in range(8)]
    tokens = [phone.token(sheet.url) for phone in phones]
    start = threading.Barrier(len(phones))
    answers: list = [None] * len(phones)

    def post(index: int) -> None:
        data = learner(40 + index, name=f"学员{index}") | {"csrf_token": tokens[index]}
        start.wait()
        answers[index] = phones[index].client.post(sheet.url, data=data)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(phones))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [a.status_code for a in answers] == [200] * len(phones)
    assert all("签到成功" in a.get_data(as_text=True) for a in answers)
    assert sorted(row.name for row in sheet.rows()) == sorted(f"学员{i}" for i in range(8))
