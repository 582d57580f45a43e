"""The text of every cell of the panel's CSV export, byte for byte.

The export reads plain rows (titles chosen by the database, ids passed as one parameter)
and converts them a column at a time; whatever it does for speed, the file must hold what
converting each project's own attributes cell by cell gives: enum values as their Chinese
titles, 可修改 / 不可修改 from the state, times in Beijing time (by the zone database before
1992), numbers without a needless ``.0``, empty cells empty, and text neutralised against
formula injection."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date, datetime

import pytest
from sqlalchemy import update

import exports
import permissions
from models import Project, ProjectLevel, ProjectMode, ProjectState
from tests.factories import make_project

S = ProjectState
HEADER = [
    "年度", "项目编号", "项目名称", "项目级别", "学科", "主办单位", "承办单位", "项目负责人",
    "负责人职称", "联系人", "联系电话", "开始日期", "结束日期", "举办地点", "举办方式", "教学对象",
    "拟招生人数", "理论学时", "实践学时", "学分", "状态", "修改状态", "申报单位", "上报时间",
    "公布时间", "备注",
]  # fmt: skip


@pytest.fixture
def crafted(demo_accounts, session):
    """Two projects of bma_cardio's with every kind of cell: a draft (可修改), and one at
    the society whose text asks for neutralising and whose times need converting."""
    owner = demo_accounts["bma_cardio"]
    draft = make_project(session, owner, S.DRAFT, mode=ProjectMode.BLENDED)
    risky = make_project(session, owner, S.AT_SOCIETY, mode=ProjectMode.REMOTE)
    session.commit()
    session.execute(
        update(Project)
        .where(Project.id == risky.id)
        .values(
            project_no="-2026",
            name='=HYPERLINK("http://x","点我")',
            level=ProjectLevel.NATIONAL,
            co_organizer=None,
            principal=" +SUM(A1)",
            principal_title="\u3000=1",
            contact="@cmd",
            phone="010-1\n=2",
            venue="北京=东城",
            audience="\t临床",
            start_date=date(2026, 5, 1),
            end_date=date(2026, 5, 3),
            planned_participants=120,
            theory_hours=2.5,
            practice_hours=0.0,
            credits=3.0,
            # 16:30 UTC is 00:30 the next day in Beijing; in July 1990 Beijing kept
            # summer time (UTC+9): 12:00 UTC was 21:00 there.
            reported_at=datetime(2026, 11, 26, 16, 30, 59),
            published_at=datetime(1990, 7, 1, 12, 0),
            remarks="-5",
        )
    )
    session.execute(
        update(Project)
        .where(Project.id == draft.id)
        .values(co_organizer="", remarks=None, reported_at=None, published_at=None)
    )
    session.commit()
    return {"draft": draft.id, "risky": risky.id}


def _export(browser, url: str) -> bytes:
    response = browser.get(url)
    assert response.status_code == 200
    body = response.get_data()
    response.close()
    return body


def _rows(body: bytes) -> list[list[str]]:
    assert body.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_each_cell_reads_as_expected(crafted, login_as, session):
    browser = login_as("bma_cardio")
    rows = _rows(_export(browser, "/admin/projects/export/csv/?status=all"))
    assert rows[0] == HEADER
    risky = session.get(Project, crafted["risky"])
    owner = risky.owner_unit.name
    by_name = {row[2]: dict(zip(HEADER, row, strict=True)) for row in rows[1:]}
    assert by_name["'" + '=HYPERLINK("http://x","点我")'] == {
        "年度": "2026",
        "项目编号": "'-2026",
        "项目名称": '\'=HYPERLINK("http://x","点我")',
        "项目级别": "国家级",
        "学科": risky.discipline.name,
        "主办单位": risky.organizer,
        "承办单位": "",
        "项目负责人": "' +SUM(A1)",
        "负责人职称": "'\u3000=1",
        "联系人": "'@cmd",
        "联系电话": "010-1\n=2",
        "开始日期": "2026-05-01",
        "结束日期": "2026-05-03",
        "举办地点": "北京=东城",
        "举办方式": "远程",
        "教学对象": "'\t临床",
        "拟招生人数": "120",
        "理论学时": "2.5",
        "实践学时": "0",
        "学分": "3",
        "状态": "已上报总会",
        "修改状态": "不可修改",
        "申报单位": owner,
        "上报时间": "2026-11-27 00:30",
        "公布时间": "1990-07-01 21:00",
        "备注": "'-5",
    }
    draft = session.get(Project, crafted["draft"])
    row = by_name[draft.name]
    assert (row["状态"], row["修改状态"], row["举办方式"]) == ("未上报", "可修改", "线上线下结合")
    assert (row["承办单位"], row["上报时间"], row["公布时间"], row["备注"]) == ("", "", "", "")


def _expected_body(session, user, names: list[str]) -> bytes:
    """The file as the cell-by-cell conversion of each project's attributes writes it, its
    rows in the list's order (``names``: the export's project names, neutralised)."""
    projects = session.scalars(permissions.visible_projects(user)).all()
    by_name = {exports.neutralise(p.name): p for p in projects}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for name in names:
        p = by_name[name]
        cells = [
            p.year, p.project_no, p.name, p.level.title, p.discipline.name, p.organizer,
            p.co_organizer, p.principal, p.principal_title, p.contact, p.phone, p.start_date,
            p.end_date, p.venue, p.mode.title, p.audience, p.planned_participants,
            p.theory_hours, p.practice_hours, p.credits, p.state.title,
            p.state.modifiable_title, p.owner_unit.name, p.reported_at, p.published_at,
            p.remarks,
        ]  # fmt: skip
        writer.writerow([exports._csv_text(cell) for cell in cells])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("bma_cardio", "/admin/projects/export/csv/?status=all"),
        ("bma", "/admin/review/export/csv/?status=all"),
        ("bjcme", "/admin/audit/export/csv/?status=all"),
    ],
)
def test_the_file_is_the_cell_by_cell_conversion(
    crafted, login_as, session, demo_accounts, username, url
):
    body = _export(login_as(username), url)
    names = [row[2] for row in _rows(body)[1:]]
    assert len(names) == len(set(names)) > 1
    assert body == _expected_body(session, demo_accounts[username], names)
    # The list's order: newest change first.
    listed = session.scalars(
        permissions.visible_projects(demo_accounts[username])
        .order_by(Project.updated_at.desc(), Project.id.desc())
        .with_only_columns(Project.name)
    ).all()
    assert names == [exports.neutralise(name) for name in listed]


def test_csv_time_columns_convert_as_each_cell_would():
    """The column-wise time conversion: naive times after 1992 (shifted in one pass), with
    empty cells, before 1992, and aware ones, each as ``_csv_text`` renders it."""
    from datetime import UTC, timedelta, timezone

    recent = [datetime(2026, 11, 26, 16, 30, 59, 999999), datetime(1992, 1, 1)]
    columns = [
        recent,
        [None, *recent, None],
        [datetime(1991, 12, 31, 23, 59), *recent, None],
        [datetime(2026, 1, 1, tzinfo=UTC), None],
        [datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-5))), *recent],
    ]
    for column in columns:
        assert list(exports._csv_column(column)) == [exports._csv_text(v) for v in column]
