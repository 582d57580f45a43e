"""Error pages: Chinese, in the panel's or the public layout, with the status code kept and a
link back to the user's list; JSON under /api/."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app import create_app
from extensions import db
from models import Project, Unit
from tests.admin.conftest import own_context_browser


def _links(html: str) -> list[str]:
    section = re.search(r'<section class="cme-error.*?</section>', html, re.S)
    assert section, "not our error page"
    return re.findall(r'href="([^"]+)"', section.group(0))


def _project_of(session, unit_name_part: str) -> int:
    return session.scalar(
        select(Project.id)
        .join(Unit, Project.owner_unit_id == Unit.id)
        .where(Unit.name.contains(unit_name_part))
        .limit(1)
    )


def test_another_branchs_project_is_a_chinese_404_with_header_and_way_back(login_as, session):
    foreign = _project_of(session, "心血管")
    assert foreign is not None
    browser = login_as("bma_peds")
    response = browser.get(f"/admin/projects/details/?id={foreign}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "页面不存在" in html and "不在本单位的列表中" in html
    assert "儿科学分会" in html  # the header names the signed-in unit
    assert "Not Found" not in html and "requested URL" not in html
    links = _links(html)
    assert "/admin/" in links and "/admin/projects/" in links
    # The links work.
    assert all(browser.get(link).status_code == 200 for link in links)


def test_a_branch_opening_the_audit_list_is_told_in_chinese(login_as):
    response = login_as("bma_peds").get("/admin/audit/")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "您无权打开此页面" in html and "Forbidden" not in html
    assert "/admin/projects/" in _links(html)


def test_the_reviewers_way_back_is_their_own_list(login_as):
    html = login_as("bjcme").get("/admin/nope").get_data(as_text=True)
    assert "/admin/audit/" in _links(html)


def test_unknown_admin_url_signed_in_and_anonymous(login_as, browser):
    anonymous = browser.get("/admin/nope")
    assert anonymous.status_code == 404
    assert "页面不存在" in anonymous.get_data(as_text=True)
    assert _links(anonymous.get_data(as_text=True)) == ["/", "/login"]
    signed_in = login_as("bma_cardio").get("/admin/nope/deeper")
    assert signed_in.status_code == 404
    assert "心血管病学分会" in signed_in.get_data(as_text=True)


def test_public_404_uses_the_public_layout(browser):
    response = browser.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "页面不存在" in html
    assert 'href="/login"' in html  # the public header's staff login
    assert _links(html) == ["/", "/login"]


def test_wrong_method_is_405_in_chinese_with_allow(login_as):
    browser = login_as("bma_cardio")
    response = browser.post("/admin/help/", token_from="/admin/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "此处不能进行该操作" in response.get_data(as_text=True)


def test_expired_form_says_so_and_links_back(login_as):
    browser = login_as("bma_cardio")
    response = browser.client.post(
        "/admin/projects/new/",
        data={"name": "x", "csrf_token": "expired"},
        headers={"Referer": "http://localhost/admin/projects/new/"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "页面已过期" in html and "重新提交" in html
    assert _links(html)[0] == "http://localhost/admin/projects/new/"
    assert "返回表单" in html


@pytest.mark.parametrize(
    ("method", "url", "status", "code"),
    [
        ("get", "/api/v1/projects/abc", 404, "not_found"),
        ("get", "/api/v1/projects/999999", 404, "not_found"),
        ("get", "/api/other", 404, "not_found"),
        ("delete", "/api/v1/projects", 405, "method_not_allowed"),
    ],
)
def test_api_errors_stay_json(browser, method, url, status, code):
    response = getattr(browser.client, method)(url)
    assert response.status_code == status
    assert response.is_json
    assert response.get_json()["error"]["code"] == code


def test_english_is_a_switch(browser):
    browser.get("/lang/en")
    html = browser.get("/admin/nope").get_data(as_text=True)
    assert "Page not found" in html


@pytest.fixture
def failing_app(database_url, demo_accounts):
    """A second app on the same database with a route that fails: test-only, never in the
    product. Exceptions are handled as in production (not re-raised to the test)."""
    app = create_app(
        {
            "TESTING": True,
            "PROPAGATE_EXCEPTIONS": False,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SUPPORT_PHONE": "400-812-8811",
        }
    )

    @app.get("/admin/test-failure")
    def failure():
        raise RuntimeError("secret detail that must not reach the page")

    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_failing_view_answers_a_chinese_500_without_a_traceback(failing_app):
    browser = own_context_browser(failing_app)
    assert browser.login("bma_cardio").status_code == 302
    response = browser.get("/admin/test-failure")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "系统错误" in html and "400-812-8811" in html
    assert "心血管病学分会" in html
    assert "Traceback" not in html and "secret detail" not in html
    assert "/admin/projects/" in _links(html)
