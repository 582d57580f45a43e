"""The public pages as a visitor sees them, and their query discipline."""

from __future__ import annotations

from datetime import date

import pytest
from public_catalog import add_project, expected

from models import ProjectState


def test_search_page_is_public_chinese_and_phone_ready(client, catalog):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert 'name="viewport"' in html
    assert "/admin/static/bootstrap/bootstrap4/css/bootstrap.min.css" in html
    assert 'href="/login"' in html and "工作人员登录" in html
    assert 'href="/lang/en"' in html and 'href="/lang/zh_Hans_CN"' in html
    assert "table-responsive" in html and "d-md-none" in html
    for column in (
        "项目编号",
        "学科",
        "项目名称",
        "主办单位",
        "项目负责人",
        "举办日期",
        "举办地点",
    ):
        assert f">{column}<" in html
    assert ">学分<" in html and "联系人/电话" in html and "拟招生人数" in html


def test_bootstrap_is_served_locally(client, app_on_empty_db):
    css = client.get("/admin/static/bootstrap/bootstrap4/css/bootstrap.min.css")
    assert css.status_code == 200


def test_language_switch(client, catalog):
    client.get("/lang/en", headers={"Referer": "http://localhost/"})
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Search published projects" in html and "Staff login" in html
    client.get("/lang/zh_Hans_CN")
    assert "查询已公布项目" in client.get("/").get_data(as_text=True)


def test_detail_page(client, catalog, session):
    project = add_project(
        session,
        catalog.accounts,
        "bma_peds",
        ProjectState.PUBLISHED,
        name="儿童<b>急救</b>技能培训",
        co_organizer="北京儿童医院",
        remarks="请携带执业证书",
        start_date=date(2026, 7, 1),
        end_date=date(2026, 7, 3),
    )
    session.commit()
    response = client.get(f"/projects/{project.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "儿童&lt;b&gt;急救&lt;/b&gt;技能培训" in html and "<b>急救" not in html
    assert project.project_no in html
    assert "北京儿童医院" in html and "请携带执业证书" in html
    assert "2026-07-01 – 2026-07-03" in html
    assert "王教授" in html and "总论" in html  # its lecturer
    permalink = f"http://localhost/projects/{project.id}"
    assert f'<link rel="canonical" href="{permalink}">' in html
    published = project.published_at.isoformat()
    assert f'datetime="{published}Z"' in html
    assert "公布日期" in html


def test_detail_link_is_stable(client, catalog, session):
    project = expected(session, {})[3]
    for _ in range(2):
        assert f'href="/projects/{project.id}"' in client.get("/?per_page=100").get_data(
            as_text=True
        )
    assert client.get(f"/projects/{project.id}").status_code == 200


def _statements(count_statements, client, url) -> int:
    client.get(url)  # warm-up: nothing cached is counted below
    with count_statements() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize(
    ("small", "large"),
    [
        ("/?per_page=2", "/?per_page=100"),
        ("/api/v1/projects?per_page=2", "/api/v1/projects?per_page=100"),
        (
            "/api/v1/projects?per_page=2&updated_since=2000-01-01",
            "/api/v1/projects?per_page=100&updated_since=2000-01-01",
        ),
    ],
)
def test_statement_count_does_not_grow_with_page_size(
    client, catalog, count_statements, small, large
):
    few = _statements(count_statements, client, small)
    many = _statements(count_statements, client, large)
    assert few == many
    assert many <= 6


def test_detail_and_export_statement_counts(client, catalog, session, count_statements):
    project = expected(session, {})[0]
    # The project, its lecturers, and its accepted report's 已举办 (public/held.py).
    assert _statements(count_statements, client, f"/projects/{project.id}") <= 3
    assert _statements(count_statements, client, f"/api/v1/projects/{project.id}") <= 3
    # The export reads in batches: a bounded number of statements for all rows.
    assert _statements(count_statements, client, "/export.csv") <= 3
