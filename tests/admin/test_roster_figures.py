"""The roster figures an execution report keeps on its row (``attended_learners``,
``credits_awarded``: what 统计 and the public catalog read instead of the roster) equal a
fresh count of its roster after every kind of roster write: the panel's add, edit and
remove (through the report page's forms), the import's confirmation (new and changed
learners), the on-site sign-in (the public form); and a write that is refused leaves
them as they were. On both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import case, func, select

import imports
from models import ExecutionReport, RosterEntry
from tests.admin.conftest import own_context_browser
from tests.admin.test_execution_report import learner_form, post_learner
from tests.admin.test_roster_import import csv_bytes, learner_row
from tests.public.test_signin import Sheet
from tests.public.test_signin import learner as signin_learner
from tests.test_execution_workflow import learner
from workflow import Action, execution


def kept(session, report_id: int) -> tuple[int, float]:
    session.expire_all()
    row = session.execute(
        select(ExecutionReport.attended_learners, ExecutionReport.credits_awarded).where(
            ExecutionReport.id == report_id
        )
    ).one()
    return row[0], row[1]


def counted(session, report_id: int) -> tuple[int, float]:
    row = session.execute(
        select(
            func.coalesce(func.sum(case((RosterEntry.attended, 1), else_=0)), 0),
            func.coalesce(func.sum(RosterEntry.credits), 0.0),
        ).where(RosterEntry.report_id == report_id)
    ).one()
    return int(row[0]), float(row[1])


def assert_kept(session, report_id: int, expected: tuple[int, float]) -> None:
    assert kept(session, report_id) == pytest.approx(counted(session, report_id))
    assert kept(session, report_id) == pytest.approx(expected)


def test_a_new_report_keeps_zero(session, report):
    assert_kept(session, report.id, (0, 0))


def test_the_panel_add_edit_and_remove(demo_accounts, session, report):
    owner = demo_accounts["bma_cardio"]
    ids = []
    for values in (learner(credits=4), learner(credits=2.5), learner(attended=False, credits=0)):
        entry, errors = execution.add_learner(session, owner, report, values)
        assert errors == {}
        session.commit()
        ids.append(entry.id)
    assert_kept(session, report.id, (2, 6.5))

    entry = session.get(RosterEntry, ids[0])
    values = {name: getattr(entry, name) for name in execution.ROSTER_FIELDS}
    errors = execution.update_learner(
        session, owner, report, entry, values | {"attended": False, "credits": 0}
    )
    assert errors == {}
    session.commit()
    assert_kept(session, report.id, (1, 2.5))

    # A refused edit (credits above the report's) changes nothing.
    errors = execution.update_learner(session, owner, report, entry, values | {"credits": 9})
    assert errors
    session.rollback()
    assert_kept(session, report.id, (1, 2.5))

    assert execution.remove_learners(session, owner, report, [ids[1]]) == 1
    session.commit()
    assert_kept(session, report.id, (0, 0))
    assert execution.remove_learners(session, owner, report, ids) == 2
    session.commit()
    assert_kept(session, report.id, (0, 0))


def test_the_report_pages_forms(session, report, login_as):
    """The same through the report page's forms (the views call the functions above)."""
    browser = login_as("bma_cardio")
    add = f"/admin/execution/{report.id}/roster/add"
    form = learner_form(credits="3")
    response = post_learner(browser, add, form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert_kept(session, report.id, (1, 3))
    entry_id = session.scalar(select(RosterEntry.id).where(RosterEntry.report_id == report.id))
    edit = f"/admin/execution/{report.id}/roster/{entry_id}/edit"
    response = post_learner(browser, edit, form | {"credits": "1.5"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert_kept(session, report.id, (1, 1.5))
    response = browser.post(
        f"/admin/execution/{report.id}/roster/remove",
        {"entry": [entry_id]},
        token_from=f"/admin/execution/{report.id}/",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert_kept(session, report.id, (0, 0))


def test_the_import_of_new_and_changed_learners(demo_accounts, session, report):
    owner = demo_accounts["bma_cardio"]

    def confirm(rows: list[dict], name: str) -> None:
        data = csv_bytes(rows, "utf-8")
        batch = imports.roster.preview(session, owner, report, name, data).batch
        session.commit()
        imports.roster.confirm(session, owner, report, batch.id)
        session.commit()

    rows = [learner_row(f"学员{n}") for n in range(5)]  # attended, the report's 4 credits
    rows.append(learner_row("缺席", 出勤="否", 授予学分="0"))
    confirm(rows, "first.csv")
    assert_kept(session, report.id, (5, 20))
    # The same learners again, two of them changed: absent now, one with fewer credits.
    changed = [dict(rows[0], 出勤="否", 授予学分="0"), dict(rows[1], 授予学分="1")]
    confirm([*changed, learner_row("新学员")], "second.csv")
    assert_kept(session, report.id, (5, 4 * 4 + 1))


def test_the_on_site_sign_in(demo_accounts, session, app):
    sheet = Sheet(session, demo_accounts["bma_cardio"])
    phone = own_context_browser(app)
    for serial in (1, 2):
        response = phone.post(sheet.url, signin_learner(serial), token_from=sheet.url)
        assert response.status_code == 200
        assert_kept(session, sheet.report.id, (serial, serial * sheet.report.credits))
    # The same learner again: already on the roster, nothing counted twice.
    phone.post(sheet.url, signin_learner(1), token_from=sheet.url)
    assert_kept(session, sheet.report.id, (2, 2 * sheet.report.credits))


def test_the_figures_stay_when_the_report_moves(demo_accounts, session, report):
    """Moving the report (上报, 审核通过) does not touch its roster figures."""
    owner = demo_accounts["bma_cardio"]
    execution.add_learner(session, owner, report, learner(credits=4))
    session.commit()
    execution.move(session, report, Action.REPORT, owner)
    execution.move(session, report, Action.REPORT, demo_accounts["bma"])
    execution.move(session, report, Action.ACCEPT, demo_accounts["bjcme"])
    session.commit()
    assert_kept(session, report.id, (1, 4))
