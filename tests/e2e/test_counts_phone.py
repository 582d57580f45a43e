"""One count everywhere on a 390 px phone (issue 26): 首页's cards and the 状态 tabs
say "超过 20" for a unit above the cap (LIST_COUNT_CAP set to 20), each count on one
line, inside its card or tab; the card and the tab it links to say the same."""

from __future__ import annotations

import pytest

from models import ProjectState as S
from tests.e2e.conftest import SHOTS
from tests.factories import make_project

# The development server may leave a static file's handle to the GC (see conftest).
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

CAP = 20

# For each element of ``selector``: its text, whether it lies on one line (an inline
# box broken over two lines has two client rectangles; a block one line high), and
# whether it overflows its box or its card.
MEASURE = """(selector) => [...document.querySelectorAll(selector)].map((el) => {
  const style = getComputedStyle(el);
  const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
  const box = el.getBoundingClientRect();
  const holder = el.closest('.card, .nav-link').getBoundingClientRect();
  return {
    text: el.innerText.trim(),
    rects: el.getClientRects().length,
    oneLine: box.height < line * 1.5,
    overflows: el.scrollWidth > el.clientWidth + 1 && style.display !== 'inline',
    outside: box.right > holder.right + 1 || box.left < holder.left - 1,
  };
})"""


def test_counts_above_the_cap_stay_on_one_line_on_a_phone(
    people, app, session, demo_accounts, monkeypatch
):
    monkeypatch.setitem(app.config, "LIST_COUNT_CAP", CAP)
    for n in range(CAP + 5):
        make_project(session, demo_accounts["bma_cardio"], S.DRAFT, name=f"手机视图项目{n}")
    session.commit()
    person = people()
    person.login("bma_cardio")
    page = person.page
    page.set_viewport_size({"width": 390, "height": 844})
    person.go("/admin/")
    cards = page.evaluate(MEASURE, ".cme-card-count")
    assert f"超过 {CAP}" in [card["text"] for card in cards]
    for card in cards:
        assert card["oneLine"] and not card["overflows"] and not card["outside"], card
    person.shot("counts-dashboard-bma_cardio-390")
    # The widest figures the default cap and a large scope give fit too: "超过 1,000"
    # (above LIST_COUNT_CAP's 1,000) and an exact "200,000" (a tallied count).
    for widest in ("超过 1,000", "200,000"):
        page.evaluate(
            """([text]) => document.querySelectorAll('.cme-card-count').forEach((el) => {
              el.innerText = text;
              el.classList.toggle('cme-more', text.startsWith('超过'));
            })""",
            [widest],
        )
        for card in page.evaluate(MEASURE, ".cme-card-count"):
            assert card["oneLine"] and not card["overflows"] and not card["outside"], card

    page.locator("a.card", has_text="未上报").click()
    page.wait_for_url("**/admin/projects/?status=draft")
    tabs = page.evaluate(MEASURE, ".cme-status-tabs .cme-count")
    assert f"({'超过'} {CAP})" in [tab["text"] for tab in tabs]
    for tab in tabs:
        assert tab["rects"] == 1 and not tab["outside"], tab
    active = page.locator(".cme-status-tabs .nav-link.active .cme-count").inner_text()
    assert active == f"(超过 {CAP})"
    assert page.locator(".cme-total").inner_text() == f"超过 {CAP} 个项目"
    person.shot("counts-tabs-bma_cardio-390")
    tabs_shot = SHOTS / f"{person.backend}-counts-tabs-only-390.png"
    page.locator(".cme-status-tabs").screenshot(path=str(tabs_shot))
