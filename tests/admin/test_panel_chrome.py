"""The panel's chrome around the lists speaks Chinese: page-size menu, empty list, menu toggle."""

from __future__ import annotations


def test_page_size_menu_and_toggle_are_chinese(login_as):
    html = login_as("bma_cardio").get("/admin/projects/").get_data(as_text=True)
    for size in (20, 50, 100, 200):
        assert f"每页 {size} 条" in html
    assert " items<" not in html and "Toggle navigation" not in html
    assert 'aria-label="显示菜单"' in html


def test_an_empty_list_says_what_to_do(login_as):
    response = login_as("bma_cardio").get("/admin/projects/?search=no-such-project-anywhere")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "没有符合条件的项目" in html
    assert "表中没有任何记录" not in html
