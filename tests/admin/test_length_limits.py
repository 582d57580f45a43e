"""Bounded input (issue 15, findings 9 and 11): a request body over the limit
is answered 413 in Chinese; remarks, lecturer fields, unit fields and reasons
have a length limit with a Chinese field message, and nothing is stored; the
reason page's Cancel link never takes a ``javascript:`` address."""

from __future__ import annotations

from sqlalchemy import select

from models import Project, ProjectEvent, ProjectState, rules
from tests.admin.test_projects import act
from tests.factories import make_project


def test_a_body_over_the_limit_is_413_in_chinese(login_as, app):
    entry = login_as("pumch")
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit > 10 * 1024 * 1024  # the import's own limit fits under it
    response = entry.client.post(
        "/admin/projects/new/",
        data=b"x" * (limit + 1),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "太大" in response.get_data(as_text=True) or "过大" in response.get_data(as_text=True)


def test_long_remarks_and_lecturer_fields_are_refused(login_as, session, demo_accounts):
    project = make_project(session, demo_accounts["pumch"])
    session.commit()
    entry = login_as("pumch")
    page = entry.get(f"/admin/projects/edit/?id={project.id}")
    assert page.status_code == 200
    errors = rules.validate_project(
        {"remarks": "长" * (rules.MAX_REMARKS + 1), "venue": "地" * 201}, issuer=True
    )
    assert str(errors["remarks"]) == f"备注最多 {rules.MAX_REMARKS:,} 个字，当前 2,001 个字。"
    assert str(errors["venue"]) == "举办地点最多 200 个字，当前 201 个字。"
    lecturer = rules.validate_lecturer({"name": "王" * 51, "topic": "题", "unit": "单" * 201})
    assert set(lecturer) == {"name", "unit"}
    unit = rules.validate_unit(
        {
            "name": "名",
            "address": "址" * 201,
            "manager": "人",
            "phone": "010-12345678",
            "postal_code": "100000",
        }
    )
    assert set(unit) == {"address"}


def test_a_long_unit_field_is_a_field_message_not_a_500(login_as, demo_accounts, session):
    entry = login_as("bma")
    unit = demo_accounts["bma"].unit
    data = {
        "name": unit.name,
        "address": "址" * 5000,
        "manager": unit.manager,
        "phone": unit.phone,
        "postal_code": unit.postal_code,
    }
    response = entry.post(f"/admin/units/edit/?id={unit.id}", data)
    assert response.status_code == 200
    assert "最多 200 个字" in response.get_data(as_text=True)
    session.expire_all()
    assert demo_accounts["bma"].unit.address == unit.address


def test_a_long_reason_is_refused_and_changes_nothing(login_as, session, demo_accounts):
    project = make_project(session, demo_accounts["pumch"], ProjectState.PUBLISHED)
    session.commit()
    committee = login_as("bjcme")
    long_reason = "因" * (rules.MAX_REASON + 1)
    response = act(
        committee, "audit", "withdraw", [project.id], reason_confirmed="1", reason=long_reason
    )
    assert response.status_code == 200
    assert f"最多 {rules.MAX_REASON} 个字" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Project, project.id).state is ProjectState.PUBLISHED
    reasons = session.scalars(
        select(ProjectEvent.reason).where(ProjectEvent.project_id == project.id)
    )
    assert all(r is None or len(r) <= rules.MAX_REASON for r in reasons)


def test_the_cancel_link_is_never_a_script(login_as, session, demo_accounts):
    project = make_project(session, demo_accounts["pumch"], ProjectState.PUBLISHED)
    session.commit()
    committee = login_as("bjcme")
    for url in ("javascript:alert(1)", " javascript:alert(1)", "https://evil.example/"):
        response = committee.post(
            "/admin/audit/action/",
            {"action": "withdraw", "rowid": [str(project.id)], "url": url},
            token_from="/admin/audit/",
        )
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "alert(1)" not in body and "evil.example" not in body
