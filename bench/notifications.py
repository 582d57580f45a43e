"""Notifications benchmark (not a test): the committee publishes 500 projects in
one bulk action with notifications on and off; the ratio of the medians (target
≤ 1.3) and the SQL statements of the action at 50 and 500 rows (target: equal).

    .venv/bin/python -m bench.notifications                     # SQLite in a temporary file
    .venv/bin/python -m bench.notifications --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Each backend gets a fresh database (migrated, demo seeded). Every account has an
e-mail address and MAIL_SERVER is set, so "on" also composes and queues the
mails (sending happens after the commit, outside the measured transaction). The
rows of each repetition are made beforehand through the engine (created,
reported by their branch or issuer, reported by the society) across the demo's
four entry units; the measured part is ``apply_bulk(PUBLISH)`` plus the commit.
On and off alternate, after one warm-up of each.
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import event, select, update

from bench import common
from bench.database import fresh_database

ROWS = 500
REPEATS = 7
OWNERS = ("bma_cardio", "bma_peds", "tcm_acu", "pumch")
RESULTS = common.RESULTS_DIR / "notifications.md"


def make_rows(session, accounts, n: int) -> list[int]:
    """``n`` projects at the committee, spread over the four entry units."""
    import workflow
    from models import Lecturer, Project
    from tests.factories import project_fields
    from workflow import Action

    by_owner: dict[str, list[int]] = {k: [] for k in OWNERS}
    for i in range(n):
        key = OWNERS[i % len(OWNERS)]
        project = Project(**project_fields(session, accounts[key]))
        project.lecturers = [Lecturer(name="王教授", topic="总论", hours=2)]
        workflow.create(session, accounts[key], project)
        by_owner[key].append(project.id)
    for key, ids in by_owner.items():
        workflow.apply_bulk(session, Action.REPORT, accounts[key], ids)
    society_ids = by_owner["bma_cardio"] + by_owner["bma_peds"]
    workflow.apply_bulk(session, Action.REPORT, accounts["bma"], society_ids)
    workflow.apply_bulk(session, Action.REPORT, accounts["bjtcm"], by_owner["tcm_acu"])
    session.commit()
    return [i for ids in by_owner.values() for i in ids]


def publish(app, session, accounts, ids, *, on: bool) -> tuple[float, int]:
    """Seconds and SQL statements of one bulk publish and its commit."""
    import workflow
    from extensions import db
    from workflow import Action

    app.config["NOTIFICATIONS_ENABLED"] = on
    statements = []
    listener = lambda *args: statements.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        start = time.perf_counter()
        result = workflow.apply_bulk(session, Action.PUBLISH, accounts["bjcme"], ids)
        session.commit()
        elapsed = time.perf_counter() - start
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(result.done) == len(ids), result.skipped[:3]
    return elapsed, len(statements)


def run(url: str, label: str) -> dict:
    from flask_migrate import upgrade

    from app import create_app
    from demo import seed
    from extensions import db
    from models import Message, OutboxMail, User

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": 9,  # never reached: nothing is sent inside the measured part
        }
    )
    with app.app_context():
        upgrade()
        session = db.session
        seed(session)
        session.execute(update(User).values(email=User.username + "@example.cn"))
        session.commit()
        accounts = {u.username: u for u in session.scalars(select(User))}
        counts = {}
        for size in (50, ROWS):
            for on in (True, False):
                ids = make_rows(session, accounts, size)
                counts[(size, on)] = publish(app, session, accounts, ids, on=on)[1]

        def publish_all(on: bool) -> float:
            ids = make_rows(session, accounts, ROWS)
            return publish(app, session, accounts, ids, on=on)[0]

        medians = common.on_off(publish_all, REPEATS)
        messages = session.scalar(select(db.func.count()).select_from(Message))
        mails = session.scalar(select(db.func.count()).select_from(OutboxMail))
    return {
        "label": label,
        **medians,
        "counts": counts,
        "messages": messages,
        "mails": mails,
    }


def report(results: list[dict]) -> str:
    lines = [
        "# Notifications: bulk publish with notifications on ÷ off",
        "",
        f"`python -m bench.notifications` — the committee publishes {ROWS} projects of four",
        "entry units (two societies) in one bulk action; median of "
        f"{REPEATS} repetitions after a warm-up,",
        "on and off alternating; every account has an e-mail address, so *on* also queues the",
        "mails (sent after the commit, not measured). Target: ratio ≤ 1.3; statements equal at",
        "50 and 500 rows.",
        "",
        "| backend | off (s) | on (s) | on ÷ off | statements off 50 / 500 | on 50 / 500 |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        c = r["counts"]
        lines.append(
            f"| {r['label']} | {r['off']:.3f} | {r['on']:.3f} | {r['ratio']:.2f} |"
            f" {c[(50, False)]} / {c[(ROWS, False)]} | {c[(50, True)]} / {c[(ROWS, True)]} |"
        )
    lines += [
        "",
        "*On* adds three statements whatever the rows: the receiving units with their accounts"
        " (one SELECT; which projects each unit may see is decided from those rows by"
        " `permissions.can_view_project`), the messages (one INSERT) and the mails (one"
        " INSERT). One message per receiving unit: six per publish here (four owners, two"
        " societies).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="PostgreSQL server URL (a database is created and dropped)")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    results = []
    if not args.no_sqlite:
        with fresh_database("sqlite", "notify") as url:
            results.append(run(url, "SQLite"))
    if args.pg:
        with fresh_database("postgresql", "notify", args.pg) as url:
            results.append(run(url, "PostgreSQL"))
    common.write_report(RESULTS, report(results))


if __name__ == "__main__":
    main()
