"""已举办 on the public catalog: a published project whose execution report the committee
accepted shows that it was held (the dates it was held, the number of learners) on its
page and in the API (``held``, as the OpenAPI document says); a report not accepted shows
nothing; nothing else of a report and nothing of its roster (names, ID numbers, masked or
not, workplaces) is ever public; an accept or its undoing shows at once (the catalog's
version moves, Last-Modified follows)."""

from __future__ import annotations

from datetime import date
from email.utils import parsedate_to_datetime

from public_catalog import add_project
from sqlalchemy import select
from test_api_openapi import check

from models import ExecutionEvent, ExecutionReport, ProjectState, Setting, rules, utcnow
from public import catalog as public_catalog
from tests.test_execution_workflow import learner
from workflow import Action, execution

YEAR = 2024
FILED = {"start_date": date(YEAR, 6, 3), "end_date": date(YEAR, 6, 5)}
HELD = (date(YEAR, 6, 4), date(YEAR, 6, 6))
SUMMARY = "内部总结：只给审核人看的文字"
WORKPLACE = "学员所在的某某社区卫生服务中心"
NAMES = ("欧阳学员甲", "司马学员乙", "诸葛学员丙")


def _report(session, accounts, name: str, *, learners: int = 0, accept: bool = True):
    """A published project of pumch (an issuer) with a report held a day later than
    filed, a summary, 3 learners (2 attended) and ``learners`` as the report's number;
    reported to the committee, and accepted when ``accept``."""
    pumch = accounts["pumch"]
    project = add_project(
        session, accounts, "pumch", ProjectState.PUBLISHED, name=name, year=YEAR, **FILED
    )
    report = execution.open_report(session, pumch, project)
    values = {name: getattr(report, name) for name in execution.REPORT_FIELDS}
    values |= {"start_date": HELD[0], "end_date": HELD[1], "summary": SUMMARY}
    values |= {"learners": learners}
    assert execution.save_report(session, pumch, report, values) == {}
    numbers = []
    for index, person in enumerate(NAMES):
        row = learner(name=person, workplace=WORKPLACE, attended=index < 2)
        numbers.append(row["id_number"])
        assert execution.add_learner(session, pumch, report, row)[1] == {}
    execution.move(session, report, Action.REPORT, pumch)
    if accept:
        execution.move(session, report, Action.ACCEPT, accounts["bjcme"])
    session.commit()
    return project, report, numbers


def _private(text: str, numbers: list[str]) -> list[str]:
    """What of a report or its roster appears in ``text`` (should be nothing)."""
    found = [part for part in (SUMMARY, WORKPLACE, *NAMES) if part in text]
    for number in numbers:
        # Whole, masked, or its last four shown after a mask ("*2345"; four digits
        # alone also occur in dates and counts).
        shown = (number, rules.mask_id_number(number), "*" + number[-4:])
        found += [n for n in shown if n in text]
    return found


def _version(session) -> str | None:
    return session.scalar(select(Setting.value).where(Setting.name == public_catalog.VERSION))


def _last_modified(response):
    return parsedate_to_datetime(response.headers["Last-Modified"]).replace(tzinfo=None)


def _moved_at(session, report_id: int, action: Action):
    return session.scalar(
        select(ExecutionEvent.created_at)
        .where(ExecutionEvent.report_id == report_id, ExecutionEvent.action == action.value)
        .order_by(ExecutionEvent.id.desc())
        .limit(1)
    ).replace(microsecond=0)


def test_an_accepted_report_shows_held_with_dates_and_learners(client, catalog, session):
    project, _, numbers = _report(session, catalog.accounts, "举办测试项目")
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert 'id="held"' in html and "已举办" in html
    assert "实际举办日期" in html and "2024-06-04" in html and "2024-06-06" in html
    # The report gives no number: the roster's attended rows (2 of 3).
    assert "学员人数" in html
    assert '<dd class="col-sm-9 col-lg-10 mb-0">2</dd>' in html
    assert _private(html, numbers) == []

    body = client.get(f"/api/v1/projects/{project.id}")
    assert body.get_json()["held"] == {
        "start_date": "2024-06-04",
        "end_date": "2024-06-06",
        "learners": 2,
    }
    assert _private(body.get_data(as_text=True), numbers) == []


def test_the_reports_own_number_of_learners_comes_first(client, catalog, session):
    project, *_ = _report(session, catalog.accounts, "学员人数测试项目", learners=120)
    assert client.get(f"/api/v1/projects/{project.id}").get_json()["held"]["learners"] == 120
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert '<dd class="col-sm-9 col-lg-10 mb-0">120</dd>' in html


def test_a_report_not_accepted_shows_nothing(client, catalog, session):
    project, _, numbers = _report(session, catalog.accounts, "未审核测试项目", accept=False)
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert 'id="held"' not in html and "已举办" not in html and "实际举办日期" not in html
    assert _private(html, numbers) == []
    body = client.get(f"/api/v1/projects/{project.id}")
    assert body.get_json()["held"] is None
    assert _private(body.get_data(as_text=True), numbers) == []
    # A published project without any report: held is null too.
    other = add_project(session, catalog.accounts, "pumch", ProjectState.PUBLISHED, name="无报告")
    session.commit()
    assert client.get(f"/api/v1/projects/{other.id}").get_json()["held"] is None


def test_the_api_list_and_detail_match_the_documented_held(client, catalog, session):
    project, _, numbers = _report(session, catalog.accounts, "文档测试项目")
    document = client.get("/api/v1/openapi.json").get_json()
    held = document["components"]["schemas"]["Held"]
    assert set(held["required"]) == {"start_date", "end_date", "learners"}
    listing = client.get("/api/v1/projects", query_string={"year": str(YEAR), "per_page": 100})
    check(document, "/projects", 200, listing)
    items = {item["id"]: item for item in listing.get_json()["items"]}
    assert items[project.id]["held"]["learners"] == 2
    assert all(item["held"] is None for key, item in items.items() if key != project.id)
    assert _private(listing.get_data(as_text=True), numbers) == []
    check(document, "/projects/{project_id}", 200, client.get(f"/api/v1/projects/{project.id}"))
    # The changes feed's items carry it too.
    feed = client.get("/api/v1/projects", query_string={"updated_since": "2000-01-01T00:00:00Z"})
    check(document, "/projects", 200, feed)


def test_an_accept_and_its_undoing_show_at_once(client, catalog, session):
    project, report, _ = _report(session, catalog.accounts, "缓存举办测试", accept=False)
    client.get("/api/v1/projects")  # the catalog's Last-Modified is cached
    before = _version(session)
    execution.move(session, report, Action.ACCEPT, catalog.accounts["bjcme"])
    session.commit()
    assert _version(session) != before
    accepted = _moved_at(session, report.id, Action.ACCEPT)
    assert _last_modified(client.get("/api/v1/projects")) == accepted
    page = client.get(f"/projects/{project.id}")
    assert "已举办" in page.get_data(as_text=True) and _last_modified(page) == accepted
    assert _last_modified(client.get(f"/api/v1/projects/{project.id}")) == accepted

    # 设为可修改 by the committee: held goes at once, and Last-Modified moves again.
    before = _version(session)
    report = session.get(ExecutionReport, report.id)
    execution.move(session, report, Action.UNLOCK, catalog.accounts["bjcme"], "更正学员名单")
    session.commit()
    assert _version(session) != before
    unlocked = _moved_at(session, report.id, Action.UNLOCK)
    page = client.get(f"/projects/{project.id}")
    assert "已举办" not in page.get_data(as_text=True) and _last_modified(page) == unlocked
    assert client.get(f"/api/v1/projects/{project.id}").get_json()["held"] is None
    assert _last_modified(client.get("/api/v1/projects")) == unlocked


def test_a_report_move_that_does_not_touch_accepted_keeps_the_version(client, catalog, session):
    pumch = catalog.accounts["pumch"]
    project = add_project(session, catalog.accounts, "pumch", ProjectState.PUBLISHED, name="只上报")
    report = execution.open_report(session, pumch, project)
    session.commit()
    before = _version(session)
    execution.move(session, report, Action.REPORT, pumch)
    session.commit()
    assert _version(session) == before


def test_the_search_results_mark_the_projects_held(client, catalog, session):
    """A visitor scanning the results sees which projects were held (已举办) without
    opening each one, and nothing private."""
    _, _, numbers = _report(session, catalog.accounts, "已举办搜索项目")
    _report(session, catalog.accounts, "未审核搜索项目", accept=False)
    html = client.get("/", query_string={"q": "搜索项目"}).get_data(as_text=True)
    rows = {name: html.split(name, 1)[1].split("</tr>", 1)[0] for name in ("已举办搜索项目",)}
    assert 'class="badge cme-held">已举办' in rows["已举办搜索项目"]
    # The phone cards and the table each mark it once; the project not accepted is unmarked.
    assert html.count('class="badge cme-held"') == 2
    assert "未审核搜索项目</a></h2>" in html and "未审核搜索项目</a></td>" in html
    assert _private(html, numbers) == []


def test_the_changes_feed_carries_an_acceptance_and_its_undoing(client, catalog, session):
    """A mirror of the catalog that polls ``updated_since`` learns that a project was
    held (and that it no longer is), though the project's own row did not change."""
    project, report, _ = _report(session, catalog.accounts, "变更推送举办测试", accept=False)
    since = utcnow()
    feed = {"updated_since": since.isoformat() + "Z", "per_page": 100}

    def entry():
        items = client.get("/api/v1/projects", query_string=feed).get_json()["items"]
        return next((i for i in items if i["id"] == project.id), None)

    assert entry() is None  # nothing changed since
    execution.move(session, report, Action.ACCEPT, catalog.accounts["bjcme"])
    session.commit()
    accepted = entry()
    assert accepted is not None and accepted["held"]["start_date"] == "2024-06-04"
    since = utcnow()
    feed["updated_since"] = since.isoformat() + "Z"
    report = session.get(ExecutionReport, report.id)
    execution.move(session, report, Action.UNLOCK, catalog.accounts["bjcme"], "更正学员名单")
    session.commit()
    undone = entry()
    assert undone is not None and undone["held"] is None
