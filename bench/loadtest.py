"""The load test: gunicorn (4 workers) on PostgreSQL, locust headless, 127.0.0.1 only.

Both processes are started here and stopped here, by their own pid; locust runs for a fixed
time (``-t``) and the whole run is bounded by a subprocess timeout, so it always ends.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, select

from bench.datagen import DEMO_ACCOUNTS, PASSWORD, Dataset
from models import Project

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKERS = 4
HOST = "127.0.0.1"
USER_AGENT = "cme-bench-visitor"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _ids(url: str, dataset: Dataset) -> dict:
    """Ids each role may open (visible) and act on (its own reviewable rows)."""
    table = Project.__table__
    tree = dataset.tree
    society, branch = tree.demo_unit("society"), tree.demo_unit("branch")
    queries = {
        "committee": (table.c.committee_id == tree.committee) & (table.c.state != "draft"),
        "society": (table.c.society_id == society) & (table.c.state != "draft"),
        "branch": table.c.owner_unit_id == branch,
    }
    engine = create_engine(url)
    with engine.connect() as conn:
        visible = {
            role: list(conn.scalars(select(table.c.id).where(where).limit(2000)))
            for role, where in queries.items()
        }
    engine.dispose()
    return {
        "password": PASSWORD,
        "usernames": {key: user for user, key in DEMO_ACCOUNTS.items()},
        "year": dataset.years[-2],
        "visible": visible,
        "actionable": visible,
    }


def login_cookies(port: int, usernames: dict[str, str]) -> dict[str, dict]:
    """Sign each role in once through the real login form; its session cookies.

    The visitors reuse them, so 32 argon2 verifications at the start do not eat the
    measured minute (logins are not part of the workload). The User-Agent is the one the
    visitors send: Flask-Login's strong session protection ties a session to it.
    """
    import http.cookiejar
    import re

    cookies = {}
    for role, username in usernames.items():
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.addheaders = [("User-Agent", USER_AGENT)]
        base = f"http://{HOST}:{port}"
        with opener.open(f"{base}/login", timeout=30) as answer:
            html = answer.read().decode()
        tag = re.search(r"<input[^>]*name=\"csrf_token\"[^>]*>", html).group(0)
        token = re.search(r'value="([^"]+)"', tag).group(1)
        form = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrf_token": token}
        ).encode()
        with opener.open(f"{base}/login", data=form, timeout=30) as answer:
            if "/admin" not in answer.url:
                raise RuntimeError(f"login of {username} failed")
        cookies[role] = {c.name: c.value for c in jar}
    return cookies


def _wait_ready(port: int, deadline: float) -> None:
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/login", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not become ready")


def start_gunicorn(url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url}
    command = [
        str(BIN / "gunicorn"),
        "--workers",
        str(WORKERS),
        "--bind",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
        "bench.webapp:create_bench_app()",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    _wait_ready(port, time.time() + 60)
    return server


def stop(process: subprocess.Popen) -> None:
    """Stop a process this module started, by its own pid."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _summary(row: dict) -> dict:
    requests = int(row["Request Count"])
    return {
        "requests": requests,
        "failures": int(row["Failure Count"]),
        "rps": round(float(row["Requests/s"]), 1),
        "median_ms": float(row["Median Response Time"]),
        "p95_ms": float(row["95%"]),
    }


def run_locust(port: int, target: str, ids_file: Path, seconds: int, users: int) -> dict:
    """One headless locust run; its aggregated figures and those of each request name."""
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "stats"
        env = {**os.environ, "BENCH_TARGET": target, "BENCH_IDS": str(ids_file)}
        command = [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--stop-timeout",
            "5",
            "--host",
            f"http://{HOST}:{port}",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ]
        subprocess.run(command, cwd=ROOT, env=env, timeout=seconds + 120, check=False)
        with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    by_name = {r["Name"]: _summary(r) for r in rows if r["Name"] != "Aggregated"}
    total = next(r for r in rows if r["Name"] == "Aggregated")
    return {**_summary(total), "by_name": by_name}


def run(url: str, dataset: Dataset, seconds: int, users: int) -> dict:
    """The mixed workload on our pages, then the same visitors on the stock page."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(_ids(url, dataset), handle)
        ids_file = Path(handle.name)
    port = free_port()
    server = start_gunicorn(url, port)
    try:
        ids = json.loads(ids_file.read_text())
        ids["cookies"] = login_cookies(port, ids["usernames"])
        ids_file.write_text(json.dumps(ids))
        ours = run_locust(port, "ours", ids_file, seconds, users)
        peer = run_locust(port, "peer", ids_file, seconds, users)
    finally:
        stop(server)
        ids_file.unlink(missing_ok=True)
    return {
        "workers": WORKERS,
        "users": users,
        "seconds": seconds,
        "ours": {k: v for k, v in ours.items() if k != "by_name"},
        "ours_by_name": ours["by_name"],
        "peer": {k: v for k, v in peer.items() if k != "by_name"},
        "peer_by_name": peer["by_name"],
    }
