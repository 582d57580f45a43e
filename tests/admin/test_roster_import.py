"""学员名单导入 and 导出 through the real panel, on both databases: the report's template
filled in with openpyxl → upload → preview → confirm; bad rows named in Chinese with
nothing written; the same file twice changes nothing; CSV in GBK; who may import (the
owner unit while it holds the report) and who may export (the review chain, ID numbers
masked but for the owner while editable, each export in the security log)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask_security import hash_password
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from demo import DEMO_PASSWORD
from models import (
    AuditEntry,
    AuditEvent,
    ExecutionEvent,
    ExecutionReport,
    RosterEntry,
    rules,
)
from tests.admin.test_import import errors_of, fill_sheets, headers, upload, zip_bomb
from tests.factories import make_tree
from tests.refusals import assert_not_found
from tests.test_execution_workflow import id_number
from workflow import Action, execution

HEADERS = [
    "姓名*",
    "证件类型",
    "证件号码*",
    "工作单位*",
    "职称",
    "执业证号",
    "手机",
    "出勤",
    "授予学分",
]
BATCH_URL = re.compile(r"/admin/roster-import/\d+/batch/(\d+)/")


@pytest.fixture
def owner(login_as):
    return login_as("bma_cardio")


def page(report) -> str:
    return f"/admin/roster-import/{report.id}/"


def download_template(browser, report):
    response = browser.get(page(report) + "template/")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return load_workbook(io.BytesIO(response.data))


def learner_row(name="张三", **changes) -> dict:
    row = {"姓名": name, "证件号码": id_number(), "工作单位": "北京协和医院", "职称": "主治医师"}
    row.update(changes)
    return row


def fill(workbook, learners: list[dict]) -> bytes:
    return fill_sheets(workbook, {"学员名单": learners})


def csv_bytes(learners: list[dict], encoding: str) -> bytes:
    names = [h.rstrip("*") for h in HEADERS]
    lines = [",".join(names)]
    for row in learners:
        lines.append(",".join("" if row.get(n) is None else str(row.get(n)) for n in names))
    return "\r\n".join(lines).encode(encoding)


def preview(browser, report, data: bytes, filename="roster.xlsx"):
    """Upload and follow to the preview: (batch id, the page's text)."""
    response = upload(browser, data, filename, page=page(report))
    assert response.status_code == 302
    location = response.headers["Location"]
    match = BATCH_URL.search(location)
    assert match, (location, flashed(browser, report)[-2000:])
    return int(match.group(1)), browser.get(location).get_data(as_text=True)


def confirm(browser, report, batch_id: int):
    url = f"{page(report)}batch/{batch_id}/"
    return browser.post(url + "confirm/", token_from=url)


def post_file(browser, report, data: bytes, filename="roster.xlsx"):
    """An upload with a token of another page (for accounts that cannot open the form)."""
    return browser.client.post(
        page(report) + "upload/",
        data={"csrf_token": browser.token("/admin/"), "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def flashed(browser, report) -> str:
    return browser.get(page(report)).get_data(as_text=True)


def state_of(session, report) -> tuple:
    """What an import may change: the report's version, its history, its roster."""
    session.expire_all()
    version = session.scalar(select(ExecutionReport.version).where(ExecutionReport.id == report.id))
    events = session.scalar(select(func.count()).where(ExecutionEvent.report_id == report.id))
    roster = session.execute(
        select(
            RosterEntry.id,
            RosterEntry.name,
            RosterEntry.id_number,
            RosterEntry.workplace,
            RosterEntry.attended,
            RosterEntry.credits,
        )
        .where(RosterEntry.report_id == report.id)
        .order_by(RosterEntry.id)
    ).all()
    return version, events, [tuple(r) for r in roster]


# -- the round trip ----------------------------------------------------------------------
def test_a_three_learner_workbook_round_trip(owner, session, report):
    workbook = download_template(owner, report)
    assert workbook.sheetnames == ["学员名单", "说明"]
    sheet = workbook["学员名单"]
    assert headers(sheet) == HEADERS
    assert sheet["A2"].value == "示例"  # the example row, never imported
    validated = {
        HEADERS[next(iter(v.sqref)).min_col - 1]: v.formula1
        for v in sheet.data_validations.dataValidation
    }
    assert set(validated) == {"证件类型", "出勤"} and all("说明" in f for f in validated.values())
    notes = " ".join(str(c.value) for c in workbook["说明"]["A"] if c.value)
    assert "必须填写" in notes and "0 至 4 分" in notes and "GBK" in notes
    rows = [
        learner_row("张三"),
        learner_row("李四", 证件类型="护照", 证件号码="E12345678", 出勤="否"),
        learner_row("王五", 授予学分=2.5, 手机="13912345678"),
    ]
    before = state_of(session, report)
    batch_id, text = preview(owner, report, fill(workbook, rows))
    assert errors_of(text) == []
    assert 'id="import-ready"' in text and text.count("<td>新增</td>") == 3
    assert state_of(session, report) == before  # nothing saved before the confirmation
    response = confirm(owner, report, batch_id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/execution/{report.id}/")
    entries = session.scalars(
        select(RosterEntry).where(RosterEntry.report_id == report.id).order_by(RosterEntry.id)
    ).all()
    assert [(e.name, e.id_type, e.attended, e.credits, e.source) for e in entries] == [
        ("张三", "resident", True, 4.0, "import"),
        ("李四", "passport", False, 0.0, "import"),
        ("王五", "resident", True, 2.5, "import"),
    ]
    assert entries[1].id_number == "E12345678" and entries[2].phone == "13912345678"
    # One step of the report's version and one history event for the whole file.
    version, events, _ = state_of(session, report)
    assert (version, events) == (before[0] + 1, before[1] + 1)
    last = session.scalars(
        select(ExecutionEvent)
        .where(ExecutionEvent.report_id == report.id)
        .order_by(ExecutionEvent.id.desc())
    ).first()
    assert (last.action, last.reason) == ("edit", "批量导入：roster.xlsx")
    # The report's page says so.
    body = owner.get(f"/admin/execution/{report.id}/").get_data(as_text=True)
    assert "学员名单已导入：新增 3 人，更新 0 人，0 人未变" in body


def test_the_same_file_twice_changes_nothing(owner, session, report):
    rows = [learner_row("张三"), learner_row("李四"), learner_row("王五")]
    data = fill(download_template(owner, report), rows)
    batch_id, _ = preview(owner, report, data)
    confirm(owner, report, batch_id)
    after_first = state_of(session, report)
    assert len(after_first[2]) == 3
    # A second confirmation of the same batch: refused, nothing written.
    confirm(owner, report, batch_id)
    assert state_of(session, report) == after_first
    # The same bytes again: the same batch, compared with the roster as it is now.
    again, text = preview(owner, report, data)
    assert again == batch_id
    assert 'id="import-nothing"' in text and 'id="import-confirm"' not in text
    assert text.count("<td>不变</td>") == 3
    confirm(owner, report, again)
    assert state_of(session, report) == after_first
    # The same learners in other bytes (a CSV): nothing either, not even a version step.
    batch_id, text = preview(owner, report, csv_bytes(rows, "utf-8-sig"), "roster.csv")
    assert 'id="import-nothing"' in text
    confirm(owner, report, batch_id)
    assert state_of(session, report) == after_first
    # One learner changed: updated in place, never a second row.
    changed = [rows[0], dict(rows[1], 工作单位="北京医院"), rows[2]]
    batch_id, text = preview(owner, report, csv_bytes(changed, "utf-8"), "changed.csv")
    assert text.count("<td>更新</td>") == 1 and text.count("<td>不变</td>") == 2
    confirm(owner, report, batch_id)
    version, events, roster = state_of(session, report)
    assert len(roster) == 3 and [r[3] for r in roster][1] == "北京医院"
    assert [r[0] for r in roster] == [r[0] for r in after_first[2]]
    assert (version, events) == (after_first[0] + 1, after_first[1] + 1)


# -- bad rows ------------------------------------------------------------------------------
def bad_check_digit() -> str:
    number = id_number()
    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong


BAD_ROWS = {
    # (changes to the second learner, column named, value shown or None, words of the reason)
    "check digit": (lambda: {"证件号码": bad_check_digit()}, "证件号码", None, "校验码"),
    "credits above the report's": (lambda: {"授予学分": 5}, "授予学分", "5", "0 至 4"),
    "credits off the half steps": (lambda: {"授予学分": 1.2}, "授予学分", "1.2", "0.5"),
    "missing name": (lambda: {"姓名": None}, "姓名", "", "必填"),
    "missing workplace": (lambda: {"工作单位": None}, "工作单位", "", "必填"),
    "unknown document type": (lambda: {"证件类型": "军官证"}, "证件类型", "军官证", "列表"),
    "attended neither yes nor no": (lambda: {"出勤": "也许"}, "出勤", "也许", "列表"),
    "permit without its area": (
        lambda: {"证件类型": "港澳台居民居住证"},
        "证件号码",
        None,
        "81",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_ROWS))
def test_each_bad_row_is_named_in_chinese_and_nothing_is_imported(owner, session, report, kind):
    changes, column, value, reason = BAD_ROWS[kind]
    second = learner_row("李四", **changes())
    data = fill(download_template(owner, report), [learner_row("张三"), second, learner_row()])
    before = state_of(session, report)
    batch_id, text = preview(owner, report, data)
    errors = errors_of(text)
    assert len(errors) == 1, errors
    sheet, row, named, shown, why = errors[0]
    assert (sheet, row, named) == ("学员名单", "4", column)  # header, example, row 3, row 4
    assert shown == (value if value is not None else str(second[column]))
    assert reason in why, why
    assert 'id="import-confirm"' not in text
    assert confirm(owner, report, batch_id).status_code == 302
    assert state_of(session, report) == before


def test_an_id_number_twice_in_the_file_is_an_error_on_its_second_row(owner, session, report):
    number = id_number()
    rows = [
        learner_row("张三", 证件号码=number),
        learner_row("李四"),
        learner_row("王五", 证件号码=number),
    ]
    before = state_of(session, report)
    batch_id, text = preview(owner, report, fill(download_template(owner, report), rows))
    assert errors_of(text) == [["学员名单", "5", "证件号码", number, "第 3 行已经使用了这个值。"]]
    confirm(owner, report, batch_id)
    assert state_of(session, report) == before


def test_headers_that_are_not_the_templates_refuse_the_file(owner, session, report):
    data = csv_bytes([learner_row()], "utf-8").replace("工作单位".encode(), "单位".encode(), 1)
    response = upload(owner, data, "roster.csv", page=page(report))
    assert response.headers["Location"].endswith(page(report))
    text = flashed(owner, report)
    assert "没有导入" in text and "缺少的列" in text and "工作单位" in text


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_in_each_encoding(owner, session, report, encoding):
    rows = [learner_row("欧阳修", 职称="副主任医师", 出勤="是"), learner_row("諸葛亮", 出勤="否")]
    batch_id, text = preview(owner, report, csv_bytes(rows, encoding), "roster.csv")
    assert errors_of(text) == []
    confirm(owner, report, batch_id)
    names = session.scalars(
        select(RosterEntry.name).where(RosterEntry.report_id == report.id).order_by(RosterEntry.id)
    ).all()
    assert names == ["欧阳修", "諸葛亮"]


def test_a_zip_bomb_is_refused_in_chinese(owner, session, report):
    before = state_of(session, report)
    response = upload(owner, zip_bomb(), "roster.xlsx", page=page(report))
    assert response.status_code == 302 and response.headers["Location"].endswith(page(report))
    text = flashed(owner, report)
    assert "没有导入" in text and "50 MB" in text
    assert state_of(session, report) == before


# -- who may import ---------------------------------------------------------------------------
def test_only_the_owner_unit_may_import(demo_accounts, session, report, signed_in, another_browser):
    other = make_tree(session, "ri_")
    for user in other.values():
        user.password = hash_password(DEMO_PASSWORD)
    session.commit()
    owner = signed_in("bma_cardio")
    batch_id, _ = preview(owner, report, fill(download_template(owner, report), [learner_row()]))
    urls = [page(report), page(report) + "template/", f"{page(report)}batch/{batch_id}/"]
    before = state_of(session, report)
    # Its own society and committee (which do not see a draft), another branch, another
    # society, an issuer, another committee's tree: as if the report did not exist.
    outsiders = ["bma", "bjcme", "bma_peds", "bjtcm", "pumch", "ri_committee", "ri_branch"]
    for username in outsiders:
        browser = signed_in(username)
        for url in urls:
            assert_not_found(browser.get(url))
        confirm_url = f"{page(report)}batch/{batch_id}/confirm/"
        assert_not_found(browser.post(confirm_url, token_from="/admin/"))
        assert_not_found(post_file(browser, report, csv_bytes([learner_row()], "utf-8")))
    # Reported upward, the society sees the report, still not its import.
    execution.move(session, report, Action.REPORT, demo_accounts["bma_cardio"])
    session.commit()
    assert_not_found(signed_in("bma").get(page(report)))
    # Signed out: the login page.
    response = another_browser().get(page(report))
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert state_of(session, report)[2] == before[2]


def test_not_importable_once_reported(demo_accounts, session, report, owner):
    data = fill(download_template(owner, report), [learner_row()])
    batch_id, _ = preview(owner, report, data)
    execution.move(session, report, Action.REPORT, demo_accounts["bma_cardio"])
    session.commit()
    before = state_of(session, report)
    # The page and the template send the owner to the report, saying why.
    for url in (page(report), page(report) + "template/"):
        response = owner.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/admin/execution/{report.id}/")
    body = owner.get(f"/admin/execution/{report.id}/").get_data(as_text=True)
    assert "现在不能导入学员名单" in body and "已上报总会" in body
    # The batch previewed before cannot be confirmed, nor a new file uploaded.
    url = f"{page(report)}batch/{batch_id}/"
    for response in (owner.get(url), owner.post(url + "confirm/", token_from="/admin/")):
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/admin/execution/{report.id}/")
    response = post_file(owner, report, data)
    assert response.headers["Location"].endswith(f"/admin/execution/{report.id}/")
    assert state_of(session, report) == before


# -- the export ---------------------------------------------------------------------------------
def export_rows(browser, report, fmt: str) -> list[list]:
    response = browser.get(f"{page(report)}export.{fmt}")
    assert response.status_code == 200, response.status_code
    assert "attachment" in response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    body = response.get_data()
    response.close()
    if fmt == "csv":
        assert body.startswith(b"\xef\xbb\xbf")  # Excel's BOM
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(body)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def exports_logged(session) -> list[AuditEntry]:
    session.expire_all()
    return session.scalars(
        select(AuditEntry)
        .where(AuditEntry.event == AuditEvent.ROSTER_EXPORTED)
        .order_by(AuditEntry.id)
    ).all()


def test_the_export_is_masked_for_reviewers_and_logged(demo_accounts, session, report, signed_in):
    cardio = demo_accounts["bma_cardio"]
    numbers = [id_number(), id_number()]
    for name, number in zip(("张三", '=HYPERLINK("http://x")'), numbers, strict=True):
        _, errors = execution.add_learner(
            session, cardio, report, {"name": name, "id_number": number, "workplace": "协和"}
        )
        assert errors == {}, errors
    session.commit()
    # The owner while it holds the report: whole numbers, in the template's columns.
    rows = export_rows(signed_in("bma_cardio"), report, "csv")
    assert rows[0] == [h.rstrip("*") for h in HEADERS]
    assert [r[2] for r in rows[1:]] == numbers
    assert rows[1][0] == "张三" and rows[1][1] == "居民身份证" and rows[1][7] == "是"
    assert rows[2][0] == '\'=HYPERLINK("http://x")'  # never run as a formula
    execution.move(session, report, Action.REPORT, cardio)
    session.commit()
    masked = [rules.mask_id_number(n) for n in numbers]
    for username, fmt in (("bma", "xlsx"), ("bjcme", "csv"), ("bma_cardio", "xlsx")):
        rows = export_rows(signed_in(username), report, fmt)
        assert [r[2] for r in rows[1:]] == masked, username
    # The report page's link (no format named) gives the workbook.
    response = signed_in("bma").get(f"{page(report)}export/")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    response.close()
    other = make_tree(session, "rx_")
    other["committee"].password = hash_password(DEMO_PASSWORD)
    session.commit()
    for username in ("bma_peds", "bjtcm", "pumch", "rx_committee"):
        for fmt in ("xlsx", "csv"):
            assert_not_found(signed_in(username).get(f"{page(report)}export.{fmt}"))
    assert_not_found(signed_in("bma").get(f"{page(report)}export.pdf"))
    logged = exports_logged(session)
    assert [(e.username, e.unit.name) for e in logged] == [
        ("bma_cardio", demo_accounts["bma_cardio"].unit.name),
        ("bma", demo_accounts["bma"].unit.name),
        ("bjcme", demo_accounts["bjcme"].unit.name),
        ("bma_cardio", demo_accounts["bma_cardio"].unit.name),
        ("bma", demo_accounts["bma"].unit.name),
    ]  # the refused ones not
    assert all(f"执行情况 {report.id}，2 行" in e.detail for e in logged)
    assert logged[1].detail.endswith(report.name) and "XLSX" in logged[1].detail
    # The committee reads them in its security log.
    committee = signed_in("bjcme")
    text = committee.get("/admin/security-log/").get_data(as_text=True)
    assert text.count("导出学员名单") >= 5 and f"执行情况 {report.id}，2 行，XLSX" in text


# -- the write ------------------------------------------------------------------------------
def test_a_confirmation_racing_a_report_upward_writes_nothing(demo_accounts, session, report):
    """The import read the report as a draft; meanwhile it was reported: the version's
    compare-and-set refuses the write, and nothing of the file is saved."""
    import imports
    from extensions import db
    from workflow import WorkflowError

    owner = demo_accounts["bma_cardio"]
    data = csv_bytes([learner_row("张三"), learner_row("李四")], "utf-8")
    with db.session.no_autoflush:
        stale = db.session.get(ExecutionReport, report.id)
        preview = imports.roster.preview(db.session, owner, stale, "race.csv", data)
    db.session.commit()
    stale = db.session.get(ExecutionReport, report.id)
    before = stale.version
    with Session(db.engine) as other:
        moved = other.get(ExecutionReport, report.id)
        execution.move(other, moved, Action.REPORT, other.get(type(owner), owner.id))
        other.commit()
    assert stale.version == before  # this session still holds the draft it read
    with pytest.raises(WorkflowError):
        imports.roster.confirm(db.session, owner, stale, preview.batch.id)
    db.session.rollback()
    assert state_of(session, report)[2] == []


def test_rows_enter_in_constant_statements(demo_accounts, session, report, count_statements):
    """One INSERT for the new learners, one UPDATE for the changed: as many statements for
    40 rows as for 4 (one per 1,000 rows: test_roster_import_kept)."""
    import imports

    owner = demo_accounts["bma_cardio"]

    def confirm_rows(rows: list[dict], name: str) -> int:
        batch = imports.roster.preview(session, owner, report, name, csv_bytes(rows, "utf-8")).batch
        session.commit()
        with count_statements() as counted:
            imports.roster.confirm(session, owner, report, batch.id)
            session.commit()
        return len(counted.statements)

    small = [learner_row(f"学员{n}") for n in range(4)]
    large = [learner_row(f"学员{n}") for n in range(40)]
    assert confirm_rows(small, "small.csv") == confirm_rows(large, "large.csv")
    changed = [dict(row, 工作单位="北京医院") for row in small + large]
    assert confirm_rows(changed[:4], "c-small.csv") == confirm_rows(changed[4:], "c-large.csv")


def test_a_roster_changed_after_the_preview_is_judged_again(demo_accounts, session, report, owner):
    """The preview said 2 to add; before the confirmation a learner of the file was added
    by hand (the report's version moved): the confirmation judges the file again, updates
    that learner and adds the other, never a second row for one ID number."""
    rows = [learner_row("张三"), learner_row("李四")]
    batch_id, text = preview(owner, report, fill(download_template(owner, report), rows))
    assert text.count("<td>新增</td>") == 2
    by_hand, errors = execution.add_learner(
        session,
        demo_accounts["bma_cardio"],
        report,
        {"name": "张三（手填）", "id_number": rows[0]["证件号码"], "workplace": "北京医院"},
    )
    assert errors == {}
    session.commit()
    assert confirm(owner, report, batch_id).status_code == 302
    _, _, roster = state_of(session, report)
    assert [(r[0], r[1], r[3]) for r in roster] == [
        (by_hand.id, "张三", "北京协和医院"),
        (roster[1][0], "李四", "北京协和医院"),
    ]
    body = owner.get(f"/admin/execution/{report.id}/").get_data(as_text=True)
    assert "新增 1 人，更新 1 人，0 人未变" in body
