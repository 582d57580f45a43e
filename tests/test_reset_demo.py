"""``flask seed-demo --reset`` (``make reset-demo``): back to exactly the demo data."""

from __future__ import annotations

from sqlalchemy import func, select

from models import Project, Unit, UnitKind, User
from tests.factories import make_project, make_unit, make_user


def test_reset_brings_back_exactly_the_demo_data(demo_accounts, session, app_on_empty_db):
    def census():
        return (
            sorted(session.scalars(select(User.username))),
            session.scalar(select(func.count()).select_from(Unit)),
            session.scalar(select(func.count()).select_from(Project)),
        )

    session.expire_all()
    fresh = census()
    extra = make_unit(session, UnitKind.ISSUER, demo_accounts["bjcme"].unit, name="临时医院")
    make_project(session, make_user(session, extra, "temp_user"))
    session.commit()
    assert census() != fresh

    runner = app_on_empty_db.test_cli_runner()
    refused = runner.invoke(args=["seed-demo", "--reset"], input="n\n")
    assert refused.exit_code == 1
    session.expire_all()
    assert "temp_user" in census()[0]

    result = runner.invoke(args=["seed-demo", "--reset", "--yes"])
    assert result.exit_code == 0, result.output
    assert "35 projects, 13 execution reports" in result.output
    session.expire_all()
    assert census() == fresh
