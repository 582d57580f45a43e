"""Migration 0010 (disciplines per committee) on a database with two committee
trees: the first keeps the rows, the second gets its own copy, and every
project points at its own committee's copy. Both backends."""

from __future__ import annotations

from datetime import date

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from app import create_app
from extensions import db
from models import Project, ProjectLevel, ProjectMode, ProjectState, Unit
from tests.conftest import throwaway_database


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    with throwaway_database(request.param, tmp_path, prefix="cme_mig") as url:
        yield url


def _project(conn, name, owner, committee, discipline_id) -> int:
    values = {
        "year": 2026,
        "name": name,
        "level": ProjectLevel.NATIONAL,
        "discipline_id": discipline_id,
        "organizer": "主办",
        "principal": "张医生",
        "contact": "李老师",
        "phone": "010-87654321",
        "start_date": date(2026, 5, 1),
        "end_date": date(2026, 5, 3),
        "venue": "北京",
        "mode": ProjectMode.FACE_TO_FACE,
        "audience": "医师",
        "planned_participants": 10,
        "theory_hours": 1,
        "practice_hours": 0,
        "credits": 1,
        "state": ProjectState.DRAFT,
        "owner_unit_id": owner,
        "committee_id": committee,
        "version": 1,
    }
    return conn.execute(insert(Project.__table__).values(values).returning(Project.id)).scalar_one()


def test_each_committee_gets_its_own_copy(fresh_url):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": fresh_url})
    with app.app_context():
        upgrade(revision="0009")
        with db.engine.begin() as conn:
            units = Unit.__table__
            contact = {
                "address": "地址",
                "manager": "负责人",
                "phone": "010-1",
                "postal_code": "100000",
            }
            ids = {}
            for key, kind, parent in (
                ("bj", "committee", None),
                ("sh", "committee", None),
                ("bj_issuer", "issuer", "bj"),
                ("sh_issuer", "issuer", "sh"),
            ):
                ids[key] = conn.execute(
                    insert(units)
                    .values(
                        name=key,
                        kind=kind,
                        parent_id=ids.get(parent),
                        parent_kind="committee" if parent else None,
                        root_id=ids.get(parent),
                        active=True,
                        **contact,
                    )
                    .returning(units.c.id)
                ).scalar_one()
            for order, name in enumerate(("内科", "外科")):
                conn.execute(
                    text("INSERT INTO disciplines (name, sort_order, active) VALUES (:n, :o, :a)"),
                    {"n": name, "o": order, "a": name == "内科"},
                )
            surgery = conn.execute(text("SELECT id FROM disciplines WHERE name = '外科'")).scalar()
            bj_project = _project(conn, "北京项目", ids["bj_issuer"], ids["bj"], surgery)
            sh_project = _project(conn, "上海项目", ids["sh_issuer"], ids["sh"], surgery)

        upgrade(revision="0010")
        with db.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, committee_id, name, sort_order, active FROM disciplines ORDER BY id"
                )
            ).all()
            by_tree = {(r.committee_id, r.name): r for r in rows}
            assert len(rows) == 4
            assert set(by_tree) == {(ids[c], n) for c in ("bj", "sh") for n in ("内科", "外科")}
            # Order and status are copied; the first committee keeps the old ids.
            assert by_tree[(ids["bj"], "外科")].id == surgery
            assert by_tree[(ids["sh"], "外科")].sort_order == 1
            assert (
                by_tree[(ids["sh"], "外科")].active is False
                or by_tree[(ids["sh"], "外科")].active == 0
            )
            pointed = dict(conn.execute(text("SELECT id, discipline_id FROM projects")).all())
            assert pointed[bj_project] == surgery
            assert pointed[sh_project] == by_tree[(ids["sh"], "外科")].id
            # A committee's list is unique by name within it only.
            with pytest.raises(IntegrityError):
                conn.execute(
                    text(
                        "INSERT INTO disciplines (committee_id, name, sort_order, active)"
                        " VALUES (:c, '内科', 5, true)"
                    ),
                    {"c": ids["sh"]},
                )
            conn.rollback()

        # Back to one global list: projects follow the oldest row of each name.
        downgrade(revision="0009")
        with db.engine.connect() as conn:
            names = conn.execute(text("SELECT name FROM disciplines ORDER BY id")).scalars().all()
            assert names == ["内科", "外科"]
            pointed = set(conn.execute(text("SELECT discipline_id FROM projects")).scalars())
            assert pointed == {surgery}
        db.engine.dispose()


def test_without_a_committee_the_orphan_rows_go(fresh_url):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": fresh_url})
    with app.app_context():
        upgrade(revision="0009")
        with db.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO disciplines (name, sort_order, active) VALUES ('x', 0, true)")
            )
        upgrade()
        with db.engine.connect() as conn:
            assert (
                conn.execute(select(text("count(*)")).select_from(text("disciplines"))).scalar()
                == 0
            )
        db.engine.dispose()
