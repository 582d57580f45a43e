"""Every time the panel shows is Beijing time, written one way (``2026-11-27 00:30``),
whatever the page: times are stored as naive UTC and converted only when shown."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
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


def test_project_details_show_beijing_time(login_as, session, demo_accounts):
    owner = demo_accounts["bma_cardio"]
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


def test_unit_and_account_details_show_beijing_time(login_as, session, demo_accounts):
    branch_user = demo_accounts["bma_cardio"]
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


def test_a_moment_shows_the_same_beijing_time_on_pages_and_in_exports(
    login_as, session, demo_accounts
):
    """One published project stamped at a fixed UTC instant: its details page, the
    committee's and the entry unit's CSV and XLSX exports all say the Beijing time."""
    owner = demo_accounts["bma_cardio"]
    project = session.scalars(
        select(Project)
        .where(Project.owner_unit_id == owner.unit_id, Project.published_at.is_not(None))
        .order_by(Project.id)
    ).first()
    _stamp(session, Project, project.id, "reported_at", "published_at")
    name = project.name

    for username, view in (("bjcme", "audit"), ("bma_cardio", "projects")):
        browser = login_as(username)
        details = browser.get(f"/admin/{view}/details/?id={project.id}").get_data(as_text=True)
        assert details.count(SHOWN) >= 2, username  # 上报时间 and 公布时间

        response = browser.get(f"/admin/{view}/export/csv/?status=all")
        body = response.get_data()
        response.close()
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        header = rows[0]
        row = next(r for r in rows[1:] if r[header.index("项目名称")] == name)
        assert row[header.index("上报时间")] == row[header.index("公布时间")] == SHOWN, username

        response = browser.get(f"/admin/{view}/export/xlsx/?status=all")
        body = response.get_data()
        response.close()
        sheet = openpyxl.load_workbook(io.BytesIO(body)).active
        header = [cell.value for cell in sheet[1]]
        row = next(
            r for r in sheet.iter_rows(min_row=2) if r[header.index("项目名称")].value == name
        )
        for column in ("上报时间", "公布时间"):
            cell = row[header.index(column)]
            # A real date-time cell (sortable in Excel), shown to the minute.
            assert cell.value == datetime(2026, 11, 27, 0, 30), (username, column)
            assert cell.number_format == "yyyy-mm-dd hh:mm"
        browser.logout()
