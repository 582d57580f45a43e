"""Row ids in URL paths (``<id:…>``, admin_views.base.IdConverter) on both databases:
ASCII digits from 1 to 2^31−1 only. A number the database cannot hold was a 500 (werkzeug's
``<int:…>`` takes any size), and other scripts' digits were read as the id they spell."""

from __future__ import annotations

import pytest

from models import ProjectState
from tests.admin.test_import import download_template, fill, preview, project_row
from tests.factories import make_project
from tests.refusals import assert_not_found, assert_refused_with

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
# Each as the path segment it would be.
HOSTILE = {
    "2**64": str(2**64),
    "10**30": str(10**30),
    "2**31": str(2**31),
    "zero": "0",
    "Arabic-Indic 123": "123".translate(ARABIC_INDIC),
    "full-width 123": "123".translate(FULL_WIDTH),
}
PATHS = {
    "message": "/admin/messages/{}/open",
    "import batch": "/admin/import/batch/{}/",
    "roster import": "/admin/roster-import/{}/",
    "roster export": "/admin/roster-import/{}/export.xlsx",
    "public project": "/projects/{}",
    "API project": "/api/v1/projects/{}",
    "execution report": "/admin/execution/{}/",
    "execution report form": "/admin/execution/{}/edit",
    "roster learner": "/admin/execution/1/roster/{}/edit",
}


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("value", list(HOSTILE))
def test_an_id_that_cannot_be_is_not_found(login_as, path, value):
    browser = login_as("bma_cardio")
    assert_not_found(browser.get(PATHS[path].format(HOSTILE[value])))


@pytest.mark.parametrize("value", ["2**64", "10**30", "Arabic-Indic 123"])
def test_confirming_a_batch_that_cannot_be_is_not_found(login_as, value):
    browser = login_as("bma_cardio")
    url = f"/admin/import/batch/{HOSTILE[value]}/confirm/"
    assert_refused_with(browser.post(url, token_from="/admin/import/"), 404)


def test_a_real_id_in_other_digits_is_not_that_id(login_as, session, demo_accounts):
    """The same id in Arabic-Indic or full-width digits finds nothing; in ASCII it does."""
    project = make_project(session, demo_accounts["bma_cardio"], ProjectState.PUBLISHED)
    session.commit()
    browser = login_as("bma_cardio")
    batch_id, _ = preview(browser, fill(download_template(browser), [project_row("1")]))
    for path, key in (
        ("/projects/{}", project.id),
        ("/api/v1/projects/{}", project.id),
        ("/admin/import/batch/{}/", batch_id),
    ):
        assert browser.get(path.format(key)).status_code == 200, path
        for digits in (ARABIC_INDIC, FULL_WIDTH):
            assert browser.get(path.format(str(key).translate(digits))).status_code == 404
