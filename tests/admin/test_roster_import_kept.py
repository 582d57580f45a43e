"""学员名单导入: what the batch keeps between the preview and the confirmation, on both
databases. A file without errors is kept as its judged learners (not its cells) and written
as judged while the report's version is unchanged; at another version (a learner added by
hand, the report's credits changed) those learners are judged again through the same rules,
on the preview page and at the confirmation. A batch kept before (the file's table and the
old judgement) is judged from its table. The rows are written a chunk at a time."""

from __future__ import annotations

import pytest

import imports
from imports.rows import table_payload
from tests.admin.test_import import errors_of
from tests.admin.test_roster_import import (
    confirm,
    csv_bytes,
    learner_row,
    page,
    preview,
    state_of,
)
from workflow import execution


@pytest.fixture
def owner(login_as):
    return login_as("bma_cardio")


def with_credits(report, credits: float) -> dict:
    """The report's fields as they are, but its credits."""
    return {name: getattr(report, name) for name in execution.REPORT_FIELDS} | {"credits": credits}


def test_a_file_without_errors_is_kept_as_its_learners(demo_accounts, session, report):
    cardio = demo_accounts["bma_cardio"]
    rows = [learner_row("张三", 授予学分=3), learner_row(" 李四 ", 出勤="否")]
    data = csv_bytes(rows, "utf-8")
    kept = imports.roster.preview(session, cardio, report, "ok.csv", data).batch.payload
    session.commit()
    assert kept["roster"] is None  # the cells are not kept
    learners = kept[imports.roster.LEARNERS]
    assert learners["version"] == report.version and learners["sheet"] == "学员名单"
    # [row, target, changed, defaulted, *values]: 张三's credits given, 李四's the default (0:
    # absent), the texts as cleaned.
    items = list(imports.roster.unpack(learners["packed"]))
    assert (learners["count"], learners["added"], learners["updated"]) == (2, 2, 0)
    assert [item[:4] for item in items] == [
        [2, None, True, False],
        [3, None, True, True],
    ]
    values = [dict(zip(execution.ROSTER_FIELDS, item[4:], strict=True)) for item in items]
    assert [(v["name"], v["attended"], v["credits"]) for v in values] == [
        ("张三", True, 3.0),
        ("李四", False, 0),
    ]
    # A file with errors keeps its table (the preview page shows its errors again).
    bad = csv_bytes([learner_row("王五", 授予学分=9)], "utf-8")
    kept = imports.roster.preview(session, cardio, report, "bad.csv", bad).batch.payload
    session.commit()
    assert imports.roster.LEARNERS not in kept
    assert kept["roster"]["rows"][0][1][0] == "王五"


def test_credits_changed_after_the_preview_are_judged_again(demo_accounts, session, report, owner):
    """The report awarded 4 credits at the preview: 张三's empty 授予学分 was 4, 李四's 3
    was allowed. The report is changed to 2 credits: the preview page and the confirmation
    judge the kept learners again, 李四's 3 is now refused and nothing is written; at 3
    credits 张三 gets the new default."""
    cardio = demo_accounts["bma_cardio"]
    rows = [learner_row("张三"), learner_row("李四", 授予学分=3)]
    batch_id, text = preview(owner, report, csv_bytes(rows, "utf-8"), "credits.csv")
    assert 'id="import-confirm"' in text and "<td>4.0</td>" in text
    assert execution.save_report(session, cardio, report, with_credits(report, 2)) == {}
    session.commit()
    before = state_of(session, report)
    text = owner.get(f"{page(report)}batch/{batch_id}/").get_data(as_text=True)
    assert [e[:4] for e in errors_of(text)] == [["学员名单", "3", "授予学分", "3"]]
    assert "0 至 2" in errors_of(text)[0][4]
    assert 'id="import-confirm"' not in text
    response = confirm(owner, report, batch_id)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"batch/{batch_id}/"
    )
    assert state_of(session, report) == before  # nothing written, the batch still pending
    assert execution.save_report(session, cardio, report, with_credits(report, 3)) == {}
    session.commit()
    text = owner.get(f"{page(report)}batch/{batch_id}/").get_data(as_text=True)
    assert errors_of(text) == [] and text.count("<td>新增</td>") == 2
    assert confirm(owner, report, batch_id).status_code == 302
    _, _, roster = state_of(session, report)
    assert [(r[1], r[5]) for r in roster] == [("张三", 3.0), ("李四", 3.0)]


def test_the_preview_page_compares_kept_learners_with_the_roster_as_it_is(
    demo_accounts, session, report, owner
):
    rows = [learner_row("张三"), learner_row("李四"), learner_row("王五")]
    batch_id, text = preview(owner, report, csv_bytes(rows, "utf-8"), "three.csv")
    assert text.count("<td>新增</td>") == 3
    cardio = demo_accounts["bma_cardio"]
    for row, workplace in ((rows[0], "北京医院"), (rows[1], "北京协和医院")):
        learner = {"name": row["姓名"], "id_number": row["证件号码"], "workplace": workplace}
        learner["title"] = row["职称"]
        assert execution.add_learner(session, cardio, report, learner)[1] == {}
    session.commit()
    text = owner.get(f"{page(report)}batch/{batch_id}/").get_data(as_text=True)
    assert [text.count(f"<td>{w}</td>") for w in ("新增", "更新", "不变")] == [1, 1, 1]
    assert confirm(owner, report, batch_id).status_code == 302
    _, _, roster = state_of(session, report)
    assert sorted((r[1], r[3]) for r in roster) == [
        ("张三", "北京协和医院"),
        ("李四", "北京协和医院"),
        ("王五", "北京协和医院"),
    ]


def test_a_batch_kept_before_is_judged_from_its_table(demo_accounts, session, report):
    """A pending batch of the earlier form (the table and a "judged" entry): its
    judgement is not used, its table is judged as the preview would."""
    cardio = demo_accounts["bma_cardio"]
    rows = [learner_row("张三"), learner_row("李四")]
    data = csv_bytes(rows, "utf-8")
    batch = imports.roster.preview(session, cardio, report, "old.csv", data).batch
    table = imports.isolation.read("old.csv", data, None, imports.roster.titles()).main
    stale = {"version": report.version, "added": [], "changed": [], "unchanged": 0}
    batch.payload = {"roster": table_payload(table), "judged": stale}
    session.commit()
    batch, unchanged = imports.roster.confirm(session, cardio, report, batch.id)
    session.commit()
    assert (batch.added, batch.updated, unchanged) == (2, 0, 0)
    assert [r[1] for r in state_of(session, report)[2]] == ["张三", "李四"]


def test_rows_are_written_a_chunk_at_a_time(
    demo_accounts, session, report, count_statements, monkeypatch
):
    """Five learners added, then four of them changed, two rows per executemany: three
    INSERTs, then two UPDATEs; every row written, one version step each time."""
    monkeypatch.setattr(execution, "WRITE_CHUNK", 2)
    cardio = demo_accounts["bma_cardio"]

    written = []

    def confirmed(rows: list[dict], name: str) -> list[str]:
        batch = imports.roster.preview(
            session, cardio, report, name, csv_bytes(rows, "utf-8")
        ).batch
        session.commit()
        with count_statements() as counted:
            batch, unchanged = imports.roster.confirm(session, cardio, report, batch.id)
            written.append((batch.added, batch.updated, unchanged))
            session.commit()
        return [" ".join(s.split()[:3]) for s in counted.statements]

    rows = [learner_row(f"学员{n}") for n in range(5)]
    version = state_of(session, report)[0]
    statements = confirmed(rows, "five.csv")
    assert statements.count("INSERT INTO roster_entries") == 3
    # What it wrote is kept on the batch by the claim's own UPDATE (no second one).
    assert statements.count("UPDATE import_batches SET") == 1
    _, _, roster = state_of(session, report)
    assert [r[1] for r in roster] == [f"学员{n}" for n in range(5)]
    changed = [dict(row, 工作单位="北京医院") for row in rows[:4]] + rows[4:]
    statements = confirmed(changed, "changed.csv")
    assert statements.count("UPDATE roster_entries SET") == 2
    assert "INSERT INTO roster_entries" not in statements
    now_version, _, roster = state_of(session, report)
    assert [r[3] for r in roster] == ["北京医院"] * 4 + ["北京协和医院"]
    assert now_version == version + 2
    assert written == [(5, 0, 0), (0, 4, 1)]


def test_import_learners_takes_generators_and_writes_nothing_for_none(
    demo_accounts, session, report
):
    cardio = demo_accounts["bma_cardio"]
    before = state_of(session, report)
    execution.import_learners(session, cardio, report, iter(()), iter(()))
    session.commit()
    assert state_of(session, report) == before
    learner = execution.clean_learner(
        {"name": "张三", "id_number": learner_row()["证件号码"], "workplace": "北京医院"}
    )
    learner["credits"] = 1.0
    execution.import_learners(session, cardio, report, (row for row in [learner]), {})
    session.commit()
    version, events, roster = state_of(session, report)
    assert (version, events) == (before[0] + 1, before[1] + 1)
    assert [(r[1], r[5]) for r in roster] == [("张三", 1.0)]
