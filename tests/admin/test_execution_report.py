"""One execution report's pages (admin_views/execution_report.py) through the real
stack, on both databases: who sees it (the project's review chain only), how ID
numbers are shown (whole only to the owner while it is editable), the report's form,
the roster's add / edit / remove with each rule, the lock once accepted, the
filed-vs-held comparison and the page's workflow buttons."""

from __future__ import annotations

import re
from datetime import date

from flask_security import hash_password
from sqlalchemy import func, select

from demo import DEMO_PASSWORD
from models import ExecutionReport, ExecutionState, ProjectState, RosterEntry, rules
from tests.admin.conftest import csrf_from
from tests.factories import make_project, make_tree
from tests.refusals import assert_not_found
from tests.test_execution_workflow import id_number, learner
from workflow import Action, execution

E = ExecutionState
MASKED = re.compile(r"\d{3}\*{11}[\dX]{4}")


def published_report(session, owner) -> ExecutionReport:
    project = make_project(session, owner, ProjectState.PUBLISHED)
    report = execution.open_report(session, owner, project)
    session.commit()
    return report


def saved_venue(session, report) -> str:
    session.expire_all()
    return session.get(ExecutionReport, report.id).venue


def page_of(report) -> str:
    return f"/admin/execution/{report.id}/"


def text(response) -> str:
    return response.get_data(as_text=True)


def move(session, report, action, account, reason=None):
    execution.move(session, report, action, account, reason)
    session.commit()


def add(session, report, owner, **values) -> RosterEntry:
    entry, errors = execution.add_learner(session, owner, report, learner(**values))
    assert errors == {}, errors
    session.commit()
    return entry


def roster_count(session, report) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count()).select_from(RosterEntry).where(RosterEntry.report_id == report.id)
    )


# -- who sees it -----------------------------------------------------------------------
def test_the_page_is_seen_along_the_review_chain_only(
    demo_accounts, session, signed_in, another_browser
):
    other = make_tree(session, "ex_")
    for user in other.values():
        user.password = hash_password(DEMO_PASSWORD)
    cardio = demo_accounts["bma_cardio"]
    report = published_report(session, cardio)
    add(session, report, cardio)
    entry_id = session.scalar(select(RosterEntry.id).where(RosterEntry.report_id == report.id))
    urls = [
        page_of(report),
        f"/admin/execution/{report.id}/edit",
        f"/admin/execution/{report.id}/roster/add",
        f"/admin/execution/{report.id}/roster/{entry_id}/edit",
    ]
    owner = signed_in("bma_cardio")
    body = text(owner.get(page_of(report)))
    assert report.name in body and "未上报" in body
    # Not yet reported: its society and committee do not see it.
    for username in ("bma", "bjcme"):
        assert_not_found(signed_in(username).get(page_of(report)))
    move(session, report, Action.REPORT, cardio)
    for username in ("bma_cardio", "bma", "bjcme"):
        response = signed_in(username).get(page_of(report))
        assert response.status_code == 200, username
        assert "已上报总会" in text(response)
    outsiders = ["bma_peds", "bjtcm", "tcm_acu", "pumch"]
    outsiders += ["ex_committee", "ex_society", "ex_branch", "ex_issuer"]
    for username in outsiders:
        browser = signed_in(username)
        for url in urls:
            assert_not_found(browser.get(url))
        assert_not_found(
            browser.post(
                f"/admin/execution/{report.id}/action",
                {"action": "accept", "state": "at_society"},
                token_from="/admin/",
            )
        )
    # Signed out: the login page.
    response = another_browser().get(page_of(report))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_report_that_does_not_exist_is_not_found(demo_accounts, signed_in):
    assert_not_found(signed_in("bma_cardio").get("/admin/execution/999999/"))


# -- ID numbers ------------------------------------------------------------------------
def test_id_numbers_are_whole_only_to_the_owner_while_editable(demo_accounts, session, signed_in):
    cardio = demo_accounts["bma_cardio"]
    report = published_report(session, cardio)
    number = id_number()
    add(session, report, cardio, id_number=number, name="李四")
    masked = rules.mask_id_number(number)
    assert MASKED.fullmatch(masked)
    owner = signed_in("bma_cardio")
    body = text(owner.get(page_of(report)))
    assert number in body
    move(session, report, Action.REPORT, cardio)
    for username in ("bma_cardio", "bma", "bjcme"):
        body = text(signed_in(username).get(page_of(report)))
        assert "李四" in body and masked in body, username
        assert number not in body, username
    # Sent back: the owner holds it again and sees the whole number.
    move(session, report, Action.UNLOCK, demo_accounts["bma"], "请补充考勤")
    assert number in text(owner.get(page_of(report)))
    assert number not in text(signed_in("bma").get(page_of(report)))


# -- the report's form -----------------------------------------------------------------
def report_form(report, **overrides) -> dict:
    values = {
        "start_date": report.start_date.isoformat(),
        "end_date": report.end_date.isoformat(),
        "venue": report.venue,
        "mode": report.mode.value,
        "theory_hours": f"{report.theory_hours:g}",
        "practice_hours": f"{report.practice_hours:g}",
        "credits": f"{report.credits:g}",
        "learners": "80",
        "pass_rate": "95",
        "summary": "按计划举办。",
        "seen_version": str(report.version),
        "lecturers-0-name": "王教授",
        "lecturers-0-title": "主任医师",
        "lecturers-0-unit": "北京协和医院",
        "lecturers-0-topic": "总论",
        "lecturers-0-hours": "2",
        "lecturers-1-name": "赵医生",
        "lecturers-1-topic": "病例讨论",
        "lecturers-1-hours": "3",
        # A row added and left empty is dropped.
        "lecturers-2-name": "",
        "lecturers-2-topic": "",
    }
    return values | overrides


def post_edit(browser, report, data):
    url = f"/admin/execution/{report.id}/edit"
    data = dict(data, csrf_token=csrf_from(text(browser.get(url))))
    return browser.client.post(url, data=data)


def test_the_owner_saves_the_report_and_its_lecturers(session, signed_in, report):
    browser = signed_in("bma_cardio")
    form = text(browser.get(f"/admin/execution/{report.id}/edit"))
    assert report.venue in form and "lecturer-row-template" in form
    response = post_edit(browser, report, report_form(report, venue="北京市西城区会议中心"))
    assert response.status_code == 302, text(response)[:2000]
    session.expire_all()
    saved = session.get(ExecutionReport, report.id)
    assert saved.venue == "北京市西城区会议中心" and saved.learners == 80
    assert saved.pass_rate == 95 and saved.summary == "按计划举办。"
    assert [(lec.name, lec.hours) for lec in saved.lecturers] == [("王教授", 2), ("赵医生", 3)]
    page = text(browser.get(response.headers["Location"]))
    assert "已保存" in page and "北京市西城区会议中心" in page


def test_the_form_refuses_more_credits_than_published_and_saves_nothing(session, signed_in, report):
    browser = signed_in("bma_cardio")  # the report's project has 4 credits published
    response = post_edit(
        browser, report, report_form(report, credits="5", venue="不应保存", theory_hours="")
    )
    assert response.status_code == 200
    body = text(response)
    assert "授予学分为 0 至 4 分" in body
    assert "不应保存" in body  # what was typed is kept
    assert 'id="theory_hours-error"' in body
    assert saved_venue(session, report) != "不应保存"


def test_a_lecturer_without_a_topic_is_refused_next_to_its_field(session, signed_in, report):
    browser = signed_in("bma_cardio")
    response = post_edit(browser, report, report_form(report, **{"lecturers-1-topic": ""}))
    assert response.status_code == 200
    assert 'id="lecturers-1-topic-error"' in text(response)
    session.expire_all()
    assert [lec.name for lec in session.get(ExecutionReport, report.id).lecturers] == ["王教授"]


def test_a_stale_form_says_so_and_keeps_what_was_typed(demo_accounts, session, signed_in, report):
    cardio = demo_accounts["bma_cardio"]
    browser = signed_in("bma_cardio")
    data = report_form(report, venue="我刚输入的地点")
    add(session, report, cardio)  # the report changes meanwhile (its version moves)
    response = post_edit(browser, report, data)
    assert response.status_code == 200
    body = text(response)
    assert "已被他人修改" in body and "我刚输入的地点" in body
    assert saved_venue(session, report) != "我刚输入的地点"


def test_the_form_is_refused_once_the_report_is_reported(demo_accounts, session, signed_in, report):
    cardio = demo_accounts["bma_cardio"]
    browser = signed_in("bma_cardio")
    data = report_form(report, venue="上报后不能改")
    token = csrf_from(text(browser.get(f"/admin/execution/{report.id}/edit")))
    move(session, report, Action.REPORT, cardio)
    url = f"/admin/execution/{report.id}/edit"
    assert browser.get(url).status_code == 302
    response = browser.client.post(url, data=dict(data, csrf_token=token))
    assert response.status_code == 302
    assert url not in text(browser.get(page_of(report)))  # no 修改执行情况 tab
    assert saved_venue(session, report) != "上报后不能改"
    # A reviewer never gets the form.
    assert signed_in("bma").get(url).status_code == 302


# -- the roster ------------------------------------------------------------------------
def learner_form(**overrides) -> dict:
    return {
        "name": "王五",
        "id_type": "resident",
        "id_number": id_number(),
        "workplace": "北京朝阳医院",
        "title": "主治医师",
        "license_no": "",
        "phone": "",
        "attended": "y",
        "credits": "4",
    } | overrides


SEEN_VERSION = re.compile(
    r'name="seen_version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="seen_version"'
)


def post_learner(browser, url, data):
    """Post ``data`` with the token and the report's version of the form at ``url``."""
    page = text(browser.get(url))
    seen = SEEN_VERSION.search(page)
    data = dict(data, csrf_token=csrf_from(page), seen_version=next(v for v in seen.groups() if v))
    return browser.client.post(url, data=data)


def test_the_owner_adds_a_learner_and_each_rule_refuses_in_chinese(
    demo_accounts, session, signed_in, report
):
    browser = signed_in("bma_cardio")
    url = f"/admin/execution/{report.id}/roster/add"
    form = text(browser.get(url))
    for label in ("姓名", "证件类型", "证件号码", "工作单位", "职称", "执业证号", "手机", "出勤"):
        assert label in form, label
    number = id_number()
    response = post_learner(browser, url, learner_form(id_number=number))
    assert response.status_code == 302, text(response)[:2000]
    assert roster_count(session, report) == 1
    page = text(browser.get(page_of(report)))
    assert "王五" in page and number in page and "已加入学员名单" in page
    refusals = {
        "该证件号码已在学员名单中": learner_form(id_number=number),
        "校验码": learner_form(id_number=number[:17] + ("1" if number[17] != "1" else "2")),
        "授予学分为 0 至 4 分": learner_form(credits="4.5"),
        "以 0.5 分为单位": learner_form(credits="1.3"),
        "港澳台居民居住证号码以 81、82 或 83 开头": learner_form(id_type="permit"),
    }
    for message, data in refusals.items():
        response = post_learner(browser, url, data)
        assert response.status_code == 200, message
        body = text(response)
        assert message in body, message
        assert data["name"] in body  # nothing typed is lost
    response = post_learner(browser, url, learner_form(name="", workplace=""))
    assert 'id="name-error"' in text(response) and 'id="workplace-error"' in text(response)
    assert roster_count(session, report) == 1


def test_the_owner_edits_a_learner_and_another_reports_entry_is_not_found(
    demo_accounts, session, signed_in
):
    cardio = demo_accounts["bma_cardio"]
    report = published_report(session, cardio)
    other = published_report(session, cardio)
    entry = add(session, report, cardio, name="张三")
    foreign = add(session, other, cardio, name="外人")
    browser = signed_in("bma_cardio")
    url = f"/admin/execution/{report.id}/roster/{entry.id}/edit"
    form = text(browser.get(url))
    assert entry.id_number in form
    response = post_learner(
        browser, url, learner_form(name="张三丰", id_number=entry.id_number, credits="2")
    )
    assert response.status_code == 302, text(response)[:2000]
    session.expire_all()
    saved = session.get(RosterEntry, entry.id)
    assert (saved.name, saved.credits) == ("张三丰", 2)
    # Credits beyond the report's are refused.
    response = post_learner(browser, url, learner_form(id_number=entry.id_number, credits="9"))
    assert "授予学分为 0 至 4 分" in text(response)
    # The other report's learner through this report's address: not found.
    assert_not_found(browser.get(f"/admin/execution/{report.id}/roster/{foreign.id}/edit"))


def test_the_owner_removes_ticked_learners(demo_accounts, session, signed_in):
    cardio = demo_accounts["bma_cardio"]
    report = published_report(session, cardio)
    other = published_report(session, cardio)
    entries = [add(session, report, cardio, name=f"学员{i}") for i in range(3)]
    foreign = add(session, other, cardio)
    browser = signed_in("bma_cardio")
    url = f"/admin/execution/{report.id}/roster/remove"
    # Another report's learner among the ticked: not found, nothing removed.
    response = browser.post(url, {"entry": [entries[0].id, foreign.id]}, token_from=page_of(report))
    assert_not_found(response)
    assert roster_count(session, report) == 3 and roster_count(session, other) == 1
    response = browser.post(
        url, {"entry": [entries[0].id, entries[1].id]}, token_from=page_of(report)
    )
    assert response.status_code == 302
    assert roster_count(session, report) == 1
    assert "2 名学员已从学员名单中删除" in text(browser.get(response.headers["Location"]))


def test_the_roster_is_locked_once_accepted(demo_accounts, session, signed_in):
    pumch = demo_accounts["pumch"]
    report = published_report(session, pumch)
    entry = add(session, report, pumch, name="张三")
    move(session, report, Action.REPORT, pumch)
    move(session, report, Action.ACCEPT, demo_accounts["bjcme"])
    browser = signed_in("pumch")
    page = text(browser.get(page_of(report)))
    assert "已审核" in page and "/roster/add" not in page and "/edit" not in page
    assert entry.id_number not in page and rules.mask_id_number(entry.id_number) in page
    base = f"/admin/execution/{report.id}/roster"
    assert browser.get(f"{base}/add").status_code == 302
    response = browser.post(f"{base}/add", learner_form(), token_from=page_of(report))
    assert response.status_code == 302
    assert "设为可修改后才能" in text(browser.get(response.headers["Location"]))
    browser.post(f"{base}/{entry.id}/edit", learner_form(), token_from=page_of(report))
    browser.post(f"{base}/remove", {"entry": [entry.id]}, token_from=page_of(report))
    assert roster_count(session, report) == 1
    assert session.get(RosterEntry, entry.id).name == "张三"


def test_a_big_roster_is_paged_with_totals(demo_accounts, session, signed_in):
    pumch = demo_accounts["pumch"]
    report = published_report(session, pumch)
    for i in range(51):
        execution.add_learner(session, pumch, report, learner(name=f"学员{i:02d}"))
    session.commit()
    browser = signed_in("pumch")
    first = text(browser.get(page_of(report)))
    assert "学员00" in first and "学员49" in first and "学员50" not in first
    assert "共 51 人" in first
    second = text(browser.get(page_of(report) + "?page=2"))
    assert "学员50" in second and "学员00" not in second


# -- filed vs held ---------------------------------------------------------------------
def test_the_reviewer_sees_changed_dates_and_credits_flagged(demo_accounts, session, signed_in):
    pumch = demo_accounts["pumch"]
    report = published_report(session, pumch)
    values = {name: getattr(report, name) for name in execution.REPORT_FIELDS}
    values |= {"start_date": date(2026, 5, 2), "credits": 3, "venue": "线上直播间"}
    lecturers = [{"name": "王教授", "topic": "总论", "hours": 2}]
    assert execution.save_report(session, pumch, report, values, lecturers) == {}
    session.commit()
    move(session, report, Action.REPORT, pumch)
    body = text(signed_in("bjcme").get(page_of(report)))
    section = body[body.index('id="filed-vs-held"') :]
    section = section[: section.index("</section>")]
    assert "申报内容" in section and "实际执行" in section
    rows = dict(re.findall(r'data-field="(\w+)">\s*<th scope="row">(.*?)</th>', section, re.S))
    assert "注意" in rows["start_date"] and "注意" in rows["credits"]
    assert "注意" not in rows["venue"]  # changed, not flagged
    assert "2026-05-02" in section and "线上直播间" in section


# -- the page's buttons ----------------------------------------------------------------
def act(browser, report, action, state, reason=None):
    data = {"action": action, "state": state}
    if reason is not None:
        data["reason"] = reason
    response = browser.post(
        f"/admin/execution/{report.id}/action", data, token_from=page_of(report)
    )
    assert response.status_code == 302
    return text(browser.get(response.headers["Location"]))


def state_of(session, report) -> E:
    session.expire_all()
    return E(session.get(ExecutionReport, report.id).state)


def test_the_buttons_move_the_report_through_its_chain(demo_accounts, session, signed_in):
    cardio = demo_accounts["bma_cardio"]
    report = published_report(session, cardio)
    owner, society, committee = (signed_in(u) for u in ("bma_cardio", "bma", "bjcme"))
    page = text(owner.get(page_of(report)))
    assert 'value="report"' in page and 'value="accept"' not in page
    assert "已上报" in act(owner, report, "report", "draft")
    assert state_of(session, report) is E.AT_SOCIETY
    # 设为可修改 without a reason: refused, nothing moves.
    page = text(society.get(page_of(report)))
    assert 'name="reason"' in page and 'value="unlock"' in page
    assert "此操作必须填写原因" in act(society, report, "unlock", "at_society", "")
    assert state_of(session, report) is E.AT_SOCIETY
    act(society, report, "unlock", "at_society", "学员名单缺考勤")
    assert state_of(session, report) is E.RETURNED
    page = text(owner.get(page_of(report)))
    assert "学员名单缺考勤" in page and "退回修改" in page
    act(owner, report, "report", "returned")
    act(society, report, "report", "at_society")
    assert state_of(session, report) is E.AT_COMMITTEE
    # A button pressed on a page that is no longer current: compare-and-set refuses it.
    page = act(society, report, "report", "at_society")
    assert "已被他人修改" in page
    assert state_of(session, report) is E.AT_COMMITTEE
    act(committee, report, "accept", "at_committee")
    assert state_of(session, report) is E.ACCEPTED
    # Not the society's to accept, nor to send back once accepted.
    act(society, report, "unlock", "accepted", "再改")
    assert state_of(session, report) is E.ACCEPTED


def test_the_published_projects_page_links_to_its_report(app, demo_accounts, session, signed_in):
    pumch = demo_accounts["pumch"]
    project = make_project(session, pumch, ProjectState.PUBLISHED)
    session.commit()
    browser = signed_in("pumch")
    url = f"/admin/projects/details/?id={project.id}"
    if "executions.open_report" in app.view_functions:
        assert "填报执行情况" in text(browser.get(url))
    report = execution.open_report(session, pumch, project)
    session.commit()
    body = text(browser.get(url))
    assert "查看执行情况" in body and page_of(report) in body and "填报执行情况" not in body


# -- in Chinese --------------------------------------------------------------------------
def test_every_page_of_a_report_speaks_chinese_and_marks_required_fields(
    demo_accounts, session, signed_in
):
    from tests.admin.test_crawl_chinese import ALLOWED, data_words, english_words, read_page

    cardio = demo_accounts["bma_cardio"]
    report = published_report(session, cardio)
    values = {name: getattr(report, name) for name in execution.REPORT_FIELDS}
    values |= {"credits": 3, "learners": 2}
    execution.save_report(session, cardio, report, values, [{"name": "新讲者", "topic": "新题"}])
    entry = add(session, report, cardio)
    move(session, report, Action.REPORT, cardio)
    move(session, report, Action.UNLOCK, demo_accounts["bma"], "补充名单")
    add(session, report, cardio, name="后来者")
    execution.update_learner(session, cardio, report, entry, learner(name="改名", credits=1))
    session.commit()
    move(session, report, Action.REPORT, cardio)
    allowed = ALLOWED | data_words(session)
    required = {
        f"/admin/execution/{report.id}/edit": set(rules.EXECUTION_REQUIRED),
        f"/admin/execution/{report.id}/roster/add": set(rules.ROSTER_REQUIRED),
    }
    pages = [("bma", page_of(report)), ("bjcme", page_of(report)), ("bma", "/admin/execution/")]
    move(session, report, Action.UNLOCK, demo_accounts["bma"], "再补充")
    pages += [("bma_cardio", page_of(report)), *(("bma_cardio", url) for url in required)]
    pages.append(("bma_cardio", f"/admin/execution/{report.id}/roster/{entry.id}/edit"))
    for username, url in pages:
        response = signed_in(username).get(url)
        assert response.status_code == 200, (username, url)
        page = read_page(text(response))
        assert english_words(page.texts, allowed) == [], (username, url)
        wanted = required.get(url, set())
        for control in page.controls:
            name = re.sub(r"^lecturers-\w+-", "", control.name)
            must = name in wanted or (
                control.name.startswith("lecturers-") and name in ("name", "topic")
            )
            if must:
                assert "*" in page.labels.get(control.id, ""), (url, control.name)
    body = text(signed_in("bma").get(page_of(report)))
    assert "上次上报以来的学员名单变化" in body and "新增" in body and "后来者" in body
