"""The live counter under a bounded text field (static/admin/cme-counter.js), in
Chromium: it counts as one types ("已输入 3 / 200 字"), is read with the field
(aria-describedby) and announced politely; a paste longer than the field is not cut
by the browser but kept whole and shown over the limit in words (not colour only);
saving it is refused by the server with the field's limit, and nothing changes."""

from __future__ import annotations

import pytest

from models import Project
from tests.factories import make_project

# The development server may leave a static file's handle to the GC (see conftest).
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

PASTE = """(text) => {
  const field = document.querySelector('#name');
  field.focus();
  field.select();
  const data = new DataTransfer();
  data.setData('text/plain', text);
  const paste = {clipboardData: data, bubbles: true, cancelable: true};
  field.dispatchEvent(new ClipboardEvent('paste', paste));
}"""


def test_the_counter_counts_and_a_long_paste_is_kept_and_refused(people, session, demo_accounts):
    project = make_project(session, demo_accounts["pumch"])
    session.commit()
    name = project.name
    person = people()
    person.login("pumch")
    page = person.page
    person.go(f"/admin/projects/edit/?id={project.id}")

    field = page.locator("#name")
    counter = page.locator("#name-counter")
    assert counter.inner_text() == f"已输入 {len(name)} / 200 字"
    assert "name-counter" in field.get_attribute("aria-describedby").split()
    assert page.locator("#name-counter + [aria-live=polite]").count() == 1

    field.fill("")
    field.press_sequentially("心血管")
    assert counter.inner_text() == "已输入 3 / 200 字"
    assert "text-danger" not in counter.get_attribute("class")
    person.shot("counter-typing")

    long_text = "长" * 2000
    page.evaluate(PASTE, long_text)
    assert field.input_value() == long_text  # kept whole, not cut to 200
    words = counter.inner_text()
    assert "已输入 2,000 / 200 字" in words and "超出 1,800 字" in words
    assert "未作截断" in words
    assert "text-danger" in counter.get_attribute("class")
    page.wait_for_timeout(100)
    assert "超出 1,800 字" in page.locator("#name-counter + [aria-live=polite]").inner_text()
    person.shot("counter-over-the-limit")

    page.locator(".project-form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert page.get_by_text("项目名称最多 200 个字，当前 2,000 个字。").is_visible()
    assert "创建记录失败" not in page.content() and "保存记录失败" not in page.content()
    person.shot("counter-refused-by-the-server")
    session.expire_all()
    assert session.get(Project, project.id).name == name
