"""使用说明: every account finds it in the menu and reads its own unit's flow and duties, in
the manual's words, with the support contact from the configuration."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def support(app):
    saved = app.config["SUPPORT_PHONE"], app.config["SUPPORT_EMAIL"]
    app.config.update(SUPPORT_PHONE="400-812-8811", SUPPORT_EMAIL="help@example.org")
    yield
    app.config["SUPPORT_PHONE"], app.config["SUPPORT_EMAIL"] = saved


# account: (words only its page has, box highlighted in the flow)
ROLES = {
    "bjcme": ("最终审核和项目内容的公布", "北京市继续医学教育委员会"),
    "bma": ("审阅下级上报项目内容", "六学(协)会总会（行政单位）"),
    "bma_cardio": ("上报举办活动的项目内容至学（协）会总会", "六学(协)会分会（立项单位）"),
    "pumch": ("项目直接上报至北京市继续医学教育委员会", "发放证书单位（立项单位）"),
}


@pytest.mark.parametrize("username", list(ROLES))
def test_each_role_reads_its_flow_and_duties(support, login_as, username):
    browser = login_as(username)
    dashboard = browser.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/help/"' in dashboard and "使用说明" in dashboard
    response = browser.get("/admin/help/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    duty, own_box = ROLES[username]
    assert duty in html
    # The flow is drawn inline, without any external file.
    assert "<svg" in html and "<img" not in html
    svg = html[html.index('<svg class="cme-flow"') : html.rindex("</svg>")]
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    # The account's own box has the thick border.
    own = re.search(r'<rect[^>]*stroke-width="3"[^>]*/>\s*<text[^>]*>([^<]+)</text>', html, re.S)
    assert own and own.group(1).strip() == own_box
    assert "400-812-8811" in html and "help@example.org" in html
    # Other roles' duties are not on this page.
    for other, (other_duty, _) in ROLES.items():
        if other != username:
            assert other_duty not in html


def test_flows_follow_the_manual(login_as):
    branch = login_as("bma_cardio").get("/admin/help/").get_data(as_text=True)
    assert "三级单位结构" in branch and "二级单位结构" not in branch
    # The first flow drawn (the header has an icon of its own: the messages bell).
    start = branch.index('<svg class="cme-flow"')
    svg = branch[start : branch.index("</svg>", start)]
    order = [svg.index(box) for box in ("分会（立项单位）", "总会（行政单位）", "审核", "发布")]
    assert order == sorted(order)


def test_committee_sees_both_flows(login_as):
    html = login_as("bjcme").get("/admin/help/").get_data(as_text=True)
    assert "三级单位结构" in html and "二级单位结构" in html


def test_support_line_in_the_footer_only_when_configured(login_as, support, app):
    browser = login_as("bma")
    assert "联系电话：" in browser.get("/admin/").get_data(as_text=True)
    app.config["SUPPORT_PHONE"] = ""
    footer = browser.get("/admin/").get_data(as_text=True).split('class="cme-footer')[1]
    assert "联系电话" not in footer


def test_anonymous_is_sent_to_login(browser):
    response = browser.get("/admin/help/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_support_phone_comes_from_the_environment(monkeypatch):
    from app import create_app

    monkeypatch.setenv("SUPPORT_PHONE", "400-812-8811")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SUPPORT_PHONE"] == "400-812-8811"
    monkeypatch.delenv("SUPPORT_PHONE")
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SUPPORT_PHONE"] == ""
