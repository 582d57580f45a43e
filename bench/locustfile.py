"""The load test's visitors (locust, headless): a mixed workload on 127.0.0.1 only.

``BENCH_TARGET=ours`` (default): committee, society and branch accounts, in turn, log in
through the real form and then list, filter, open details, take a bulk action (five ticked
rows) and search the public catalog. ``BENCH_TARGET=peer``: the same visitors on the stock
Flask-Admin page (list, deeper page, details; it has no filters and no workflow action).
``BENCH_IDS`` names a JSON file with the ids each role may open and act on.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from urllib.parse import urlencode

from locust import FastHttpUser, constant, task
from requests.cookies import create_cookie

TARGET = os.environ.get("BENCH_TARGET", "ours")
with open(os.environ["BENCH_IDS"], encoding="utf-8") as handle:
    IDS = json.load(handle)
HOST = "127.0.0.1"
TOKEN = re.compile(
    r"<input[^>]*name=\"csrf_token\"[^>]*value=\"([^\"]+)\"|"
    r"<input[^>]*value=\"([^\"]+)\"[^>]*name=\"csrf_token\""
)
# role → (list, filter state, bulk action and its extra fields)
ROLES = {
    "committee": ("audit", "published", "unlock", {"reason_confirmed": "1", "reason": "压测"}),
    "society": ("review", "at_society", "report", {}),
    "branch": ("projects", "draft", "report", {}),
}
NEXT_ROLE = itertools.cycle(ROLES)


def _token(html: str) -> str:
    match = TOKEN.search(html)
    return (match.group(1) or match.group(2)) if match else ""


class Visitor(FastHttpUser):
    """One signed-in person using the panel without pause (a closed loop)."""

    wait_time = constant(0)
    default_headers = {"User-Agent": "cme-bench-visitor"}

    def on_start(self):
        self.role = next(NEXT_ROLE) if TARGET == "ours" else "committee"
        self.view, self.state, self.action, self.extra = ROLES[self.role]
        # Signed in once through the real form by the driver (bench/loadtest.py).
        for name, value in IDS["cookies"][self.role].items():
            self.client.cookiejar.set_cookie(create_cookie(name, value, domain=HOST))
        page = self.client.get(self._list_url(), name="list")
        self.token = _token(page.text)

    def _list_url(self) -> str:
        return "/admin/peer/" if TARGET == "peer" else f"/admin/{self.view}/"

    @task(4)
    def list_page(self):
        self.client.get(self._list_url(), name="list")

    @task(2)
    def filtered(self):
        if TARGET == "peer":
            self.client.get("/admin/peer/?page=1", name="filter")
            return
        url = f"/admin/{self.view}/?flt0_year={IDS['year']}&flt1_state={self.state}"
        self.client.get(url, name="filter")

    @task(2)
    def details(self):
        project_id = random.choice(IDS["visible"][self.role])
        base = "/admin/peer" if TARGET == "peer" else f"/admin/{self.view}"
        self.client.get(f"{base}/details/?id={project_id}", name="details")

    @task(1)
    def bulk(self):
        if TARGET == "peer":
            return
        rows = random.sample(IDS["actionable"][self.role], 5)
        fields = {"action": self.action, "rowid": [str(r) for r in rows], "csrf_token": self.token}
        fields.update(self.extra)
        # FastHttpSession would encode the list as one value: encode it as a browser does.
        body = urlencode(fields, doseq=True)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        self.client.post(f"/admin/{self.view}/action/", data=body, headers=headers, name="bulk")

    @task(1)
    def public_search(self):
        self.client.get("/", name="public search")
