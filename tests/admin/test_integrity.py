"""Integrity under faults (issue 14, defects 1, 2, 3 and 9): issuer numbers cannot
block the committee's series, a stale form is refused whatever it changed, two
committee users publishing at once neither deadlock nor burn numbers."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

import workflow
from extensions import db
from models import Lecturer, Project, ProjectNumberCounter, ProjectState, User, rules
from tests.admin.test_projects import flashes, project_form
from tests.factories import make_project
from workflow import Action
from workflow.engine import format_number

S = ProjectState
# Years no demo project uses: each test's numbers start from an empty counter.
YEARS = range(2061, 2069)


def _numbers(session, committee_id, year) -> list[int]:
    session.expire_all()
    rows = session.scalars(
        select(Project.project_no).where(
            Project.committee_id == committee_id,
            Project.year == year,
            Project.state == S.PUBLISHED,
        )
    )
    return sorted(int(n.rsplit("-", 1)[1]) for n in rows if n and "-XH-" in n)


def _counter(session, committee_id, year) -> int | None:
    session.expire_all()
    return session.scalar(
        select(ProjectNumberCounter.last_value).where(
            ProjectNumberCounter.committee_id == committee_id, ProjectNumberCounter.year == year
        )
    )


# -- defect 1: issuer numbers and the committee's series ----------------------------------------
@pytest.mark.parametrize("number", ["2026-XH-00055", " 2026-xh-55 ", "2031-XH-123456"])
def test_the_committee_series_is_refused_as_an_issuer_number(app, number):
    with app.test_request_context():
        errors = rules.validate_project({"project_no": number}, issuer=True)
        assert "市继委" in str(errors["project_no"])
        # A number the project already holds (the committee gave it) stays valid.
        kept = rules.validate_project({"project_no": number}, issuer=True, kept_number=number)
        assert "project_no" not in kept
    assert rules.COMMITTEE_SERIES.fullmatch(format_number(2026, 55))
    assert rules.COMMITTEE_SERIES.fullmatch(format_number(2026, 123456))


def test_an_issuer_cannot_type_a_committee_number(login_as, browser, session):
    before = session.scalar(select(Project.id).order_by(Project.id.desc()).limit(1))
    login_as("pumch")
    form = project_form(
        session, level="national", project_no="2026-XH-00055", organizer="北京协和医院"
    )
    page = browser.post("/admin/projects/new/", form, token_from="/admin/projects/new/")
    assert page.status_code == 200
    assert "由市继委" in _field_block(page.get_data(as_text=True), "project_no")
    assert session.scalar(select(Project.id).order_by(Project.id.desc()).limit(1)) == before


def test_a_row_holding_the_next_number_does_not_block_publishing(demo_accounts, session):
    """A draft the committee cannot see holds the next numbers of the series (as
    a row saved before the rule existed): publishing skips them."""
    cardio, pumch, bjcme = (
        demo_accounts["bma_cardio"],
        demo_accounts["pumch"],
        demo_accounts["bjcme"],
    )
    year = YEARS[0]
    committee_id = bjcme.unit_id
    first = make_project(session, cardio, S.AT_COMMITTEE, year=year)
    workflow.apply(session, first, Action.PUBLISH, bjcme)
    session.commit()
    assert first.project_no == format_number(year, 1)
    for sequence in (2, 3):
        make_project(session, pumch, S.DRAFT, year=year, project_no=format_number(year, sequence))
    later = [make_project(session, cardio, S.AT_COMMITTEE, year=year) for _ in range(2)]
    session.commit()

    result = workflow.apply_bulk(session, Action.PUBLISH, bjcme, [p.id for p in later])
    session.commit()

    assert sorted(result.done) == sorted(p.id for p in later) and not result.skipped
    assert _numbers(session, committee_id, year) == [1, 4, 5]
    assert _counter(session, committee_id, year) == 5


def _field_block(html: str, name: str) -> str:
    """The form group of field ``name``: its input and the errors shown under it."""
    start = html.index(f'id="{name}"')
    group = html.rfind('class="form-group', 0, start)
    end = html.find('class="form-group', start)
    return html[group:end]


def test_a_taken_number_is_refused_next_to_the_field(login_as, browser, session, demo_accounts):
    other_issuer = demo_accounts["pumch"]
    taken = make_project(session, other_issuer, S.DRAFT, project_no="2026-01-01-777(国)")
    session.commit()
    before = session.scalar(select(Project.id).order_by(Project.id.desc()).limit(1))
    login_as("pumch")
    form = project_form(
        session, level="national", project_no=taken.project_no, organizer="北京协和医院"
    )
    page = browser.post("/admin/projects/new/", form, token_from="/admin/projects/new/")
    assert page.status_code == 200
    assert "该项目编号已被其他项目使用" in _field_block(page.get_data(as_text=True), "project_no")
    assert session.scalar(select(Project.id).order_by(Project.id.desc()).limit(1)) == before
    # Its own number is no duplicate of itself: the project saves unchanged.
    edit_url = f"/admin/projects/edit/?id={taken.id}"
    form |= {"seen_version": str(taken.version), "name": "改名后的项目"}
    assert browser.post(edit_url, form, token_from=edit_url).status_code == 302
    session.expire_all()
    assert session.get(Project, taken.id).name == "改名后的项目"


# -- defect 2: lecturer-only edits and the version ----------------------------------------------
def _edit_page(browser, project_id) -> tuple[str, str]:
    html = browser.get(f"/admin/projects/edit/?id={project_id}").get_data(as_text=True)
    version = re.search(r'name="seen_version" type="hidden" value="(\d+)"', html).group(1)
    return html, version


def test_a_lecturer_only_change_moves_the_version(demo_accounts, session):
    project = make_project(session, demo_accounts["bma_cardio"], S.DRAFT)
    session.commit()
    version = project.version
    project.lecturers[0].topic = "新的授课内容"
    session.commit()
    assert project.version == version + 1
    project.lecturers.append(Lecturer(name="赵医生", topic="病例讨论"))
    session.commit()
    assert project.version == version + 2
    session.delete(project.lecturers[0])
    session.commit()
    assert project.version == version + 3
    project.lecturers.pop()
    session.commit()
    session.refresh(project)
    assert project.version == version + 4 and project.lecturers == []


def test_a_stale_tab_cannot_revert_a_lecturer_only_edit(login_as, browser, session):
    """Two tabs open the same project; the first changes only a lecturer and saves;
    the second, still showing the old lecturer, is refused."""
    login_as("bma_cardio")
    created = project_form(session, name="两个标签页的项目")
    browser.post("/admin/projects/new/", created, token_from="/admin/projects/new/")
    project = session.scalar(select(Project).where(Project.name == "两个标签页的项目"))
    edit_url = f"/admin/projects/edit/?id={project.id}"
    unchanged = created | {
        f"lecturers-{i}-id": str(lecturer.id) for i, lecturer in enumerate(project.lecturers)
    }
    _, first_tab = _edit_page(browser, project.id)
    _, second_tab = _edit_page(browser, project.id)
    assert first_tab == second_tab

    saved = browser.post(
        edit_url,
        unchanged | {"seen_version": first_tab, "lecturers-0-topic": "第一个标签页改的内容"},
        token_from=edit_url,
    )
    assert saved.status_code == 302
    stale = browser.post(
        edit_url,
        unchanged | {"seen_version": second_tab, "remarks": "第二个标签页"},
        token_from=edit_url,
    )
    assert "已被他人修改" in flashes(stale) + flashes(browser.get(edit_url))
    session.expire_all()
    kept = session.get(Project, project.id)
    assert kept.lecturers[0].topic == "第一个标签页改的内容"
    assert not kept.remarks


def test_an_edit_without_its_version_is_refused(login_as, browser, session, demo_accounts):
    project = make_project(session, demo_accounts["bma_cardio"], S.DRAFT)
    session.commit()
    login_as("bma_cardio")
    edit_url = f"/admin/projects/edit/?id={project.id}"
    page = browser.post(edit_url, project_form(session, name="没有版本的修改"), token_from=edit_url)
    assert "已被他人修改" in flashes(page) + flashes(browser.get(edit_url))
    session.expire_all()
    assert session.get(Project, project.id).name != "没有版本的修改"


# -- defect 3: a fixed lock order, a retry, a Chinese message -----------------------------------
def test_counters_are_locked_in_a_fixed_order(demo_accounts, session):
    """The counter upsert lists its (committee, year) rows sorted, whatever order
    the ticked rows come in: two publishes lock them in the same order."""
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    ids = [make_project(session, cardio, S.AT_COMMITTEE, year=y).id for y in reversed(YEARS)]
    session.commit()
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "project_number_counters" in statement and "INSERT" in statement:
            seen.append(parameters)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        workflow.apply_bulk(session, Action.PUBLISH, bjcme, ids)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    session.commit()
    (parameters,) = seen
    values = list(parameters.values()) if isinstance(parameters, dict) else list(parameters)
    years = [v for v in values if v in YEARS]
    assert years == sorted(YEARS)


def _in_threads(*targets, timeout=60):
    threads = [threading.Thread(target=t) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads)


def _publisher(engine, account_id, barrier, outcomes, name, ids, *, retry=False):
    """A thread's work: publish ``ids`` with its own connection, once both are ready
    (with ``retry``, through ``workflow.retrying`` as the panel does)."""

    def publish():
        with Session(engine) as own:
            account = own.get(User, account_id)
            account.unit  # noqa: B018 - load before the race
            barrier.wait()
            work = lambda: workflow.apply_bulk(own, Action.PUBLISH, account, ids)  # noqa: E731
            try:
                if retry:
                    outcomes[name] = workflow.retrying(own, work)
                else:
                    outcomes[name] = work()
                    own.commit()
            except Exception as error:  # the test reports whatever it was
                own.rollback()
                outcomes[name] = error

    return publish


def _at_committee(session, branch, society, years) -> list[int]:
    """One project per year, reported up to the committee (in bulk: quicker)."""
    ids = [make_project(session, branch, S.DRAFT, year=y).id for y in years]
    workflow.apply_bulk(session, Action.REPORT, branch, ids)
    workflow.apply_bulk(session, Action.REPORT, society, ids)
    session.commit()
    return ids


@pytest.mark.postgresql_only
def test_opposite_multi_year_publishes_do_not_deadlock(demo_accounts, session, backend):
    """Two committee users publish one project per year over thirty years, ticked in
    opposite orders, at the same moment, ten times: no deadlock, nothing retried."""
    if backend != "postgresql":
        pytest.skip("the race needs PostgreSQL's row locks")
    cardio, bma, bjcme = demo_accounts["bma_cardio"], demo_accounts["bma"], demo_accounts["bjcme"]
    years = list(range(2040, 2070))
    for round_ in range(10):
        mine = _at_committee(session, cardio, bma, years)
        theirs = _at_committee(session, cardio, bma, years)
        barrier, outcomes = threading.Barrier(2, timeout=30), {}
        _in_threads(
            _publisher(db.engine, bjcme.id, barrier, outcomes, "a", mine),
            _publisher(db.engine, bjcme.id, barrier, outcomes, "b", theirs[::-1]),
        )
        for name, outcome in outcomes.items():
            assert isinstance(outcome, workflow.BulkResult), (round_, name, outcome)
            assert len(outcome.done) == len(years), (round_, name, outcome.skipped)


def _raise_in_database(session, sqlstate: str) -> None:
    """A real error of the database with ``sqlstate`` (as a deadlock victim gets)."""
    session.execute(
        text(f"DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '{sqlstate}'; END $$")
    )


@pytest.mark.postgresql_only
@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_victim_is_retried_once(demo_accounts, session, backend, sqlstate):
    if backend != "postgresql":
        pytest.skip("PostgreSQL's error codes")
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    project = make_project(session, cardio, S.AT_COMMITTEE, year=YEARS[0])
    session.commit()
    calls = []

    def work():
        calls.append(1)
        result = workflow.apply_bulk(session, Action.PUBLISH, bjcme, [project.id])
        if len(calls) == 1:
            _raise_in_database(session, sqlstate)
        return result

    result = workflow.retrying(session, work)
    assert len(calls) == 2 and result.done == [project.id]
    assert _numbers(session, bjcme.unit_id, YEARS[0]) == [1]


@pytest.mark.postgresql_only
def test_a_lasting_deadlock_is_reported_in_chinese(
    login_as, browser, session, demo_accounts, backend
):
    if backend != "postgresql":
        pytest.skip("PostgreSQL's error codes")
    project = make_project(session, demo_accounts["bma_cardio"], S.AT_COMMITTEE, year=YEARS[0])
    session.commit()
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION test_always_deadlocked() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER test_always_deadlocked BEFORE INSERT OR UPDATE"
                " ON project_number_counters FOR EACH ROW EXECUTE FUNCTION test_always_deadlocked()"
            )
        )
    try:
        login_as("bjcme")
        response = browser.post(
            "/admin/audit/action/",
            {"action": "publish", "rowid": [str(project.id)]},
            token_from="/admin/audit/",
        )
        assert response.status_code == 302
        shown = flashes(browser.get(response.headers["Location"]))
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER test_always_deadlocked ON project_number_counters"))
            conn.execute(text("DROP FUNCTION test_always_deadlocked()"))
    assert "请重试" in shown and "deadlock" not in shown
    assert session.get(Project, project.id).state is S.AT_COMMITTEE


# -- defect 9: no gaps in the numbers -----------------------------------------------------------
@pytest.mark.postgresql_only
def test_racing_publishes_burn_no_numbers(demo_accounts, session, backend):
    """Two committee users publish the same rows at once: one wins them all, the
    other is told they changed, and the counter moved only for the winner's."""
    if backend != "postgresql":
        pytest.skip("the race needs PostgreSQL")
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    year, total = YEARS[1], 0
    for round_ in range(3):
        ids = [make_project(session, cardio, S.AT_COMMITTEE, year=year).id for _ in range(5)]
        session.commit()
        total += len(ids)
        barrier, outcomes = threading.Barrier(2, timeout=30), {}
        _in_threads(
            _publisher(db.engine, bjcme.id, barrier, outcomes, "a", ids),
            _publisher(db.engine, bjcme.id, barrier, outcomes, "b", ids[::-1]),
        )
        done = sorted(len(o.done) for o in outcomes.values())
        assert done == [0, len(ids)], (round_, outcomes)
        assert _numbers(session, bjcme.unit_id, year) == list(range(1, total + 1))
        assert _counter(session, bjcme.unit_id, year) == total
