"""Time the public search: median server time of a request, on the demo data and on a
large catalog of published projects.

    .venv/bin/python bench/public_search.py                 # demo data and 50,000 projects
    .venv/bin/python bench/public_search.py --projects 5000 --repeat 10

Each scenario builds a fresh SQLite file database with the Alembic migrations. The large
catalog is bulk-inserted through SQLAlchemy Core with its state set to published directly:
that is allowed in this benchmark database only, never in the application, where every state
change goes through the workflow engine. Requests go through Flask's test client, without an
app context held around them, so each one opens and closes its own session as in production.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade
from sqlalchemy import insert, select

from app import create_app
from demo import seed
from extensions import db
from models import (
    Discipline,
    Lecturer,
    Project,
    ProjectLevel,
    ProjectMode,
    ProjectState,
    Unit,
    UnitKind,
)

URLS = (
    "/",
    "/?q=心血管",
    "/?year=2026&level=society_i&date_from=2026-03-01&date_to=2026-06-30",
    "/?sort=-credits&page=50",
    "/api/v1/projects",
    "/api/v1/projects?per_page=100",
)
CHUNK = 5_000


def make_app(path: Path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        seed(db.session)
        db.session.commit()
    return app


def _project_row(i: int, owner: Unit, discipline_ids: list[int], now: datetime) -> dict:
    rng = random.Random(i)
    year = 2025 + i % 2
    start = date(year, 1, 1) + timedelta(days=rng.randrange(360))
    issuer = owner.kind is UnitKind.ISSUER
    return {
        "year": year,
        "project_no": f"{year}-B-{i:06d}",
        "name": f"{rng.choice(('心血管', '儿科', '针灸', '急诊', '护理'))}进展学习班 第{i}期",
        "level": (ProjectLevel.NATIONAL if i % 3 else ProjectLevel.BEIJING)
        if issuer
        else ProjectLevel.SOCIETY_I,
        "discipline_id": rng.choice(discipline_ids),
        "organizer": owner.name,
        "principal": f"负责人{i % 997}",
        "principal_title": "主任医师",
        "contact": "联系人",
        "phone": "010-12345678",
        "start_date": start,
        "end_date": start + timedelta(days=i % 4),
        "venue": "北京市",
        "mode": ProjectMode.FACE_TO_FACE,
        "audience": "临床医师",
        "planned_participants": 50 + i % 300,
        "theory_hours": 12,
        "practice_hours": 0,
        "credits": 1 + (i % 20) * 0.5,
        "state": ProjectState.PUBLISHED,
        "owner_unit_id": owner.id,
        "society_id": owner.society_id,
        "committee_id": owner.committee_id,
        "reported_at": now,
        "published_at": now - timedelta(seconds=i),
        "version": 1,
        "created_at": now,
        "updated_at": now - timedelta(seconds=i),
    }


def bulk_publish(app, count: int) -> None:
    """Insert ``count`` published projects with two lecturers each, in chunks."""
    with app.app_context():
        session = db.session
        owners = list(
            session.scalars(select(Unit).where(Unit.kind.in_([UnitKind.BRANCH, UnitKind.ISSUER])))
        )
        discipline_ids = list(session.scalars(select(Discipline.id)))
        first_id = (session.scalar(select(db.func.max(Project.id))) or 0) + 1
        now = datetime(2026, 6, 1)
        for start in range(0, count, CHUNK):
            ids = range(first_id + start, first_id + min(start + CHUNK, count))
            rows = [
                {"id": pid, **_project_row(pid, owners[pid % len(owners)], discipline_ids, now)}
                for pid in ids
            ]
            session.execute(insert(Project.__table__), rows)
            lecturers = [
                {"project_id": pid, "position": n, "name": f"教师{n}", "topic": "专题", "hours": 2}
                for pid in ids
                for n in (0, 1)
            ]
            session.execute(insert(Lecturer.__table__), lecturers)
        session.commit()


def median_ms(client, url: str, repeat: int) -> float:
    response = client.get(url)  # warm-up: templates compiled, connections opened
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    return statistics.median(times) * 1000


def published_count(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(db.func.count(Project.id)).where(Project.state == ProjectState.PUBLISHED)
        )


def run(label: str, app, repeat: int) -> None:
    client = app.test_client()
    print(f"\n{label}: {published_count(app):,} published projects, median of {repeat}")
    for url in URLS:
        print(f"  {median_ms(client, url, repeat):8.1f} ms  GET {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run("Demo data", make_app(Path(tmp) / "demo.sqlite"), args.repeat)
        app = make_app(Path(tmp) / "large.sqlite")
        started = time.perf_counter()
        bulk_publish(app, args.projects)
        elapsed = time.perf_counter() - started
        print(f"\n(bulk insert of {args.projects:,} projects: {elapsed:.1f} s)")
        run("Large catalog", app, args.repeat)
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
