"""学员名单导入: the judged learners a batch keeps packed (one string: JSON lines, zlib,
base64), on both databases. The values come back as judged (None, 0.5 credits, Chinese, a
line break in a cell); a roster changed between the preview and the confirmation is judged
again at the confirmation; a batch of the earlier form (a list of the learners' lists) is
judged again from those lists; the preview page of a 5,000-row file counts every learner
and shows the first rows."""

from __future__ import annotations

import re

import pytest

import imports
from tests.admin.test_roster_import import (
    confirm,
    csv_bytes,
    learner_row,
    preview,
    state_of,
)
from tests.test_execution_workflow import id_number
from workflow import execution

ROW_CELLS = re.compile(r"<tr><td>(\d+)</td><td>([^<]*)</td>")


@pytest.fixture
def owner(login_as):
    return login_as("bma_cardio")


def test_packed_learners_come_back_as_they_were_judged(monkeypatch):
    """Every value as it went in (None, 0, 0.5, True/False, Chinese, quotes, a line break),
    in order, whether a piece of the unpacked text ends inside a line or not."""
    values = [
        ["张三", 1, "110105198001010011", "北京协和医院", None, None, "139", True, 0.5],
        ['O\'Neil "Jr"', 2, "X1", "第一\n医院", "主治医师", "", None, False, 0],
        ["諸葛亮", 3, "Y2", "工作单位\\路", "\u3000", "A-1", "1", True, 4.0],
    ]
    items = [
        [row, target, changed, defaulted, *values[row % 3]]
        for row, target, changed, defaulted in (
            (n, None if n % 2 else n * 10, n % 3 == 0, n % 5 == 0) for n in range(2, 2502)
        )
    ]
    packed = imports.roster.pack(items)
    assert isinstance(packed, str) and packed.isascii()
    assert len(packed) < len(repr(items)) / 10  # compressed
    assert list(imports.roster.unpack(packed)) == items
    for piece in (4, 8, 100):
        monkeypatch.setattr(imports.roster, "UNPACK_PIECE", piece)
        assert list(imports.roster.unpack(packed)) == items
    assert list(imports.roster.unpack(imports.roster.pack([]))) == []


def test_a_roster_changed_after_the_preview_is_judged_again_at_the_confirmation(
    demo_accounts, session, report
):
    """张三 is added by hand after the preview: the confirmation matches him again and
    updates him with the file's values instead of adding him twice; 0.5 credits and the
    Chinese texts are written as the file gives them."""
    cardio = demo_accounts["bma_cardio"]
    rows = [
        learner_row("张三", 授予学分=0.5, 工作单位="北京大学第一医院"),
        learner_row("李四", 出勤="否"),
        learner_row("欧阳修", 职称=""),
    ]
    data = csv_bytes(rows, "utf-8")
    batch = imports.roster.preview(session, cardio, report, "changed.csv", data).batch
    session.commit()
    kept = batch.payload[imports.roster.LEARNERS]
    assert (kept["count"], kept["added"], kept["updated"]) == (3, 3, 0)
    by_hand = {"name": "张三", "id_number": rows[0]["证件号码"], "workplace": "北京医院"}
    assert execution.add_learner(session, cardio, report, by_hand)[1] == {}
    session.commit()
    batch, unchanged = imports.roster.confirm(session, cardio, report, batch.id)
    session.commit()
    assert (batch.added, batch.updated, unchanged) == (2, 1, 0)
    _, _, roster = state_of(session, report)
    assert [r[1:] for r in roster] == [
        ("张三", rows[0]["证件号码"], "北京大学第一医院", True, 0.5),
        ("李四", rows[1]["证件号码"], "北京协和医院", False, 0),
        ("欧阳修", rows[2]["证件号码"], "北京协和医院", True, 4.0),
    ]


def test_a_batch_of_the_lists_form_is_judged_again_from_its_lists(demo_accounts, session, report):
    """A pending batch kept as a list of the learners' lists (the form before ``packed``):
    judged again from those lists at the confirmation, the values kept written."""
    cardio = demo_accounts["bma_cardio"]
    rows = [learner_row("张三", 授予学分=1.5), learner_row("李四")]
    batch = imports.roster.preview(
        session, cardio, report, "lists.csv", csv_bytes(rows, "utf-8")
    ).batch
    kept = batch.payload[imports.roster.LEARNERS]
    items = list(imports.roster.unpack(kept["packed"]))
    lists = {"version": kept["version"], "sheet": kept["sheet"], "rows": items}
    batch.payload = {"roster": None, imports.roster.LEARNERS: lists}
    session.commit()
    plan = imports.roster.check(session, report, batch.payload, shown=5)
    assert (plan.count, plan.added, len(plan.rows)) == (2, 2, 2)
    batch, unchanged = imports.roster.confirm(session, cardio, report, batch.id)
    session.commit()
    assert (batch.added, batch.updated, unchanged) == (2, 0, 0)
    assert [(r[1], r[5]) for r in state_of(session, report)[2]] == [("张三", 1.5), ("李四", 4.0)]


def test_the_preview_page_of_a_5000_row_file(demo_accounts, session, report, owner):
    """5,000 learners, the first already on the roster (another workplace): the page counts
    every row, says 4,999 added and 1 updated, shows the first 200 rows in order; the
    confirmation writes them all."""
    numbers = [id_number(f"19{60 + n // 1000}0101") for n in range(5000)]
    rows = [learner_row(f"学员{n}", 证件号码=number) for n, number in enumerate(numbers)]
    assert len({r["证件号码"] for r in rows}) == 5000
    cardio = demo_accounts["bma_cardio"]
    first = {"name": "学员0", "id_number": rows[0]["证件号码"], "workplace": "北京医院"}
    assert execution.add_learner(session, cardio, report, first)[1] == {}
    session.commit()
    batch_id, text = preview(owner, report, csv_bytes(rows, "utf-8"), "many.csv")
    assert "文件中的行：5000" in text
    assert "确认后将新增 4999 人，更新 1 人，0 人保持不变" in text
    assert "只显示前 200 行" in text
    shown = ROW_CELLS.findall(text)
    assert shown == [(str(n + 2), f"学员{n}") for n in range(200)]
    assert text.count("<td>更新</td>") == 1 and text.count("<td>新增</td>") == 199
    assert 'id="import-confirm"' in text
    assert confirm(owner, report, batch_id).status_code == 302
    _, _, roster = state_of(session, report)
    assert len(roster) == 5000 and roster[0][3] == "北京协和医院"
    assert [r[1] for r in roster[1:]] == [f"学员{n}" for n in range(1, 5000)]
