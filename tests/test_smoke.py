from sqlalchemy import func, select

from models import Project


def test_demo_seeds(demo_accounts, session):
    assert session.scalar(select(func.count()).select_from(Project)) == 35
