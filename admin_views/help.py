"""使用说明: one section per feature of the panel, each shown to the kinds of unit that use
it, in the manual's words, with a small diagram of its steps; the manual's flow and duties
for the signed-in account's kind of unit; and the support contact from the configuration
(SUPPORT_PHONE, SUPPORT_EMAIL).

Every panel page that a section explains shows a "使用说明" link beside its title
(``help_link``, a template global rendered once by ``templates/admin/cme_base.html``),
opening that section: ``anchor_for`` maps the request's endpoint to the section's anchor.

The sentences name buttons and pages through placeholders only: ``%(b_report)s`` is the
button label ``BUTTONS["report"]`` (the same msgid as the button itself, so the guide says
exactly what the screen says), ``%(p_audit)s`` the menu name of the view ``audit``.
``tests/admin/test_help.py`` checks every label against the compiled catalogs and the
screens."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from admin_views.base import account
from admin_views.registry import find_view
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

C, S, B, ISS = UnitKind.COMMITTEE, UnitKind.SOCIETY, UnitKind.BRANCH, UnitKind.ISSUER
ENTRY = (B, ISS)
REVIEWERS = (C, S)
ALL = (C, S, B, ISS)

# The button labels the guide names, by placeholder (``%(b_<key>)s``): each is the msgid
# of the button on the screen, so it reads as the screen does in either language.
BUTTONS = {
    "add_project": _l("Add project"),
    "submit": _l("Submit"),
    "delete": _l("Delete"),
    "report": _l("Report selected projects"),
    "report_one": _l("Report this project"),
    "unlock": _l("Set modifiable"),
    "publish": _l("Approve and publish"),
    "withdraw": _l("Withdraw publication"),
    "export_csv": _l("Export CSV"),
    "export_xlsx": _l("Export Excel"),
    "copy": _l("Copy as a new project"),
    "changes": _l("Changes"),
    "compare": _l("Compare"),
    "versions": _l("Versions"),
    "template": _l("Download the template"),
    "upload": _l("Upload and preview"),
    "confirm_import": _l("Confirm import"),
    "show": _l("Show"),
    "copy_rules": _l("Copy and edit"),
    "no_rules": _l("No rules this year"),
    "grant": _l("Grant exception"),
    "remind_now": _l("Remind now"),
    "report_selected": _l("Report selected"),
    "accept": _l("Approve the report"),
    "open_report": _l("Report the execution"),
    "edit_report": _l("Modify the execution report"),
    "report_report": _l("Report this execution report"),
    "add_learner": _l("Add a learner"),
    "import_roster": _l("Import the roster"),
    "export_roster": _l("Export the roster"),
    "signin": _l("On-site sign-in"),
    "open_signin": _l("Open sign-in"),
    "close_signin": _l("Close sign-in"),
    "revoke": _l("Revoke"),
    "export_tables": _l("Export all tables (XLSX)"),
    "download": _l("Download"),
    "export_again": _l("Export again"),
    "mark_all_read": _l("Mark all as read"),
    "save_choice": _l("Save the choice"),
    "change_password": _l("Change password"),
    "add_unit": _l("Add unit"),
    "add_account": _l("Add account"),
    "deactivate": _l("Deactivate"),
    "activate": _l("Activate"),
    "reset_password": _l("Reset password"),
    "lift_lock": _l("Unlock"),
}

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Line:
    """A sentence (or a step of a diagram) and the kinds of unit it is for (every kind
    the section is shown to when empty)."""

    text: object
    kinds: tuple = ()

    def for_kind(self, kind) -> bool:
        return not self.kinds or kind in self.kinds


def line(text, *kinds) -> Line:
    return Line(text, kinds)


@dataclass(frozen=True)
class Section:
    anchor: str  # the id on the help page, e.g. "help-import"
    title: object  # the feature, as the screens name it
    kinds: tuple  # the kinds of unit that use it
    pages: tuple  # the views (endpoints) whose "使用说明" link opens it
    steps: tuple  # the diagram: Lines, in order
    lines: tuple  # the text: Lines


SECTIONS = (
    Section(
        "help-dashboard",
        _l("Home page"),
        ALL,
        ("admin",),
        (
            line(_l("Read the counts of your unit's work")),
            line(_l("Click a count")),
            line(_l("Act on the list it opens")),
        ),
        (
            line(
                _l(
                    "%(p_admin)s shows what waits for your unit: each count opens the list"
                    " of those projects or execution reports."
                )
            ),
            line(
                _l(
                    "Above the counts, the filing windows' countdown says how many days are"
                    " left before your step of the year closes (see %(p_windows)s)."
                )
            ),
            line(
                _l("The oldest projects waiting for you are listed by name: click one to open it."),
                C,
            ),
        ),
    ),
    Section(
        "help-projects",
        _l("Project lists"),
        ALL,
        ("projects", "review", "audit"),
        (
            line(_l("Add and fill in the project"), *ENTRY),
            line(_l("Find the projects with the tabs, the year and a keyword")),
            line(_l("Tick the projects")),
            line(_l("Click the button of the step"), *ENTRY, S),
            line(_l("Report upward or set modifiable"), S),
            line(_l("Publish, set modifiable or withdraw"), C),
        ),
        (
            line(
                _l(
                    "Your list is %(p_projects)s: click %(b_add_project)s, fill in the form,"
                    " then tick the project and click %(b_report)s."
                ),
                *ENTRY,
            ),
            line(
                _l("A branch reports to its society head office, which reports to the committee."),
                B,
            ),
            line(
                _l("A certificate-issuing unit reports directly to the committee."),
                ISS,
            ),
            line(
                _l(
                    "A project can be modified or deleted (%(b_delete)s) only while it is"
                    " modifiable (not reported, or returned); a returned project shows the reason"
                    " under its name."
                ),
                *ENTRY,
            ),
            line(
                _l(
                    "Your list is %(p_review)s: it opens on the projects waiting for you."
                    " Open a project to check it, then tick the projects and click"
                    " %(b_report)s to report them to the committee, or %(b_unlock)s to send"
                    " them back to the branch with a reason."
                ),
                S,
            ),
            line(
                _l(
                    "A modifiable project cannot be reported: it waits for its branch. Once"
                    " you have reported a project, only the committee can set it back to"
                    " modifiable."
                ),
                S,
            ),
            line(
                _l(
                    "Your list is %(p_audit)s: it opens on the projects waiting for audit."
                    " Tick the projects and click %(b_publish)s to make them public, or"
                    " %(b_unlock)s to send them back with a reason. %(b_withdraw)s takes a"
                    " published project off the public catalog (a reason is required)."
                ),
                C,
            ),
            line(
                _l(
                    "A bulk action moves every ticked project it may and lists the ones it"
                    " skipped, with the reason for each."
                )
            ),
            line(
                _l(
                    "The tabs count the projects of each state for the current year and"
                    " keyword; %(b_export_csv)s and %(b_export_xlsx)s export the list as it"
                    " is filtered (a long export is built in the background, see"
                    " %(p_jobs)s)."
                )
            ),
        ),
    ),
    Section(
        "help-project-form",
        _l("Adding and modifying a project"),
        ENTRY,
        (),
        (
            line(_l("Fill in the fields marked *")),
            line(_l("Add the lecturers")),
            line(_l("Read the filing rules' yellow box")),
            line(_l("Click Submit")),
        ),
        (
            line(
                _l(
                    "Fields marked * are required; each wrong value is explained under its"
                    " field, and nothing is saved until all are right."
                )
            ),
            line(
                _l(
                    "A yellow box says which filing rules the project would break when"
                    " reported; a blocking rule stops the report (see %(p_rules)s)."
                )
            ),
            line(
                _l(
                    "When someone else saved the project after you opened it, your"
                    " %(b_submit)s is not saved over their change: the page says so."
                )
            ),
        ),
    ),
    Section(
        "help-copy",
        _l("Copy as a new project"),
        ENTRY,
        (),
        (
            line(_l("Open one of your projects")),
            line(_l("Click Copy as a new project")),
            line(_l("Enter the new dates (and number)")),
            line(_l("Click Submit")),
        ),
        (
            line(
                _l(
                    "%(b_copy)s on a project's details page opens the add form filled in from"
                    " it: every field and lecturer, with this year as its year."
                )
            ),
            line(
                _l(
                    "The dates and the project number are left empty: the new project needs"
                    " its own. Nothing is saved until you click %(b_submit)s; rename the copy"
                    " if the event is a different one."
                )
            ),
        ),
    ),
    Section(
        "help-versions",
        _l("What changed (versions)"),
        ALL,
        (),
        (
            line(_l("Set a project modifiable"), *REVIEWERS),
            line(_l("The entry unit corrects it and reports again"), *REVIEWERS),
            line(_l("Read what changed, field by field"), *REVIEWERS),
            line(_l("Report the project"), *ENTRY),
            line(_l("A version is kept at each step"), *ENTRY),
        ),
        (
            line(
                _l(
                    "A version of the project is kept each time it is reported or published;"
                    " its details page lists them under %(b_versions)s: choose two and click"
                    " %(b_compare)s to see %(b_changes)s."
                )
            ),
            line(
                _l(
                    "When a project you sent back is reported again, the list marks it as"
                    " changed and its details page shows each changed field, old and new,"
                    " beside the reasons you gave."
                ),
                *REVIEWERS,
            ),
        ),
    ),
    Section(
        "help-import",
        _l("Batch import"),
        ENTRY,
        ("imports",),
        (
            line(_l("Download the template")),
            line(_l("Fill in one project per row")),
            line(_l("Upload and preview")),
            line(_l("Confirm import")),
        ),
        (
            line(
                _l(
                    "%(p_imports)s adds many projects at once: %(b_template)s, fill in one"
                    " project per row (lecturers on the second sheet), then %(b_upload)s."
                )
            ),
            line(
                _l(
                    "The preview lists every error by sheet, row and column, and what the"
                    " filing rules would say. Nothing is saved until you click"
                    " %(b_confirm_import)s: then every row is added, or none."
                )
            ),
            line(
                _l(
                    "A file that cannot be read, has formulas or is too large is refused with"
                    " the reason. The same file imported again adds nothing twice: a row"
                    " naming one of your projects updates it while it is modifiable."
                )
            ),
        ),
    ),
    Section(
        "help-rules",
        _l("Filing rules"),
        ALL,
        ("rules",),
        (
            line(_l("Choose the year"), C),
            line(_l("Turn each rule on: block or warn"), C),
            line(_l("Submit"), C),
            line(_l("Read the filing rules' yellow box"), *ENTRY),
            line(_l("Report the project"), *ENTRY),
            line(_l("Projects are checked when they move up")),
            line(_l("The warnings are shown under a project's name in your list."), S),
        ),
        (
            line(
                _l(
                    "%(p_rules)s sets, per year, the checks a project must pass before it is"
                    " reported or published: the deadline, credits against hours, duplicates,"
                    " a principal's yearly quota, lecturers, overdue execution reports."
                ),
                C,
            ),
            line(
                _l(
                    "Each rule blocks (the project cannot move, and the reason is given) or"
                    " warns (it moves, and every reviewer above sees the warning)."
                ),
            ),
            line(
                _l(
                    "A year without rules of its own follows the rules of the last year that"
                    " has them (the page says so): %(b_copy_rules)s copies them into the year"
                    " to change them; %(b_no_rules)s turns every check off for that year."
                ),
                C,
            ),
            line(
                _l(
                    "The same page sets how many days after its end date an execution report"
                    " is due."
                ),
                C,
            ),
            line(
                _l(
                    "Your form and the import preview show what a project would break before"
                    " you report it; a blocked project is listed as skipped, with the rule."
                ),
                *ENTRY,
            ),
            line(
                _l("The warnings are shown under a project's name in your list."),
                S,
            ),
        ),
    ),
    Section(
        "help-windows",
        _l("Filing windows"),
        ALL,
        ("windows",),
        (
            line(_l("The committee sets each step's dates"), C),
            line(_l("A society sets an earlier cut-off for its branches"), S),
            line(_l("Read your step's dates and the countdown"), *ENTRY),
            line(_l("Late units may be granted an exception")),
        ),
        (
            line(
                _l(
                    "Each year's steps (entry units report, societies report, the committee"
                    " audits) are taken between their start and close dates, Beijing time,"
                    " both days included. A step outside its dates is refused with the date;"
                    " sending a project back is never refused."
                )
            ),
            line(
                _l(
                    "%(p_windows)s: choose the year, enter each step's start and close dates"
                    " and click %(b_submit)s; leave both empty for no limit. Grant an"
                    " exception to a late unit of your tree with a date and a reason"
                    " (%(b_grant)s)."
                ),
                C,
            ),
            line(
                _l(
                    "%(p_windows)s: set a cut-off for your branches, no later than the"
                    " committee's close, and grant one of your branches an exception with a"
                    " reason (%(b_grant)s)."
                ),
                S,
            ),
            line(
                _l(
                    "%(p_windows)s shows your step's dates; %(p_admin)s and your list show"
                    " how many days are left, and the last day says so. After the close, ask"
                    " the unit above for an exception: a project reported under it says so"
                    " in its history."
                ),
                *ENTRY,
            ),
        ),
    ),
    Section(
        "help-reminders",
        _l("Reminders"),
        ALL,
        ("reminders",),
        (
            line(_l("An item passes its deadline")),
            line(_l("The unit holding it is reminded")),
            line(_l("Still not done after M days: the unit above is told")),
        ),
        (
            line(
                _l(
                    "A reminder comes as a message and, if you chose so, by e-mail:"
                    " projects not reported before the close, projects waiting too long at a"
                    " reviewer, execution reports coming due or overdue. Each unit gets at"
                    " most one reminder of each kind a day."
                )
            ),
            line(
                _l(
                    "When items stay overdue, the unit above is told too: a branch's society,"
                    " or the committee for a society or a certificate-issuing unit."
                ),
                C,
                S,
            ),
            line(
                _l(
                    "%(p_reminders)s: turn each kind on or off, set its number of days (N) and"
                    " after how many more days the unit above is told (M), then"
                    " %(b_submit)s. %(b_remind_now)s sends today's reminders at once; the"
                    " page lists every reminder sent."
                ),
                C,
            ),
        ),
    ),
    Section(
        "help-executions",
        _l("Execution reports"),
        ALL,
        ("executions", "execution_review", "execution_audit", "execution"),
        (
            line(_l("The project is published and held")),
            line(_l("Fill in the report and the roster"), *ENTRY),
            line(_l("Report it"), *ENTRY),
            line(_l("Review and report it"), S),
            line(_l("Approve it: the certificates are issued"), C),
        ),
        (
            line(
                _l(
                    "After the event, report what was held: %(p_executions)s lists your"
                    " published projects with the report's state and due date (marked overdue"
                    " when late). %(b_open_report)s opens the report, filled in from the project;"
                    " %(b_edit_report)s completes it; %(b_report_report)s reports it (or"
                    " tick several and %(b_report_selected)s)."
                ),
                *ENTRY,
            ),
            line(
                _l(
                    "%(p_execution_review)s lists your branches' reports: check the"
                    " comparison with the published project and the roster, then"
                    " %(b_report_selected)s, or %(b_unlock)s with a reason."
                ),
                S,
            ),
            line(
                _l(
                    "%(p_execution_audit)s lists the reports waiting for you:"
                    " %(b_accept)s issues the certificates; %(b_unlock)s (a reason is"
                    " required) sends a report back, an accepted one too, and revokes its"
                    " certificates."
                ),
                C,
            ),
            line(
                _l(
                    "Reviewers see ID numbers masked, and what changed since the last time a"
                    " report was reported."
                ),
                *REVIEWERS,
            ),
        ),
    ),
    Section(
        "help-roster",
        _l("Roster and on-site sign-in"),
        ENTRY,
        ("roster_import", "signin_sheet"),
        (
            line(_l("Add learners, import a file, or open the sign-in")),
            line(_l("Check attendance and credits")),
            line(_l("Report the execution report")),
        ),
        (
            line(
                _l(
                    "On the report's page, %(b_add_learner)s adds one learner;"
                    " %(b_import_roster)s reads a filled-in template (preview, then confirm):"
                    " a learner whose ID number is already on the roster is updated, not"
                    " added twice. %(b_export_roster)s downloads the roster."
                )
            ),
            line(
                _l(
                    "%(b_signin)s shows a QR code after %(b_open_signin)s: learners scan it"
                    " with their phones during the event and are put on the roster as"
                    " attended. %(b_close_signin)s ends it; opening it again makes a new code."
                )
            ),
        ),
    ),
    Section(
        "help-certificates",
        _l("Certificates"),
        ALL,
        ("certificates", "certificate_settings"),
        (
            line(_l("The committee approves the report")),
            line(_l("Credit and teaching certificates are issued")),
            line(_l("Anyone verifies them with the QR code")),
        ),
        (
            line(
                _l(
                    "%(p_certificates)s lists the certificates of the reports you may see,"
                    " with each one's PDF; a report's page opens its own."
                )
            ),
            line(
                _l(
                    "Without logging in, anyone checks a certificate on the public site:"
                    " /verify (its QR code, or its number with the learner's name), and a"
                    " learner reads their credits at /credits (ID number and name)."
                )
            ),
            line(
                _l(
                    "%(b_revoke)s on a certificate's page revokes it (a reason is required);"
                    " %(p_certificate_settings)s sets the number format, the title line and"
                    " the seal images."
                ),
                C,
            ),
        ),
    ),
    Section(
        "help-statistics",
        _l("Statistics"),
        REVIEWERS,
        ("statistics",),
        (
            line(_l("Choose the year, level and discipline")),
            line(_l("Read the tables and charts")),
            line(_l("Export all tables")),
        ),
        (
            line(
                _l(
                    "%(p_statistics)s counts the projects you may see (drafts never): by"
                    " year, state, level, unit, discipline and mode, published per month,"
                    " time waiting at each reviewer, the oldest waiting projects and the"
                    " send-backs, late reports and reminders per unit."
                )
            ),
            line(_l("Most tables have a chart; every table is a sheet of %(b_export_tables)s.")),
            line(
                _l(
                    "The execution reports table lists your units by name, 50 to a page; its"
                    " total is that of every unit, and the exported workbook holds every unit."
                )
            ),
        ),
    ),
    Section(
        "help-jobs",
        _l("Background exports"),
        ALL,
        ("jobs",),
        (
            line(_l("Export a long list")),
            line(_l("Wait on the export's page")),
            line(_l("Download the file")),
        ),
        (
            line(
                _l(
                    "An export of many rows is built in the background: you are taken to its"
                    " page in %(p_jobs)s, which shows the progress and then %(b_download)s."
                    " Only you can download it, for a limited time."
                )
            ),
            line(_l("A failed or expired export can be started again with %(b_export_again)s.")),
        ),
    ),
    Section(
        "help-messages",
        _l("Messages"),
        ALL,
        ("messages",),
        (
            line(_l("Projects move")),
            line(_l("The units concerned get a message")),
            line(_l("Read it here or by e-mail")),
        ),
        (
            line(
                _l(
                    "%(p_messages)s (the bell, with the number unread) lists what happened to"
                    " your unit's projects and reports: reported to you, sent back with the"
                    " reason, published, reminders. Click one to open its list;"
                    " %(b_mark_all_read)s."
                )
            ),
            line(
                _l(
                    "By e-mail: enter your address on %(p_my_account)s, then choose on"
                    " %(p_messages)s each message at once, a daily digest, or none, and"
                    " click %(b_save_choice)s."
                )
            ),
        ),
    ),
    Section(
        "help-account",
        _l("My account"),
        ALL,
        ("my_account",),
        (
            line(_l("Open My account in the menu with your name")),
            line(_l("Enter your name, telephone and e-mail")),
            line(_l("Submit")),
        ),
        (
            line(
                _l(
                    "%(p_my_account)s keeps your name, telephone and e-mail address (where"
                    " messages and reminders are sent); %(b_change_password)s changes your"
                    " password. Your unit and role are set by the unit above."
                )
            ),
        ),
    ),
    Section(
        "help-units",
        _l("Units and accounts"),
        REVIEWERS,
        ("units", "users", "disciplines", "security_log"),
        (
            line(_l("Add the unit")),
            line(_l("Add its account")),
            line(_l("Give the user name and password to the unit")),
        ),
        (
            line(
                _l(
                    "%(p_units)s shows your tree with each unit's accounts and projects;"
                    " %(b_add_unit)s needs the name, address, responsible person, telephone"
                    " and postal code. %(b_deactivate)s keeps all of a unit's data but its"
                    " accounts can no longer log in; %(b_activate)s undoes it."
                )
            ),
            line(
                _l("A society adds and manages only its branches and their accounts."),
                S,
            ),
            line(
                _l(
                    "%(p_users)s: %(b_add_account)s gives a unit a user name and a first"
                    " password, changed at the first login; %(b_reset_password)s sets a new"
                    " one; %(b_lift_lock)s lets a locked account log in again."
                )
            ),
            line(
                _l(
                    "%(p_disciplines)s keeps the discipline list of your tree;"
                    " %(p_security_log)s records logins and changes to accounts."
                ),
                C,
            ),
            line(_l("%(p_security_log)s records logins and changes to accounts."), S),
        ),
    ),
)

SECTION_OF_ANCHOR = {section.anchor: section for section in SECTIONS}
# A view's pages → the section that explains them.
PAGE_ANCHORS = {page: section.anchor for section in SECTIONS for page in section.pages}
# Pages of a view explained by another section than the view's list.
FORM_ENDPOINTS = {"projects.create_view", "projects.edit_view"}
COPY_ARG = "copy"


def anchor_for(endpoint: str | None, args=None) -> str | None:
    """The help section that explains the page of ``endpoint`` (with its query ``args``),
    or None for a page no section explains."""
    if not endpoint:
        return None
    if endpoint in FORM_ENDPOINTS:
        return "help-copy" if (args or {}).get(COPY_ARG) else "help-project-form"
    if endpoint.endswith(".diff_view"):
        return "help-versions"
    return PAGE_ANCHORS.get(endpoint.split(".", 1)[0])


def _label(key: str):
    """A placeholder's words: a button's label, or a view's menu name."""
    kind, _, name = key.partition("_")
    if kind == "b":
        return BUTTONS[name]
    if kind == "p":
        view = find_view(name)
        if view is None:
            raise KeyError(key)
        return view.name
    raise KeyError(key)


def render_line(text) -> Markup:
    """A sentence with its buttons and page names marked up."""
    words = str(text)
    labels = {}
    for key in PLACEHOLDER.findall(words):
        css = "cme-help-button" if key.startswith("b_") else "cme-help-page"
        labels[key] = Markup('<span class="{}">{}</span>').format(css, _label(key))
    return escape(words) % labels


def sections_for(kind) -> list[dict]:
    """The sections an account of ``kind`` reads, each with its own steps and lines."""
    shown = []
    for section in SECTIONS:
        if kind not in section.kinds:
            continue
        shown.append(
            {
                "anchor": section.anchor,
                "title": section.title,
                "steps": [render_line(s.text) for s in section.steps if s.for_kind(kind)],
                "lines": [render_line(x.text) for x in section.lines if x.for_kind(kind)],
            }
        )
    return shown


def help_link() -> Markup:
    """The "使用说明" link beside the page's title, opening the section that explains
    the page for the signed-in account; nothing where none does or for an account
    whose kind does not read that section."""
    user = account()
    anchor = anchor_for(request.endpoint, request.args)
    if user is None or anchor is None:
        return Markup("")
    section = SECTION_OF_ANCHOR[anchor]
    if user.unit.kind not in section.kinds:
        return Markup("")
    return Markup(
        '<a class="cme-help-link btn btn-outline-secondary btn-sm float-right ml-2"'
        ' href="{href}" aria-label="{name}"><span aria-hidden="true">?</span> {text}</a>'
    ).format(
        href=url_for("help.index") + "#" + anchor,
        name=_l("User guide: %(feature)s", feature=section.title),
        text=_l("User guide"),
    )


class HelpView(SignedInView):
    """Open to every signed-in account; what it shows depends on the unit's kind."""

    @expose("/")
    def index(self):
        kind = account().unit.kind
        role = ROLES[kind]
        flows = [{**FLOWS[key], "own": own, "key": key} for key, own in role["flows"]]
        config = current_app.config
        return self.render(
            "admin/help.html",
            role=role,
            flows=flows,
            sections=sections_for(kind),
            support_phone=config.get("SUPPORT_PHONE"),
            support_email=config.get("SUPPORT_EMAIL"),
        )


def register(admin) -> None:
    admin.add_view(HelpView(name=_l("User guide"), endpoint="help", url="help"))
    admin.app.add_template_global(help_link, "help_link")
