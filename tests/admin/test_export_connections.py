"""Streamed admin exports hold no transaction and no pooled connection while they wait for
their client (issue 14 defect 4, issue 15 finding 5).

Through a real threaded HTTP server and real sockets: a finished download, clients that
never read (their socket buffers fill, the server blocks writing), and the same clients
going away. On PostgreSQL ``pg_stat_activity`` must show no ``idle in transaction``
session of ours (it would hold ``AccessShareLock`` on ``projects`` and block a migration's
``ALTER TABLE``); on both databases the pool's checked-out count must fall back to 0 and
the pool must not run dry."""

from __future__ import annotations

import http.client
import select as select_module
import socket
import sys
import threading
import time
import traceback
from importlib.metadata import version

import pytest
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.pool import NullPool
from werkzeug.serving import make_server

from extensions import db
from models import Project, ProjectState
from tests.factories import make_project

COPIES = 3000
UNREAD_CLIENTS = 16  # more than the pool's 5 + 10 overflow
EXPORT = "/admin/projects/export/csv/"
# Flask-Login's session protection ties the cookie to the address and browser it was made by.
USER_AGENT = f"Werkzeug/{version('werkzeug')}"


@pytest.fixture
def many_projects(demo_accounts, session):
    """bma_cardio's list holds a few thousand projects: an export larger than socket buffers."""
    model = make_project(session, demo_accounts["bma_cardio"])
    session.commit()
    table = Project.__table__
    row = dict(session.execute(select(table).where(table.c.id == model.id)).mappings().one())
    del row["id"]
    session.execute(insert(table), [row | {"name": f"大型导出测试{n}"} for n in range(COPIES)])
    session.commit()
    return COPIES


@pytest.fixture
def many_published(demo_accounts, session):
    """The public catalog holds a few thousand published projects."""
    table = Project.__table__
    row = dict(
        session.execute(select(table).where(table.c.state == ProjectState.PUBLISHED).limit(1))
        .mappings()
        .one()
    )
    del row["id"]
    copies = [row | {"name": f"公开导出测试{n}", "project_no": f"T-{n:05d}"} for n in range(COPIES)]
    session.execute(insert(table), copies)
    session.commit()
    return COPIES


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    accept = httpd.get_request

    def small_buffers():
        # Little room in flight, as over a slow network: a client that stops reading
        # blocks the server's writes after a few kilobytes, not after megabytes.
        conn, address = accept()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
        return conn, address

    httpd.get_request = small_buffers
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    thread.join(10)


@pytest.fixture
def cookie(login_as) -> str:
    browser = login_as("bma_cardio")
    return f"session={browser.client.get_cookie('session').value}"


@pytest.fixture
def idle_in_transaction(app, backend):
    """How many sessions of the test database sit ``idle in transaction`` (PostgreSQL)."""
    if backend != "postgresql":
        yield lambda: 0
        return
    watcher = create_engine(db.engine.url, poolclass=NullPool)

    def count() -> int:
        with watcher.connect() as conn:
            return conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
                )
            )

    yield count
    watcher.dispose()


def _request(path: str, cookie: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
        f"User-Agent: {USER_AGENT}\r\nConnection: close\r\n\r\n"
    ).encode()


def _download(server, cookie: str, timeout: float = 20, path: str = EXPORT) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "User-Agent": USER_AGENT})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _stalled_threads() -> int:
    """Server threads blocked writing a response (their client reads nothing)."""
    return sum(
        "process_request_thread" in "".join(traceback.format_stack(frame))
        for frame in sys._current_frames().values()
    )


def _settled(check, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _release_test_session() -> None:
    # The test's own session (it inserted the rows) must not count as a held connection.
    db.session.commit()
    db.session.close()


def test_a_finished_download_leaves_no_transaction_and_no_connection(
    many_projects, server, cookie, idle_in_transaction
):
    _release_test_session()
    status, body = _download(server, cookie)
    assert status == 200
    assert body.count(b"\r\n") > many_projects
    assert _settled(lambda: db.engine.pool.checkedout() == 0)
    assert idle_in_transaction() == 0


def _stall(server, path: str, cookie: str, count: int = UNREAD_CLIENTS) -> list[socket.socket]:
    """``count`` downloads of ``path`` whose clients read nothing after the first bytes."""
    clients = []
    for _ in range(count):
        client = socket.socket()
        # A small window: the server's writes block soon, as for a client that stalls.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect(("127.0.0.1", server.server_port))
        client.sendall(_request(path, cookie))
        clients.append(client)
    for client in clients:
        readable, _, _ = select_module.select([client], [], [], 30)
        assert readable, "the export did not start"
    return clients


def _close(clients: list[socket.socket]) -> None:
    for client in clients:
        client.close()


def _assert_nothing_held(idle_in_transaction) -> None:
    """Once the clients are gone, no connection is checked out and none idles in a
    transaction."""
    assert _settled(lambda: db.engine.pool.checkedout() == 0)
    assert _settled(lambda: idle_in_transaction() == 0)


def test_public_downloads_of_stalled_clients_hold_no_connection(
    many_published, server, idle_in_transaction
):
    # Anyone may start these: a handful of stalled downloads must not take the pool.
    _release_test_session()
    clients = _stall(server, "/export.csv", cookie="lang=zh_Hans_CN")
    try:
        assert _settled(lambda: _stalled_threads() == UNREAD_CLIENTS)
        assert _settled(lambda: db.engine.pool.checkedout() == 0, 30)
        assert idle_in_transaction() == 0
        status, body = _download(server, "lang=zh_Hans_CN", path="/export.csv")
        assert status == 200
        assert body.count(b"\r\n") > many_published
    finally:
        _close(clients)
    _assert_nothing_held(idle_in_transaction)


def test_unread_and_abandoned_downloads_hold_no_connection(
    many_projects, server, cookie, idle_in_transaction
):
    _release_test_session()
    # Every download has started (its first bytes arrived) and is left unread.
    clients = _stall(server, EXPORT, cookie)
    try:
        # Each export reads a batch, then blocks writing to its stalled client: once all
        # are blocked, none holds a connection or a transaction.
        assert _settled(lambda: db.engine.pool.checkedout() == 0, 30)
        assert _settled(lambda: _stalled_threads() == UNREAD_CLIENTS)
        assert idle_in_transaction() == 0
        # The pool is not exhausted: another user's download completes.
        status, body = _download(server, cookie)
        assert status == 200
        assert body.count(b"\r\n") > many_projects
    finally:
        _close(clients)  # tabs closed without reading the rest
    _assert_nothing_held(idle_in_transaction)
