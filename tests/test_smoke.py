from sqlalchemy import func, select

from models import Project


def test_demo_seeds(demo, session):
    assert session.scalar(select(func.count()).select_from(Project)) == 32
