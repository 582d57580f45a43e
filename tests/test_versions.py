"""Versions (版本) and 修改对比: a snapshot at each report and publish, written
by a ``hooks.moved`` receiver in a constant number of statements; immutable;
the changes a reviewer sees when a project comes back after 退回修改."""

from __future__ import annotations

import enum
from datetime import date

import pytest
from sqlalchemy import func, select

import workflow
from models import (
    Lecturer,
    Project,
    ProjectEvent,
    ProjectLevel,
    ProjectMode,
    ProjectState,
    ProjectVersion,
)
from models.rules import PROJECT_FIELDS
from tests.factories import make_project
from workflow import Action
from workflow.diff import ADDED, CHANGED, REMOVED, diff
from workflow.versions import changed_counts, since_last_seen, versions_of

S = ProjectState


def _strings(changes):
    """The changes as plain text: {label: (old, new)} and [(kind, name, {label: (old, new)})]."""
    fields = {str(c.label): (str(c.old), str(c.new)) for c in changes.fields}
    lecturers = [
        (c.kind, c.name, {str(f.label): (str(f.old), str(f.new)) for f in c.fields})
        for c in changes.lecturers
    ]
    return fields, lecturers


def _returned_and_fixed(session, demo):
    """A branch's project reported, sent back by its society with a reason,
    changed (a field, a lecturer added, one removed) and reported again."""
    cardio, bma = demo["bma_cardio"], demo["bma"]
    project = make_project(session, cardio, S.DRAFT)
    project.lecturers.append(Lecturer(name="赵老师", title="副教授", topic="病例讨论", hours=1))
    workflow.edit(session, cardio, project)
    workflow.apply(session, project, Action.REPORT, cardio)
    workflow.apply(session, project, Action.UNLOCK, bma, "请把理论学时改为16，换掉赵老师")
    project.theory_hours = 16
    removed = next(lec for lec in project.lecturers if lec.name == "赵老师")
    project.lecturers.remove(removed)
    project.lecturers.append(
        Lecturer(name="孙主任", title="主任医师", unit="协和医院", topic="指南解读", hours=2)
    )
    workflow.edit(session, cardio, project)
    workflow.apply(session, project, Action.REPORT, cardio)
    session.commit()
    return project


def test_report_and_publish_keep_numbered_snapshots_and_nothing_else_does(demo_accounts, session):
    cardio, bma, bjcme = demo_accounts["bma_cardio"], demo_accounts["bma"], demo_accounts["bjcme"]
    project = make_project(session, cardio, S.DRAFT, name="版本测试项目")
    assert versions_of(session, project.id) == []
    workflow.apply(session, project, Action.REPORT, cardio)
    workflow.apply(session, project, Action.REPORT, bma)
    workflow.apply(session, project, Action.PUBLISH, bjcme)
    workflow.apply(session, project, Action.WITHDRAW, bjcme, "信息有误")
    workflow.apply(session, project, Action.UNLOCK, bjcme, "请修改")
    session.commit()

    versions = versions_of(session, project.id)
    assert [(v.number, v.action, v.from_state, v.to_state) for v in versions] == [
        (1, "report", "draft", "at_society"),
        (2, "report", "at_society", "at_committee"),
        (3, "publish", "at_committee", "published"),
    ]
    assert [v.actor_unit_id for v in versions] == [cardio.unit_id, bma.unit_id, bjcme.unit_id]
    first, _, published = (v.data for v in versions)
    assert first["name"] == "版本测试项目"
    assert first["level"] == ProjectLevel.SOCIETY_I.value
    assert first["mode"] == ProjectMode.FACE_TO_FACE.value
    assert first["start_date"] == date(2026, 5, 1).isoformat()
    assert first["discipline"] == project.discipline.name
    assert first["project_no"] is None and published["project_no"] == project.project_no
    assert [lec["name"] for lec in first["lecturers"]] == ["王教授"]
    assert first["lecturers"][0]["id"] == project.lecturers[0].id


def _as_stored(value):
    """A value as a snapshot keeps it: enums by value, dates in ISO form."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def _expected_snapshot(project) -> dict:
    """The snapshot of ``project`` built from its ORM values, in the keys' order."""
    expected = {
        name: _as_stored(getattr(project, name)) for name in PROJECT_FIELDS if name != "discipline"
    }
    lecturers = sorted(project.lecturers, key=lambda lec: (lec.position, lec.id))
    return expected | {
        "discipline": project.discipline.name,
        "discipline_id": project.discipline_id,
        "lecturers": [
            {
                "id": lec.id,
                "name": lec.name,
                "title": lec.title,
                "unit": lec.unit,
                "topic": lec.topic,
                "hours": lec.hours,
            }
            for lec in lecturers
        ],
    }


def test_a_snapshot_equals_the_projects_orm_values_field_by_field(demo_accounts, session):
    cardio, bma, bjcme = demo_accounts["bma_cardio"], demo_accounts["bma"], demo_accounts["bjcme"]
    project = make_project(
        session,
        cardio,
        S.DRAFT,
        co_organizer="协办单位",
        practice_hours=2.5,
        credits=3.5,
        remarks="备注：第二期",
    )
    project.lecturers.extend(
        [
            Lecturer(name="赵老师", title=None, unit=None, topic="病例", hours=None, position=0),
            Lecturer(name="钱主任", title="主任医师", unit="协和医院", topic="指南", position=1),
        ]
    )
    workflow.edit(session, cardio, project)
    project_id = project.id
    workflow.apply(session, project, Action.REPORT, cardio)
    workflow.apply(session, project, Action.REPORT, bma)
    workflow.apply(session, project, Action.PUBLISH, bjcme)
    session.commit()
    session.expire_all()
    project = session.get(Project, project_id)
    versions = versions_of(session, project_id)
    assert [v.to_state for v in versions] == ["at_society", "at_committee", "published"]
    expected = _expected_snapshot(project)
    published = versions[-1].data
    for name, value in expected.items():
        assert published[name] == value, name
    assert list(published) == list(expected)  # the same keys, in the same order
    assert published["project_no"] and published["lecturers"][0]["title"] is None
    # The earlier snapshots differ only by the number given at publishing.
    assert versions[0].data == expected | {"project_no": None}


def test_the_reviewer_sees_exactly_what_changed_with_the_reason(demo_accounts, session):
    project = _returned_and_fixed(session, demo_accounts)
    comparison = since_last_seen(session, demo_accounts["bma"], project)

    assert (comparison.old.number, comparison.new.number) == (1, 2)
    fields, lecturers = _strings(comparison.changes)
    assert fields == {"理论学时": ("12", "16")}
    assert lecturers == [
        (
            REMOVED,
            "赵老师",
            {
                "姓名": ("赵老师", ""),
                "职称": ("副教授", ""),
                "授课题目": ("病例讨论", ""),
                "学时": ("1", ""),
            },
        ),
        (
            ADDED,
            "孙主任",
            {
                "姓名": ("", "孙主任"),
                "职称": ("", "主任医师"),
                "工作单位": ("", "协和医院"),
                "授课题目": ("", "指南解读"),
                "学时": ("", "2"),
            },
        ),
    ]
    assert comparison.changes.count == 3
    assert [e.reason for e in comparison.returns] == ["请把理论学时改为16，换掉赵老师"]
    # The branch itself reviews nothing; the committee has not seen it yet.
    assert since_last_seen(session, demo_accounts["bma_cardio"], project) is None
    assert since_last_seen(session, demo_accounts["bjcme"], project) is None


def test_each_reviewer_compares_with_what_reached_it(demo_accounts, session):
    """Sent back by the committee: the society compares with what it reported
    upward, the committee with what reached it, both see the committee's reason."""
    cardio, bma, bjcme = demo_accounts["bma_cardio"], demo_accounts["bma"], demo_accounts["bjcme"]
    project = make_project(session, cardio, S.AT_COMMITTEE)
    workflow.apply(session, project, Action.UNLOCK, bjcme, "学分过高")
    assert since_last_seen(session, bjcme, project) is None  # the branch holds it now
    project.credits = 2
    project.mode = ProjectMode.REMOTE
    workflow.edit(session, cardio, project)
    workflow.apply(session, project, Action.REPORT, cardio)
    session.commit()

    society = since_last_seen(session, bma, project)
    assert (society.old.number, society.new.number) == (2, 3)
    assert _strings(society.changes)[0] == {"学分": ("4", "2"), "举办方式": ("面授", "远程")}
    assert [e.reason for e in society.returns] == ["学分过高"]
    # Not the committee's yet: it sees the changes once the project reaches it.
    assert since_last_seen(session, bjcme, project) is None

    workflow.apply(session, project, Action.REPORT, bma)
    session.commit()
    assert since_last_seen(session, bma, project) is None  # it reported this version itself
    committee = since_last_seen(session, bjcme, project)
    assert (committee.old.number, committee.new.number) == (2, 4)
    assert committee.changes.count == 2


def test_a_project_reported_without_a_send_back_shows_no_changes(demo_accounts, session):
    project = make_project(session, demo_accounts["bma_cardio"], S.PUBLISHED)
    session.commit()
    assert since_last_seen(session, demo_accounts["bjcme"], project) is None
    assert changed_counts(session, demo_accounts["bjcme"], [project]) == {}


def test_snapshots_are_immutable(demo_accounts, session):
    project = _returned_and_fixed(session, demo_accounts)
    version = versions_of(session, project.id)[0]
    version.data = {"name": "改写"}
    with pytest.raises(AttributeError, match="immutable"):
        session.flush()
    session.rollback()
    version = versions_of(session, project.id)[0]
    session.delete(version)
    with pytest.raises(AttributeError, match="immutable"):
        session.flush()
    session.rollback()
    assert versions_of(session, project.id)[0].data["theory_hours"] == 12


def test_deleting_a_project_takes_its_versions_and_keeps_its_history(demo_accounts, session):
    cardio = demo_accounts["bma_cardio"]
    project = make_project(session, cardio, S.RETURNED)
    project_id = project.id
    assert len(versions_of(session, project_id)) == 1
    workflow.apply(session, project, Action.DELETE, cardio)
    session.commit()
    assert versions_of(session, project_id) == []
    deleted = select(func.count()).where(
        ProjectEvent.project_id == project_id, ProjectEvent.action == Action.DELETE.value
    )
    assert session.scalar(deleted) == 1  # the history keeps the deletion


@pytest.mark.parametrize("action", [Action.REPORT, Action.PUBLISH])
def test_snapshots_cost_the_same_statements_for_1_and_40_projects(
    demo_accounts, session, count_statements, action
):
    cardio, bjcme = demo_accounts["bma_cardio"], demo_accounts["bjcme"]
    actor, start = (cardio, S.DRAFT) if action is Action.REPORT else (bjcme, S.AT_COMMITTEE)
    counts = {}
    for size in (1, 40):
        ids = [make_project(session, cardio, start).id for _ in range(size)]
        session.commit()
        for account in demo_accounts.values():
            session.refresh(account)
        with count_statements() as counter:
            result = workflow.apply_bulk(session, action, actor, ids)
        session.commit()
        assert len(result.done) == size
        kept = session.scalar(
            select(func.count()).where(
                ProjectVersion.project_id.in_(ids), ProjectVersion.action == action.value
            )
        )
        assert kept == size
        counts[size] = [s for s in counter.statements if "project_versions" in s]
    assert len(counts[1]) == len(counts[40]) == 2, counts


def test_list_counts_take_one_statement(demo_accounts, session, count_statements):
    fixed = _returned_and_fixed(session, demo_accounts)
    plain = make_project(session, demo_accounts["bma_cardio"], S.AT_SOCIETY)
    session.commit()
    # Loaded before counting, as a list page has them.
    assert fixed.state and plain.state and demo_accounts["bma"].unit.kind
    with count_statements() as counter:
        counts = changed_counts(session, demo_accounts["bma"], [fixed, plain])
    assert counts == {fixed.id: 3}
    assert counter.count == 1
    assert changed_counts(session, demo_accounts["bma_cardio"], [fixed, plain]) == {}


# -- the pure diff ------------------------------------------------------------------
BASE = {
    "name": "项目",
    "level": "society_i",
    "mode": "face_to_face",
    "start_date": "2026-05-01",
    "theory_hours": 12,
    "practice_hours": 0,
    "remarks": None,
    "discipline": "临床内科学",
    "lecturers": [
        {"id": 1, "name": "王教授", "title": None, "unit": None, "topic": "总论", "hours": 2.0},
        {"id": 2, "name": "李医生", "title": "主治医师", "unit": None, "topic": "实操", "hours": 1},
    ],
}


@pytest.fixture
def chinese(app):
    """A request context in the product's default language, for the labels."""
    with app.test_request_context():
        yield


def test_diff_shows_titles_dates_and_numbers_as_the_details_page_does(chinese):
    new = BASE | {
        "level": "national",
        "mode": "blended",
        "start_date": "2026-05-02",
        "theory_hours": 12.0,  # the same number
        "remarks": "",  # still nothing
        "discipline": "儿科学",
    }
    fields, lecturers = _strings(diff(BASE, new))
    assert fields == {
        "项目级别": ("学（协）会Ⅰ类", "国家级"),
        "学科": ("临床内科学", "儿科学"),
        "开始日期": ("2026-05-01", "2026-05-02"),
        "举办方式": ("面授", "线上线下结合"),
    }
    assert lecturers == []


def test_lecturers_are_matched_by_id_then_by_name(chinese):
    renamed = {**BASE["lecturers"][0], "name": "王主任", "title": "教授"}
    retyped = {**BASE["lecturers"][1], "id": 9, "hours": 3}  # removed and typed in again
    _, lecturers = _strings(diff(BASE, BASE | {"lecturers": [renamed, retyped]}))
    assert lecturers == [
        (CHANGED, "王主任", {"姓名": ("王教授", "王主任"), "职称": ("", "教授")}),
        (CHANGED, "李医生", {"学时": ("1", "3")}),
    ]
    assert not diff(BASE, dict(BASE))
