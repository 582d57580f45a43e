"""Virtual users of the cluster test and bench/cluster.py: plain threads with ``requests``,
127.0.0.1 only, bounded in time.

Each user signs in through the real form (CSRF token, Referer, over TLS through the proxy)
and, until the deadline, does what its kind of account does on the panel: lists with tabs,
filters and search; 添加项目 through the form; the bulk buttons 上报所选项目 / 设为可修改 /
公布 through the list's form; list exports (run as background jobs: the cluster sets
EXPORT_BACKGROUND_ROWS low) followed to their download; 批量导入 of a small workbook made
from the unit's own template; and anonymous visitors read the public catalog and
/api/v1/projects.

Every answer is classified (``classify``): a success, the application's Chinese "try again"
page (503 while the database restarts), the proxy's own Chinese error page or a connection
it closed without an answer (both only for a request an instance held when it was killed),
or a failure (anything else: a 500, an unexpected 4xx,
English, a broken connection), which the test reports with its address. Every create and
move the application acknowledged is written in the ``Ledger``, to be found in the database
exactly once afterwards.
"""

from __future__ import annotations

import io
import itertools
import random
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests
from openpyxl import load_workbook

from tests.admin.test_import import fill, lecturer_row, project_row
from tests.admin.test_projects import FILLED_FORM

PASSWORD = "demo-pass-2026"
TOKEN = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]*)"')
ROWID = re.compile(r'name="rowid"[^>]*value="(\d+)"')
TAB = re.compile(r'href="([^"]*[?&]status=[a-z_]+[^"]*)"')
JOB_URL = re.compile(r"/admin/jobs/([0-9a-f]{32})/")
DOWNLOAD = re.compile(r'href="(/admin/jobs/[0-9a-f]{32}/download)"')
BATCH_URL = re.compile(r"/admin/import/batch/(\d+)/")
DONE = re.compile(r"已处理 (\d+) 项")
SKIPPED = re.compile(r"(\d+) 项未处理")
DISCIPLINE = re.compile(r'<option value="(\d+)"[^>]*>\s*临床内科学\s*</option>')
PUBLIC_ID = re.compile(r'href="/projects/(\d+)"')
CJK = re.compile(r"[\u4e00-\u9fff]")
FLASH = re.compile(r'class="alert[^"]*"[^>]*>(.*?)</div>', re.S)
PROXY_PAGE = 'name="cme-proxy-error"'
# The application's "try again" pages (errors.py): the database, or a write it refused.
RETRY_TEXTS = ("请稍后再试", "稍后再试")

# Accounts of the demo data in the order users are given them (anonymous: None).
MIX = (
    "bma_cardio", "bma_peds", "tcm_acu", "pumch", "bma", "bjcme", None, "bma_cardio",
    "bma_peds", "tcm_acu", "pumch", "bma", "bjtcm", "bjcme", None, None,
)  # fmt: skip
ROLE = {
    "bma_cardio": "branch",
    "bma_peds": "branch",
    "tcm_acu": "branch",
    "pumch": "issuer",
    "bma": "society",
    "bjtcm": "society",
    "bjcme": "committee",
    None: "public",
}
ORGANIZER = {
    "bma_cardio": "北京医学会心血管病学分会",
    "bma_peds": "北京医学会儿科学分会",
    "tcm_acu": "北京中医药学会针灸分会",
    "pumch": "北京协和医院",
}
# (list view, the state its opening tab shows, what the user does to it)
WORK = {
    "branch": ("projects", "draft", "report"),
    "issuer": ("projects", "draft", "report"),
    "society": ("review", "at_society", "report"),
    "committee": ("audit", "at_committee", "publish"),
}
MOVES = {
    ("branch", "report"): ("draft", "at_society"),
    ("issuer", "report"): ("draft", "at_committee"),
    ("society", "report"): ("at_society", "at_committee"),
    ("society", "unlock"): ("at_society", "returned"),
    ("committee", "publish"): ("at_committee", "published"),
    ("committee", "unlock"): ("at_committee", "returned"),
}


def classify(response: requests.Response) -> str:
    """ok, retry (the application's Chinese try-again page), proxy (the proxy's Chinese
    error page) or error."""
    if response.status_code < 400:
        return "ok"
    text = response.text if "html" in response.headers.get("Content-Type", "") else ""
    if PROXY_PAGE in text and CJK.search(text):
        return "proxy"
    if response.status_code == 503 and any(t in text for t in RETRY_TEXTS):
        return "retry"
    if response.status_code == 503 and response.headers.get("Content-Type", "").endswith("json"):
        return "retry" if response.headers.get("Retry-After") else "error"
    return "error"


@dataclass
class Stats:
    """Every answer's class, the latencies of successes, and the failures' details."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    proxy_errors: list[tuple[float, str, int]] = field(default_factory=list)
    # (monotonic end, class, seconds) of every answer: bench/cluster.py measures a window.
    answers: list[tuple[float, str, float]] = field(default_factory=list)

    def record(self, kind: str, seconds: float, what: str, status: int) -> None:
        with self.lock:
            self.answers.append((time.monotonic(), kind, seconds))
            self.counts[kind] += 1
            if kind == "ok":
                self.latencies.append(seconds)
            elif kind in ("proxy", "cut"):
                self.proxy_errors.append((time.time(), what, status))
            elif kind == "error":
                self.failures.append(f"{time.strftime('%H:%M:%S')} {status} {what}")

    def p95(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[int(0.95 * (len(ordered) - 1))] if ordered else 0.0


@dataclass
class Ledger:
    """What the application acknowledged (and what it may or may not have done)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    created: dict[str, str] = field(default_factory=dict)  # project name → account
    maybe_created: set[str] = field(default_factory=set)  # sent, answer lost
    moved: list[tuple[int, str, str]] = field(default_factory=list)  # (id, from, to)
    partial_moves: int = 0  # bulk answers saying "some done, some skipped"
    jobs: set[str] = field(default_factory=set)
    downloads: int = 0
    imports: int = 0

    def add(self, attribute: str, value) -> None:
        with self.lock:
            target = getattr(self, attribute)
            if isinstance(target, dict):
                target.update(value)
            elif isinstance(target, set):
                target.add(value)
            else:
                target.append(value)


class Retry(Exception):
    """The answer was a try-again page: the user waits a moment and goes on."""


class VirtualUser(threading.Thread):
    def __init__(self, number: int, username: str | None, base: str, verify: str, *,
                 deadline: float, stats: Stats, ledger: Ledger, think: float = 0.0):  # fmt: skip
        super().__init__(name=f"vu{number}", daemon=True)
        self.number, self.username, self.base = number, username, base
        self.role = ROLE[username]
        self.deadline, self.stats, self.ledger, self.think = deadline, stats, ledger, think
        self.http = requests.Session()
        self.http.trust_env = False  # only 127.0.0.1, with the cluster's own certificate
        self.http.verify = verify
        self.rng = random.Random(number)
        self.mine: list[int] = []  # ids of this user's own drafts, not reported yet
        self.serial = itertools.count(1)
        self.discipline: str | None = None
        self.signed_in = False
        self.error: BaseException | None = None
        self.delay = 0.0  # seconds before the first step (the users arrive over a ramp)

    # -- HTTP with classification ------------------------------------------------------
    def request(self, method: str, path: str, what: str, **kwargs) -> requests.Response:
        url = path if path.startswith("http") else self.base + path
        if method == "POST":
            kwargs.setdefault("headers", {})["Referer"] = kwargs.pop("referer", url)
        started = time.monotonic()
        try:
            response = self.http.request(method, url, timeout=60, **kwargs)
        except requests.ConnectionError as error:
            # The proxy closes the browser's connection without an answer when the
            # instance died holding a request that may not be sent twice (a browser then
            # resends it itself); counted with the proxy's error pages.
            kind = "cut" if "without response" in str(error) else "error"
            self.stats.record(kind, time.monotonic() - started, f"{method} {what}: {error}", 0)
            raise Retry(kind) from error
        except requests.RequestException as error:
            self.stats.record("error", time.monotonic() - started, f"{method} {what}: {error}", 0)
            raise Retry from error
        kind = classify(response)
        self.stats.record(
            kind, time.monotonic() - started, f"{method} {path}", response.status_code
        )
        if kind != "ok":
            raise Retry(kind)
        return response

    def get(self, path: str, what: str = "", **kwargs) -> requests.Response:
        return self.request("GET", path, what or path, **kwargs)

    def post(self, path: str, data, referer: str, **kwargs) -> requests.Response:
        return self.request("POST", path, path, data=data, referer=self.base + referer, **kwargs)

    @staticmethod
    def token(html: str) -> str:
        tag = TOKEN.search(html)
        return VALUE.search(tag.group(0)).group(1) if tag else ""

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        time.sleep(self.delay)
        try:
            while time.monotonic() < self.deadline:
                try:
                    if self.role != "public" and not self.signed_in:
                        self.sign_in()
                    self.step()
                except Retry:
                    time.sleep(0.5 + self.rng.random())
                if self.think:
                    time.sleep(self.rng.random() * self.think)
        except BaseException as error:  # the test reports it; a thread must not die silently
            self.error = error

    def sign_in(self) -> None:
        page = self.get("/login")
        form = {
            "username": self.username,
            "password": PASSWORD,
            "csrf_token": self.token(page.text),
        }
        response = self.post("/login", form, referer="/login")
        if "/admin" not in response.url:
            self.stats.record("error", 0, f"login of {self.username} not accepted", 200)
            raise Retry("login")
        self.signed_in = True

    def step(self) -> None:
        tasks = TASKS[self.role]
        name = self.rng.choices(list(tasks), weights=list(tasks.values()))[0]
        getattr(self, name)()

    # -- the panel -----------------------------------------------------------------------
    @property
    def view(self) -> str:
        return WORK[self.role][0]

    def browse(self) -> None:
        page = self.get(f"/admin/{self.view}/")
        tabs = TAB.findall(page.text)
        if tabs:
            self.get(self.rng.choice(tabs).replace("&amp;", "&"), "tab")
        self.get(f"/admin/{self.view}/?search={self.rng.choice(['学习班', '心', '2026', '培训'])}")

    def add_project(self) -> None:
        form_page = self.get("/admin/projects/new/")
        if self.discipline is None:
            match = DISCIPLINE.search(form_page.text)
            self.discipline = match.group(1) if match else ""
        name = f"集群{self.number}-{next(self.serial)}-{uuid.uuid4().hex[:6]}项目"
        data = project_form(name, self.username, self.discipline, self.token(form_page.text))
        try:
            response = self.post("/admin/projects/new/", data, referer="/admin/projects/new/")
        except Retry:
            self.ledger.add("maybe_created", name)
            raise
        if not response.history:  # the form came back: refused
            self.stats.record("error", 0, f"project form refused for {self.username}", 200)
            self.ledger.add("maybe_created", name)
            return
        self.ledger.add("created", {name: self.username})
        found = self.get(f"/admin/projects/?search={name}", "search own project")
        ids = ROWID.findall(found.text)
        if len(ids) == 1:
            self.mine.append(int(ids[0]))

    def act(self, action: str, ids: list[int], list_path: str, extra: dict | None = None):
        """The list's bulk form; records the acknowledged moves."""
        page = self.get(list_path)
        data = {
            "action": action,
            "rowid": [str(i) for i in ids],
            "csrf_token": self.token(page.text),
        }
        data.update(extra or {})
        response = self.post(f"/admin/{self.view}/action/", data, referer=list_path)
        done = sum(int(n) for n in DONE.findall(response.text))
        skipped = sum(int(n) for n in SKIPPED.findall(response.text))
        source, target = MOVES[(self.role, action)]
        if done == len(ids):
            for project_id in ids:
                self.ledger.add("moved", (project_id, source, target))
        elif done:
            with self.ledger.lock:
                self.ledger.partial_moves += 1
        elif not skipped:
            self.stats.record(
                "error", 0, f"{action} by {self.username}: no answer on the page", 200
            )
        return done

    def report_own(self) -> None:
        if not self.mine:
            return self.add_project()
        count = min(len(self.mine), self.rng.randint(1, 3))
        ids, self.mine = self.mine[:count], self.mine[count:]
        self.act("report", ids, "/admin/projects/")
        return None

    def work_queue(self) -> None:
        """A society or the committee: tick 1–3 rows of the tab it opens on, then
        上报 / 公布 them, or now and then 设为可修改 with a reason."""
        page = self.get(f"/admin/{self.view}/")
        rows = [int(i) for i in ROWID.findall(page.text)]
        if not rows:
            return
        ids = self.rng.sample(rows, min(len(rows), self.rng.randint(1, 3)))
        if self.rng.random() < 0.2:
            extra = {"reason_confirmed": "1", "reason": "集群测试：请补充材料后再上报"}
            self.act("unlock", ids, f"/admin/{self.view}/", extra)
        else:
            self.act(WORK[self.role][2], ids, f"/admin/{self.view}/")

    def export(self) -> None:
        kind = self.rng.choice(["csv", "xlsx"])
        response = self.get(f"/admin/{self.view}/export/{kind}/")
        match = JOB_URL.search(response.url)
        if not match:
            return  # small enough to be answered at once
        self.ledger.add("jobs", match.group(1))
        for _ in range(40):
            page = self.get(response.url, "job page")
            link = DOWNLOAD.search(page.text)
            if link:
                self.get(link.group(1), "job download")
                with self.ledger.lock:
                    self.ledger.downloads += 1
                return
            if "重新导出" in page.text or "请重新导出" in page.text:
                return  # failed: the page offers to export again
            time.sleep(0.5)

    def import_workbook(self) -> None:
        if self.role != "branch":
            return self.browse()
        template = self.get("/admin/import/template/").content
        names = [f"集群导入{self.number}-{next(self.serial)}-{uuid.uuid4().hex[:6]}" for _ in "ab"]
        data = fill_template(template, names)
        page = self.get("/admin/import/")
        files = {"file": ("projects.xlsx", data, "application/octet-stream")}
        upload = self.post(
            "/admin/import/upload/", {"csrf_token": self.token(page.text)}, "/admin/import/",
            files=files,
        )  # fmt: skip
        match = BATCH_URL.search(upload.url)
        if not match:
            if any(t in upload.text for t in RETRY_TEXTS):
                # The database went away mid-upload: the page says so and to try again.
                self.stats.record("retry", 0, f"import upload for {self.username}", 200)
                raise Retry
            flashed = FLASH.search(upload.text)
            reason = " ".join(re.sub(r"<[^>]+>", " ", flashed.group(1)).split()) if flashed else "?"
            self.stats.record("error", 0, f"import refused for {self.username}: {reason}", 200)
            return None
        batch = f"/admin/import/batch/{match.group(1)}/"
        try:
            done = self.post(batch + "confirm/", {"csrf_token": self.token(upload.text)}, batch)
        except Retry:
            for name in names:
                self.ledger.add("maybe_created", name)
            raise
        if "导入完成" in done.text:
            for name in names:
                self.ledger.add("created", {name: self.username})
            with self.ledger.lock:
                self.ledger.imports += 1
        return None

    # -- the public catalog --------------------------------------------------------------
    def catalog(self) -> None:
        page = self.get("/", "catalog")
        self.get(f"/?q={self.rng.choice(['心', '学习班', '中医', '护理'])}", "catalog search")
        ids = PUBLIC_ID.findall(page.text)
        if ids:
            self.get(f"/projects/{self.rng.choice(ids)}", "catalog project")

    def api(self) -> None:
        self.get(f"/api/v1/projects?page={self.rng.randint(1, 3)}", "api")


TASKS = {
    "branch": {"browse": 4, "add_project": 3, "report_own": 2, "export": 1, "import_workbook": 1},
    "issuer": {"browse": 4, "add_project": 3, "report_own": 2, "export": 1},
    "society": {"browse": 3, "work_queue": 4, "export": 1},
    "committee": {"browse": 3, "work_queue": 4, "export": 1},
    "public": {"catalog": 3, "api": 1},
}


def project_form(name: str, username: str, discipline: str, token: str) -> dict:
    """The 添加项目 form as a person fills it (issuers give their approved number)."""
    issuer = ROLE[username] == "issuer"
    data = {
        **FILLED_FORM,
        "csrf_token": token,
        "name": name,
        "level": "national" if issuer else "society_i",
        "discipline": discipline,
        "organizer": ORGANIZER[username],
    }
    if issuer:
        data["project_no"] = f"2026-JQ-{uuid.uuid4().hex[:10]}(国)"
    return data


def fill_template(template: bytes, names: list[str]) -> bytes:
    """Rows under the unit's own 批量导入 template (headers without their ``*``)."""
    keys = [str(key) for key in range(1, len(names) + 1)]
    return fill(
        load_workbook(io.BytesIO(template)),
        [project_row(key, 项目名称=name) for key, name in zip(keys, names, strict=True)],
        [lecturer_row(key) for key in keys],
    )


def run_users(base: str, verify: str, users: int, seconds: float, *, think: float = 0.0,
              stats: Stats | None = None, ledger: Ledger | None = None,
              ramp: float = 0.1):  # fmt: skip
    """Start ``users`` virtual users for ``seconds``; returns (threads, stats, ledger)
    without waiting (``join_users`` waits)."""
    stats, ledger = stats or Stats(), ledger or Ledger()
    deadline = time.monotonic() + seconds
    threads = [
        VirtualUser(
            n,
            MIX[n % len(MIX)],
            base,
            verify,
            deadline=deadline,
            stats=stats,
            ledger=ledger,
            think=think,
        )
        for n in range(users)
    ]
    # People do not all sign in in the same second: the users arrive over the first tenth
    # of the run (a login is a CPU-second of password hashing under load).
    for n, thread in enumerate(threads):
        thread.delay = n * (seconds * ramp / users)
        thread.start()
    return threads, stats, ledger


def join_users(threads: list[VirtualUser], grace: float = 90.0) -> list[str]:
    """Wait for every user to finish its last step; the errors any of them died of."""
    end = time.monotonic() + grace
    for thread in threads:
        thread.join(timeout=max(0.1, end - time.monotonic()))
    problems = [f"{t.name}: still running" for t in threads if t.is_alive()]
    problems += [f"{t.name}: {t.error!r}" for t in threads if t.error is not None]
    return problems
