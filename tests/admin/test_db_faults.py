"""The panel when the database refuses something (issue 14, defects 5, 6, 7): the user
reads one Chinese sentence (the SQL and the driver's text go to the log only), a SQLite file
that was briefly read-only does not keep failing, and exports stay within what a worker
can finish."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import OperationalError

import errors
import exports
from extensions import db
from models import Discipline, Project
from tests.admin.test_projects import project_form
from tests.factories import make_project

# What a raw database error shows; none of it may reach a page.
LEAKS = ("[SQL:", "INSERT", "IntegrityError", "UniqueViolation", "OperationalError", "完整性错误")


def _no_leak(page: str) -> None:
    for leak in LEAKS:
        assert leak not in page


# -- defect 6: raw database errors --------------------------------------------------------------
def test_a_taken_project_number_gets_a_chinese_message(login_as, browser, session, demo_accounts):
    # The issuer's own number of another of its projects (not the committee's format).
    taken = make_project(session, demo_accounts["pumch"]).project_no
    session.commit()
    assert taken
    before = session.scalar(select(Project.id).order_by(Project.id.desc()).limit(1))
    login_as("pumch")
    form = project_form(session, level="national", project_no=taken, organizer="北京协和医院")
    page = browser.post("/admin/projects/new/", form, token_from="/admin/projects/new/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "该项目编号已被其他项目使用" in text
    _no_leak(text)
    session.expire_all()
    assert session.scalar(select(Project.id).order_by(Project.id.desc()).limit(1)) == before


# -- defect 7: SQLite, a file that was briefly read-only ---------------------------------------
def _readonly_pool() -> None:
    """Every pooled connection read-only, as a connection SQLite opened while the file was
    read-only stays. (chmod cannot show it here: the tests may run as root, whom file modes
    do not stop; ``PRAGMA query_only`` makes SQLite refuse writes with the same error,
    "attempt to write a readonly database".)"""
    db.session.close()
    db.engine.dispose()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA query_only=ON")


def test_sqlite_writes_work_again_once_the_file_is_writable(
    backend, login_as, browser, session, caplog
):
    if backend != "sqlite":
        pytest.skip("SQLite only")
    login_as("bjcme")
    token = browser.token("/admin/disciplines/new/")
    _readonly_pool()
    refused = browser.client.post(
        "/admin/disciplines/new/", data={"name": "老年医学", "csrf_token": token}
    )
    assert refused.status_code == 200
    text = refused.get_data(as_text=True)
    assert "数据库暂时无法写入" in text
    _no_leak(text)
    assert "readonly" not in text
    assert any("readonly" in r.getMessage() or r.exc_info for r in caplog.records)
    # The file is writable again: the next write works without a restart.
    for name in ("老年医学", "运动医学"):
        response = browser.post("/admin/disciplines/new/", {"name": name})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
    session.expire_all()
    names = set(session.scalars(select(Discipline.name)))
    assert {"老年医学", "运动医学"} <= names


# -- defect 5: XLSX within the worker's time; abandoned downloads stop --------------------------
def test_xlsx_over_its_own_limit_is_refused_in_chinese_and_csv_still_works(app, login_as, browser):
    login_as("bma_cardio")
    assert app.config["EXPORT_XLSX_MAX_ROWS"] < app.config["EXPORT_MAX_ROWS"]
    saved = app.config["EXPORT_XLSX_MAX_ROWS"]
    app.config["EXPORT_XLSX_MAX_ROWS"] = 1
    try:
        refused = browser.get("/admin/projects/export/xlsx/")
        with browser.client.session_transaction() as cookie_session:
            flashed = " ".join(message for _, message in cookie_session.get("_flashes", []))
        csv = browser.get("/admin/projects/export/csv/")
        body = csv.get_data()
        csv.close()
    finally:
        app.config["EXPORT_XLSX_MAX_ROWS"] = saved
    assert refused.status_code == 302  # back to the list, which shows the message
    assert "超过了 Excel（XLSX）导出最多 1 行的限制" in flashed
    assert "CSV" in flashed
    assert csv.status_code == 200 and body.count(b"\r\n") > 2


def test_an_abandoned_download_stops_reading_and_returns_its_connection(
    login_as, browser, session, monkeypatch
):
    login_as("bma_cardio")
    monkeypatch.setattr(exports, "EXPORT_BATCH_ROWS", 1)
    monkeypatch.setattr(exports, "CSV_ROWS_PER_CHUNK", 1)
    rows = session.scalar(select(db.func.count()).select_from(Project))
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    db.session.close()
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = browser.get("/admin/projects/export/csv/")
        chunks = iter(response.response)
        for _ in range(3):  # the BOM, the header, a row or two
            next(chunks)
        response.close()  # the browser tab was closed
        reads = len(statements)
        assert db.engine.pool.checkedout() == 0
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert rows > 3
    assert reads < rows


# -- issue 21, finding 10: the database dies between the view and the teardown -----------------
OUTAGE_TITLE = "暂时无法连接数据库"


@contextmanager
def after_the_view(app, hook):
    """Run ``hook()`` once the view has answered, before the request's teardown (an
    ``after_request`` function, removed afterwards: the app is shared by the session)."""

    def run(response):
        hook()
        return response

    app.after_request_funcs.setdefault(None, []).append(run)
    try:
        yield
    finally:
        app.after_request_funcs[None].remove(run)


@contextmanager
def driver_fails(monkeypatch, method: str):
    """From now on the driver's ``method`` (``do_rollback``, ``do_commit``) raises the error
    the driver raises when the server closed the connection."""
    dialect = db.engine.dialect
    failing = {"on": False}
    original = getattr(dialect, method)

    def fail(dbapi_connection):
        if failing["on"]:
            raise dialect.loaded_dbapi.OperationalError("server closed the connection unexpectedly")
        return original(dbapi_connection)

    monkeypatch.setattr(dialect, method, fail)
    yield lambda: failing.update(on=True)
    failing["on"] = False


def _outage_or_page(response, page_text: str) -> None:
    """The Chinese 503 or the page's success, never Werkzeug's bare English 500."""
    text = response.get_data(as_text=True)
    assert response.status_code in (200, 302, 503), (response.status_code, text[:300])
    if response.status_code == 503:
        assert OUTAGE_TITLE in text and response.headers["Retry-After"]
    elif response.status_code == 200:
        assert page_text in text
    assert "Internal Server Error" not in text
    _no_leak(text)


def test_a_rollback_that_fails_in_the_teardown_is_never_a_bare_500(
    app, login_as, browser, monkeypatch, caplog
):
    monkeypatch.setattr(errors, "outage_log", errors.OutageLog(interval=3600))
    login_as("bma_cardio")
    browser.get("/admin/projects/")  # the connection is pooled
    held = db.engine.pool.checkedout()  # the test's own session's
    with driver_fails(monkeypatch, "do_rollback") as die, after_the_view(app, die):
        response = browser.client.get("/admin/projects/")
    _outage_or_page(response, "我的项目")
    assert response.status_code == 200  # the page was built before the connection died
    assert any("database unavailable" in r.getMessage() for r in caplog.records)
    # The dead connection was thrown away: the next request works.
    assert browser.get("/admin/projects/").status_code == 200
    assert db.engine.pool.checkedout() == held


def test_a_backend_killed_before_the_teardown_is_never_a_bare_500(app, backend, login_as, browser):
    """PostgreSQL: the request's own backend is terminated from another connection
    (``pg_terminate_backend``, as a restart or a failover would) after the view."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    login_as("bma_cardio")

    def kill_my_backend():
        pid = db.session.connection().connection.dbapi_connection.info.backend_pid
        killer = create_engine(db.engine.url)
        with killer.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()

    with after_the_view(app, kill_my_backend):
        response = browser.client.get("/admin/projects/")
    _outage_or_page(response, "我的项目")
    assert browser.get("/admin/projects/").status_code == 200


def test_a_commit_that_fails_in_the_request_is_the_chinese_503(
    app, login_as, browser, session, demo_accounts, monkeypatch
):
    draft = make_project(session, demo_accounts["bma_cardio"])
    session.commit()
    login_as("bma_cardio")
    token = browser.token("/admin/projects/")
    with driver_fails(monkeypatch, "do_commit") as die:
        die()
        response = browser.client.post(
            "/admin/projects/action/",
            data={"action": "report", "rowid": [str(draft.id)], "csrf_token": token},
        )
    _outage_or_page(response, "我的项目")
    assert response.status_code in (302, 503)
    session.expire_all()
    assert session.get(Project, draft.id).state.value == "draft"


def test_a_database_failure_after_the_view_is_the_chinese_503(app, login_as, browser, monkeypatch):
    """A write after the view (an ``after_request`` hook that commits) whose connection is
    gone: the outage page, not the 500 of an unexpected error."""
    # As in production: the tests' app would re-raise instead of calling the 500 handler.
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    login_as("bma_cardio")

    def write_after_the_view():
        raise OperationalError("UPDATE sessions", {}, Exception("connection lost"))

    with after_the_view(app, write_after_the_view):
        response = browser.client.get("/admin/projects/")
    assert response.status_code == 503
    _outage_or_page(response, "")
