"""使用说明: the manual's flow and duties for the signed-in account's kind of unit,
and the support contact from the configuration (SUPPORT_PHONE, SUPPORT_EMAIL)."""

from __future__ import annotations

from flask import current_app
from flask_admin import expose
from flask_babel import lazy_gettext as _l

from admin_views.base import account
from admin_views.signed_in import SignedInView
from models import UnitKind

# The boxes of the manual's two flows (unit, what it does there); the last is the result.
BRANCH = (_l("Society branch (entry unit)"), _l("Adds and reports projects"))
SOCIETY = (_l("Society head office"), _l("Reviews and reports"))
COMMITTEE = (_l("Beijing CME Committee"), _l("Audits"))
ISSUER = (_l("Certificate-issuing unit (entry unit)"), _l("Adds and reports projects"))
PUBLISHED = (_l("Made public"), _l("Shown on the public catalog"))

FLOWS = {
    "three": {
        "title": _l("Three-level flow (the six societies' projects)"),
        "boxes": (BRANCH, SOCIETY, COMMITTEE, PUBLISHED),
    },
    "two": {
        "title": _l(
            "Two-level flow (units issuing certificates for national and Beijing projects)"
        ),
        "boxes": (ISSUER, COMMITTEE, PUBLISHED),
    },
}

# Per kind: the flows it takes part in, the index of its own box, its functions
# and its duties, in the manual's words.
ROLES = {
    UnitKind.COMMITTEE: {
        "flows": (("three", 2), ("two", 1)),
        "level": _l("Level-one account: Beijing CME Committee (administration)"),
        "functions": _l("Browse, audit, publish, and set reported projects back to modifiable."),
        "duties": (
            _l("Set up and manage the units below, their administration and entry accounts."),
            _l("Audit the projects last and publish them."),
            _l(
                "Check the projects reported to you; if something is wrong, set the project"
                " to modifiable so the entry unit that filled it in can correct it."
            ),
        ),
    },
    UnitKind.SOCIETY: {
        "flows": (("three", 1),),
        "level": _l("Level-two account: society head office (administration)"),
        "functions": _l(
            "Browse, review, report, and set projects of the branches back to modifiable."
        ),
        "duties": (
            _l("Set up and manage only the entry accounts of your branches."),
            _l("Review the projects your branches report."),
            _l(
                "If something is wrong and the project has not yet been reported to the"
                " committee, set it to modifiable so the branch can correct it."
            ),
            _l("If everything is right, report it to the Beijing CME Committee."),
            _l(
                "While a project is modifiable you cannot report it; only a project that is"
                " not modifiable can be reported."
            ),
            _l(
                "Once you have reported a project the branch can no longer change it: only"
                " the committee can set it back to modifiable."
            ),
        ),
    },
    UnitKind.BRANCH: {
        "flows": (("three", 0),),
        "level": _l("Level-three account: society branch (entry unit)"),
        "functions": _l("Add, browse, modify, delete and report projects."),
        "duties": (
            _l("Add the projects that must be reported."),
            _l("Report the projects of your events to the society head office."),
            _l("Fields marked * are required; when everything is filled in, click Submit."),
            _l(
                "A reported project can be modified only after it has been set to"
                " modifiable: if it is wrong, ask the administration unit above to do so."
            ),
            _l(
                "When the changes are done, tick the project, then click"
                ' "Report selected projects".'
            ),
            _l('Once audited and published, the status column shows it as "Published (passed)".'),
        ),
    },
    UnitKind.ISSUER: {
        "flows": (("two", 0),),
        "level": _l("Level-two account: certificate-issuing unit (entry unit)"),
        "functions": _l("Add, browse, modify, delete and report projects."),
        "duties": (
            _l("Add the projects that must be reported."),
            _l("Report your projects directly to the Beijing CME Committee."),
            _l("Fields marked * are required; when everything is filled in, click Submit."),
            _l(
                "A reported project can be modified only after it has been set to"
                " modifiable: if it is wrong, ask the committee to do so."
            ),
            _l(
                "When the changes are done, tick the project, then click"
                ' "Report selected projects".'
            ),
            _l('Once audited and published, the status column shows it as "Published (passed)".'),
        ),
    },
}


class HelpView(SignedInView):
    """Open to every signed-in account; what it shows depends on the unit's kind."""

    @expose("/")
    def index(self):
        role = ROLES[account().unit.kind]
        flows = [{**FLOWS[key], "own": own, "key": key} for key, own in role["flows"]]
        config = current_app.config
        return self.render(
            "admin/help.html",
            role=role,
            flows=flows,
            support_phone=config.get("SUPPORT_PHONE"),
            support_email=config.get("SUPPORT_EMAIL"),
        )


def register(admin) -> None:
    admin.add_view(HelpView(name=_l("User guide"), endpoint="help", url="help"))
