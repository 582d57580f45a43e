"""The manual's workflow with the keyboard only (WCAG 2.1.1): the branch
tabs to its drafts in 我的项目, ticks each with Space, goes back to
上报所选项目 with Shift+Tab, presses Enter and confirms; the projects reach
the society. The keyboard's focus is visible on every control it lands on."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Project, ProjectState

# The development server may leave a static file's handle to the GC (see conftest).
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
MAX_TABS = 400
BUTTON = "上报所选项目"

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    type: el.type || null,
    value: el.value || null,
    cls: el.className || '',
    text: (el.innerText || '').trim(),
    checked: !!el.checked,
    label: el.getAttribute('aria-label'),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
    ring: style.boxShadow !== 'none',
  };
}"""


def focused(page) -> dict | None:
    return page.evaluate(FOCUSED)


def is_report_button(info: dict | None) -> bool:
    return bool(info and info["tag"] == "button" and info["text"].startswith(BUTTON))


@pytest.mark.parametrize("width", [1366, 390])
def test_report_drafts_with_the_keyboard_only(people, session, demo_accounts, width):
    cardio = people()
    page = cardio.page
    page.set_viewport_size({"width": width, "height": 900})
    questions: list[str] = []
    page.on("dialog", lambda dialog: questions.append(dialog.message))
    cardio.login("bma_cardio")
    drafts = session.scalars(
        select(Project.id)
        .where(
            Project.owner_unit_id == demo_accounts["bma_cardio"].unit_id,
            Project.state == ProjectState.DRAFT,
        )
        .order_by(Project.id)
    ).all()
    cardio.go("/admin/projects/")
    on_page = set(
        page.eval_on_selector_all("input.action-checkbox", "els => els.map(e => e.value)")
    )
    wanted = [str(i) for i in drafts if str(i) in on_page][:2]
    assert len(wanted) == 2, (drafts, on_page)

    # Tab through the page; Space on each wanted row's box.
    ticked: list[str] = []
    unseen_focus: list[dict] = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        info = focused(page)
        if info is None:
            continue
        if not (info["outline"] or info["ring"]):
            unseen_focus.append(info)
        if info["cls"] == "action-checkbox" and info["value"] in wanted:
            # Labelled by the project's name (勾选“…”), not by a title alone.
            assert (info["label"] or "").startswith("勾选“"), info
            page.keyboard.press("Space")
            assert focused(page)["checked"], info
            ticked.append(info["value"])
            if len(ticked) == len(wanted):
                break
    assert sorted(ticked) == sorted(wanted)
    cardio.shot(f"keyboard-ticked-{width}")

    # Back up to the button, now enabled and counting the ticks.
    for _ in range(MAX_TABS):
        page.keyboard.press("Shift+Tab")
        info = focused(page)
        if info and not (info["outline"] or info["ring"]):
            unseen_focus.append(info)
        if is_report_button(info):
            break
    assert is_report_button(info), info
    assert info["text"] == f"{BUTTON} ({len(wanted)})"
    cardio.shot(f"keyboard-button-{width}")
    assert unseen_focus == []

    # Enter presses it; the confirmation is answered yes (the fixture accepts dialogs).
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert questions, "上报 asks before it moves the projects"
    assert "已处理 2 项" in " ".join(page.locator(".alert").all_inner_texts())
    cardio.check_accessibility()
    cardio.shot(f"keyboard-reported-{width}")
    session.expire_all()
    states = session.scalars(select(Project.state).where(Project.id.in_(map(int, wanted)))).all()
    assert states and all(state != ProjectState.DRAFT for state in states)
