"""Every time the panel shows is Beijing time, written one way (``2026-11-27 00:30``),
whatever the page: times are stored as naive UTC and converted only when shown."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from models import Project, ProjectEvent, Unit, User

# 16:30 UTC is 00:30 the next day in Beijing (UTC+8): a page that showed the stored
# value, or only its date, would say 2026-11-26.
STORED_UTC = datetime(2026, 11, 26, 16, 30)
SHOWN = "2026-11-27 00:30"


def _stamp(session, model, row_id: int, *columns: str) -> None:
    session.execute(
        update(model).where(model.id == row_id).values(dict.fromkeys(columns, STORED_UTC))
    )
    session.commit()


def test_project_details_show_beijing_time(login_as, session, demo):
    owner = demo["bma_cardio"]
    project = session.scalars(
        select(Project).where(Project.owner_unit_id == owner.unit_id).order_by(Project.id)
    ).first()
    event = session.scalars(
        select(ProjectEvent).where(ProjectEvent.project_id == project.id)
    ).first()
    _stamp(session, Project, project.id, "created_at", "updated_at")
    _stamp(session, ProjectEvent, event.id, "created_at")

    html = login_as("bma_cardio").get(f"/admin/projects/details/?id={project.id}")
    text = html.get_data(as_text=True)

    assert html.status_code == 200
    # created_at, updated_at (details table) and the history row
    assert text.count(SHOWN) >= 3, text
    assert "2026-11-26" not in text


def test_unit_and_account_details_show_beijing_time(login_as, session, demo):
    branch_user = demo["bma_cardio"]
    _stamp(session, Unit, branch_user.unit_id, "created_at", "updated_at")
    _stamp(session, User, branch_user.id, "created_at")
    browser = login_as("bjcme")

    for url in (
        f"/admin/units/details/?id={branch_user.unit_id}",
        f"/admin/users/details/?id={branch_user.id}",
    ):
        response = browser.get(url)
        assert response.status_code == 200, url
        assert SHOWN in response.get_data(as_text=True), url
