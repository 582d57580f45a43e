"""The production shape, proven (``make test-cluster``): the installation of deploy/ on
this machine — HAProxy with TLS in front of two gunicorn instances, two job workers, its
own PostgreSQL and Redis — under 64 virtual users for two minutes while one web instance
is killed (``kill -9``, restarted as systemd's Restart=always would), a worker is killed in
the middle of an export, Redis is restarted and PostgreSQL is restarted (fast shutdown).

Afterwards: every answer was a success or a Chinese "try again" page (the proxy's own
Chinese error page only for the requests the killed instance held, which are counted);
every create and move the application acknowledged is in the database exactly once; the
projects' states match their latest events, numbers are unique, ``project_tallies`` equals
a recount and the snapshots are there; after the periodic pass no export is left queued or
running; and the instances act as one system: a login made on one works on the other, a
lockout made through one holds on the other, the login rate limit counts both, and a
publish on one is on the other's public page at once.

CME_CLUSTER_USERS and CME_CLUSTER_SECONDS shorten a development run (e.g. 8 and 20).
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path

import pytest
import requests
from redis import Redis
from rq import Worker
from sqlalchemy import create_engine, text

from models import tally
from tests.cluster import load
from tests.cluster.harness import ROOT, Cluster, haproxy_setting, read_env_template

USERS = int(os.environ.get("CME_CLUSTER_USERS", "64"))
SECONDS = float(os.environ.get("CME_CLUSTER_SECONDS", "120"))
# Each user pauses up to this long between steps (bench/cluster.py measures without pauses).
THINK = 0.5
OUTPUT = ROOT / "test-output" / "cluster"
LOCK_PROBE = "lockprobe"
LOCK_PROBE_PASSWORD = "Lock-probe-" + secrets.token_hex(6)
LOCKED = "已被暂时锁定"
# Short job timings, so that the reaper can judge the killed worker's export within the test.
JOB_ENV = {
    # Lists of more than 5 rows export as background jobs.
    "EXPORT_BACKGROUND_ROWS": "5",
    "JOB_HEARTBEAT_SECONDS": "2",
    "JOB_STALE_SECONDS": "6",
    "JOB_QUEUED_SECONDS": "10",
    # Each export waits a second once started, so that a worker can be killed during one.
    "JOBS_TEST_PAUSE_SECONDS": "1",
}


@pytest.fixture(scope="module")
def cluster(request):
    """The installation; everything it started is killed afterwards, whatever happened,
    and its logs are kept in test-output/cluster/ for a failed run."""
    installation = Cluster(extra_env=JOB_ENV)
    shutil.rmtree(OUTPUT, ignore_errors=True)
    try:
        installation.start()
        installation.flask(
            "create-committee", "--name", "集群测试委员会", "--address", "北京市西城区",
            "--manager", "测试", "--phone", "010-83970000", "--postal-code", "100053",
            "--username", LOCK_PROBE, "--password", LOCK_PROBE_PASSWORD,
        )  # fmt: skip
        yield installation
    finally:
        if installation.logs.exists():
            shutil.copytree(installation.logs, OUTPUT / "logs", dirs_exist_ok=True)
        installation.stop()


# -- the faults --------------------------------------------------------------------------------
def kill_worker_during_export(cluster: Cluster, timeout: float = 20.0) -> str:
    """``kill -9`` the worker that is running an export (the first seen busy), restart it."""
    connection = Redis.from_url(cluster.redis_url)
    pids = {cluster.worker(i).pid: i for i in range(cluster.workers)}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for worker in Worker.all(connection=connection):
                if worker.pid in pids and worker.get_state() == "busy":
                    cluster.worker(pids[worker.pid]).restart_after_kill()
                    return f"worker{pids[worker.pid] + 1} killed during an export"
            time.sleep(0.05)
    finally:
        connection.close()
    cluster.worker(0).restart_after_kill()
    return "worker1 killed (no export was running at that moment)"


def run_faults(cluster: Cluster, started: float, seconds: float) -> dict:
    """The schedule, on this thread while the users work: at 15 % of the run a web
    instance is killed, at 35 % a worker, at 55 % Redis restarts, at 75 % PostgreSQL."""
    log: dict = {}

    def at(share: float) -> None:
        time.sleep(max(0.0, started + share * seconds - time.monotonic()))

    at(0.15)
    log["web_killed_at"] = time.time()
    cluster.restart_web(0)
    log["web_back_at"] = time.time()
    at(0.35)
    log["worker"] = kill_worker_during_export(cluster)
    at(0.55)
    cluster.redis_restart()
    log["redis_restarted_at"] = time.time()
    at(0.75)
    cluster.pg_restart()
    log["postgresql_restarted_at"] = time.time()
    return log


# -- the database's side ---------------------------------------------------------------------
def rows(engine, sql: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


def check_ledger(engine, ledger: load.Ledger, first_event: int) -> dict[str, int]:
    """Every acknowledged create and move exactly once; nothing done twice."""
    names = list(ledger.created) + sorted(ledger.maybe_created)
    counts = dict(
        rows(
            engine,
            "SELECT name, count(*) FROM projects WHERE name = ANY(:n) GROUP BY name",
            n=names,
        )
    )
    missing = [n for n in ledger.created if counts.get(n, 0) != 1]
    assert missing == [], f"acknowledged creates not found exactly once: {missing[:10]}"
    twice = [n for n in ledger.maybe_created if counts.get(n, 0) > 1]
    assert twice == [], f"unacknowledged creates saved more than once: {twice}"
    moves = {
        (pid, source, target): n
        for pid, source, target, n in rows(
            engine,
            "SELECT project_id, from_state, to_state, count(*) FROM project_events"
            " WHERE id > :first GROUP BY project_id, from_state, to_state",
            first=first_event,
        )
    }
    repeated = {move: n for move, n in moves.items() if n > 1}
    assert repeated == {}, f"moves recorded more than once: {repeated}"
    lost = [m for m in ledger.moved if moves.get(m) != 1]
    assert lost == [], f"acknowledged moves not in the history exactly once: {lost[:10]}"
    return {"creates": len(ledger.created), "moves": len(ledger.moved)}


def check_invariants(engine, first_event: int) -> None:
    wrong_state = rows(
        engine,
        "SELECT p.id, p.state, e.to_state FROM projects p JOIN project_events e"
        " ON e.id = (SELECT max(id) FROM project_events WHERE project_id = p.id"
        "            AND to_state IS NOT NULL)"
        " WHERE e.to_state <> p.state",
    )
    assert wrong_state == [], f"projects whose state is not their latest event's: {wrong_state}"
    duplicates = rows(
        engine,
        "SELECT committee_id, project_no, count(*) FROM projects WHERE project_no IS NOT NULL"
        " GROUP BY committee_id, project_no HAVING count(*) > 1",
    )
    assert duplicates == [], f"project numbers used twice: {duplicates}"
    # Rows the triggers brought down to nothing may stay; a recount writes none.
    counted = (
        f"SELECT {', '.join(tally.KEY)}, projects, credits FROM {tally.TABLE}"
        " WHERE projects <> 0 OR credits <> 0"
    )
    with engine.connect() as conn:  # one transaction, rolled back: the table is left as is
        kept = sorted(map(tuple, conn.exec_driver_sql(counted)))
        tally.rebuild(conn)
        recounted = sorted(map(tuple, conn.exec_driver_sql(counted)))
        conn.rollback()
    assert kept == recounted, "project_tallies differs from a recount"
    snapshots = rows(
        engine,
        "SELECT e.project_id, e.from_state, e.to_state FROM project_events e"
        " JOIN projects p ON p.id = e.project_id"
        " WHERE e.id > :first AND e.action IN ('report', 'publish')"
        " EXCEPT SELECT project_id, from_state, to_state FROM project_versions",
        first=first_event,
    )
    assert snapshots == [], f"reports/publications without their snapshot: {snapshots[:10]}"


def check_jobs(cluster: Cluster, engine) -> dict[str, int]:
    """After the periodic pass (the unit's own command), no export queued or running."""
    # A job lost with Redis's memory is judged after JOB_QUEUED_SECONDS, a killed one
    # after JOB_STALE_SECONDS.
    time.sleep(max(int(JOB_ENV["JOB_STALE_SECONDS"]), int(JOB_ENV["JOB_QUEUED_SECONDS"])) + 1)
    result = cluster.run_unit_once("cme-periodic.service")
    assert result.returncode == 0, result.stdout + result.stderr
    statuses = {
        f"{status} ({error})" if error else status: n
        for status, error, n in rows(
            engine, "SELECT status, error, count(*) FROM jobs GROUP BY status, error"
        )
    }
    stuck = {s: n for s, n in statuses.items() if s.split()[0] in ("queued", "running")}
    assert stuck == {}, f"exports left {stuck} after the periodic pass: {result.stdout}"
    # A failed export's page offers 重新导出 whatever the reason (admin_views/jobs.py).
    return statuses


# -- one system --------------------------------------------------------------------------------
class Direct:
    """A client of one web instance, bypassing the proxy but speaking as it does
    (X-Forwarded-For / -Proto): the session cookie is Secure, so it is sent by hand."""

    def __init__(self, cluster: Cluster, index: int, address: str = "127.0.0.9"):
        self.url = cluster.web_url(index)
        self.origin = f"https://127.0.0.1:{cluster.web_ports[index]}"
        self.http = requests.Session()
        self.http.trust_env = False
        self.cookies: dict[str, str] = {}
        self.address = address

    def to(self, cluster: Cluster, index: int) -> Direct:
        """The same browser (cookies) talking to another instance."""
        other = Direct(cluster, index, self.address)
        other.cookies = self.cookies
        return other

    def send(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"X-Forwarded-For": self.address, "X-Forwarded-Proto": "https"}
        if method == "POST":
            headers["Referer"] = self.origin + path
        response = self.http.request(
            method, self.url + path, headers=headers, cookies=self.cookies,
            allow_redirects=False, timeout=30, **kwargs,
        )  # fmt: skip
        self.cookies.update(response.cookies.get_dict())
        return response

    def login(self, username: str, password: str) -> requests.Response:
        token = load.VirtualUser.token(self.send("GET", "/login").text)
        form = {"username": username, "password": password, "csrf_token": token}
        return self.send("POST", "/login", data=form)


def check_one_system(cluster: Cluster, engine) -> None:
    # A login on instance 1 is valid on instance 2.
    first = Direct(cluster, 0)
    assert first.login("bjcme", load.PASSWORD).status_code == 302
    page = first.to(cluster, 1).send("GET", "/admin/audit/")
    assert page.status_code == 200, page.status_code
    # A lockout made through instance 1 holds on instance 2, and the per-username rate
    # limit counts the failures of both.
    prober = Direct(cluster, 0, "127.0.0.10")
    for _ in range(10):
        assert prober.login(LOCK_PROBE, "wrong-password-1").status_code == 200
    other = Direct(cluster, 1, "127.0.0.11")
    refused = other.login(LOCK_PROBE, LOCK_PROBE_PASSWORD)
    assert refused.status_code == 200 and LOCKED in refused.text
    for _ in range(9):
        assert other.login(LOCK_PROBE, "wrong-password-2").status_code == 200
    limited = Direct(cluster, 0, "127.0.0.12").login(LOCK_PROBE, "wrong-password-3")
    assert limited.status_code == 429, "the rate limit of one instance did not count the other's"
    # A publish on instance 1 is on instance 2's public pages at once.
    ((project_id, name),) = rows(
        engine, "SELECT id, name FROM projects WHERE state = 'at_committee' ORDER BY id LIMIT 1"
    )
    # Both instances' catalog pages and API read first (their cache warm), then the
    # publish through instance 1.
    for index in (1, 0):
        public = Direct(cluster, index)
        assert (
            f'href="/projects/{project_id}"' not in public.send("GET", "/", params={"q": name}).text
        )
        assert public.send("GET", "/api/v1/projects", params={"q": name}).json()["total"] == 0
    token = load.VirtualUser.token(first.send("GET", "/admin/audit/").text)
    form = {"action": "publish", "rowid": str(project_id), "csrf_token": token}
    done = first.send("POST", "/admin/audit/action/", data=form)
    assert done.status_code == 302
    for index in (1, 0):
        public = Direct(cluster, index)
        assert public.send("GET", f"/projects/{project_id}").status_code == 200
        assert f'href="/projects/{project_id}"' in public.send("GET", "/", params={"q": name}).text
        api = public.send("GET", "/api/v1/projects", params={"q": name}).json()
        assert project_id in [item["id"] for item in api["items"]]


# -- the test ----------------------------------------------------------------------------------
@pytest.fixture
def engine(cluster):
    """The test's own connections to the cluster's database, closed even when the test fails
    (an open one found later by the garbage collector fails whichever test is running)."""
    engine = create_engine(cluster.database_url, pool_pre_ping=True)
    yield engine
    engine.dispose()


def test_the_cluster_survives_kills_and_restarts(cluster, engine, request):
    maxconn = int(haproxy_setting(r"default-server .*\bmaxconn (\d+)"))
    assert maxconn == int(read_env_template()["WEB_CONCURRENCY"]), "haproxy.cfg and cme.env differ"
    (first_event,) = rows(engine, "SELECT coalesce(max(id), 0) FROM project_events")[0]
    # The proxy answers plain HTTP with a redirect to HTTPS.
    plain = requests.get(f"http://127.0.0.1:{cluster.http_port}/", allow_redirects=False, timeout=5)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")

    started = time.monotonic()
    threads, stats, ledger = load.run_users(
        cluster.base, str(cluster.cert), USERS, SECONDS, think=THINK
    )
    try:
        faults = run_faults(cluster, started, SECONDS)
    finally:
        problems = load.join_users(threads)
    elapsed = time.monotonic() - started
    assert problems == []

    # Answers: successes and Chinese try-again pages; proxy pages only around the kill.
    window = (faults["web_killed_at"] - 1, faults["web_back_at"] + 10)
    late = [p for p in stats.proxy_errors if not window[0] <= p[0] <= window[1]]
    assert late == [], f"proxy error pages outside the killed instance's restart: {late}"
    assert len(stats.proxy_errors) <= maxconn, stats.proxy_errors
    moments = {k: time.strftime("%H:%M:%S", time.localtime(v)) for k, v in faults.items()
               if isinstance(v, float)}  # fmt: skip
    assert stats.failures == [], f"{moments}\n" + "\n".join(stats.failures[:40])

    checked = check_ledger(engine, ledger, first_event)
    check_invariants(engine, first_event)
    statuses = check_jobs(cluster, engine)
    check_one_system(cluster, engine)
    backend = next(s for s in cluster.stats() if s["svname"] == "BACKEND")

    counts = stats.counts
    summary = (
        f"cluster: {USERS} users, {elapsed:.0f} s, {sum(counts.values())} requests,"
        f" {counts['ok']} ok, {counts['retry']} retry pages, {counts['proxy']} proxy error pages"
        f" and {counts['cut']} connections closed unanswered (killed instance),"
        f" {counts['error']} failures; acknowledged: {checked['creates']}"
        f" creates, {checked['moves']} moves ({ledger.partial_moves} partial bulk answers"
        f" not counted), {ledger.imports} imports, {len(ledger.jobs)} export jobs"
        f" {statuses}, {ledger.downloads} downloads; p95 {stats.p95() * 1000:.0f} ms;"
        f" proxy retries {backend.get('wretr')}, redispatches {backend.get('wredis')};"
        f" {faults['worker']}; start-up {cluster.timings}"
    )
    OUTPUT.mkdir(parents=True, exist_ok=True)
    Path(OUTPUT / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(summary)
    assert counts["ok"] > 0 and checked["creates"] > 0
