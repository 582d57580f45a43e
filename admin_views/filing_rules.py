"""备案规则 (``/admin/rules/``): a committee's filing rules, per year.

Only a committee's accounts reach it, and each edits its own committee's rules
(the checks themselves: ``workflow.filing_rules``). A rule not yet saved for a year is
shown with its defaults, off; saving the page stores all of them. A year with no rules
saved follows the latest earlier year that has some: the page says so ("2027 年度沿用
2026 年度的规则"), shows those rules read-only, and offers 复制并修改 (``copy``) and
本年度不设规则 (``no_rules``). Below them, the
committee's 执行情况上报期限 of the year (``workflow.execution_rules.set_due_days``).
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import BooleanField, Form, IntegerField, SelectChoice

import permissions
import workflow
from admin_views.base import ChoiceField, account
from admin_views.forms import whole_number
from admin_views.signed_in import SignedInView
from extensions import db
from models import DEFAULT_PARAMS, ProjectLevel, ProjectState, RuleKind, Severity, rules
from models.base import beijing_today
from workflow import Action, execution, execution_rules, filing_rules

# Each parameter's label and bounds; the credits maxima take the model's bound.
PARAMS = {
    "days": (_l("Days before the start date"), 0, 365),
    "hours_per_credit": (_l("Hours per credit"), 1, 100),
    "max_projects": (_l("Projects per principal a year"), 1, 1000),
    "overdue_days": (_l("Days overdue more than"), 0, 365),
    **{
        f"max_{level.value}": (
            _l("Maximum credits of a %(level)s project", level=level.title),
            1,
            rules.MAX_CREDITS,
        )
        for level in ProjectLevel
    },
}


# A year without rules of its own follows the latest earlier year that has some.
FOLLOWS = _l("%(year)s follows the rules of %(source)s.")


def _field_name(kind: RuleKind, name: str) -> str:
    return f"{kind.value}-{name}"


def rules_form(settings: dict, formdata=None) -> Form:
    """One form for the year's five rules: on/off, block/warn, parameters."""

    class RulesForm(Form):
        pass

    for kind in settings:
        setattr(RulesForm, _field_name(kind, "active"), BooleanField(_l("On")))
        setattr(
            RulesForm,
            _field_name(kind, "severity"),
            ChoiceField(
                _l("When broken"),
                # A select always has one of its choices; ChoiceField refuses others in Chinese.
                choices=[SelectChoice(s.value, s.title) for s in Severity],
            ),
        )
        for name in DEFAULT_PARAMS[kind]:
            label, low, high = PARAMS[name]
            setattr(
                RulesForm,
                _field_name(kind, name),
                IntegerField(label, validators=whole_number(low, high)),
            )
    data = {}
    for kind, rule in settings.items():
        data[_field_name(kind, "active")] = bool(rule.active)
        data[_field_name(kind, "severity")] = Severity(rule.severity).value
        for name in DEFAULT_PARAMS[kind]:
            data[_field_name(kind, name)] = int(rule.param(name))
    return RulesForm(formdata, data=data)


def due_days_form(days: int, formdata=None) -> Form:
    """执行情况上报期限: days after a project's end date, 1 to 365."""
    low, high = execution_rules.MIN_DUE_DAYS, execution_rules.MAX_DUE_DAYS

    class DueDaysForm(Form):
        due_days = IntegerField(_l("Days after the end date"), validators=whole_number(low, high))

    return DueDaysForm(formdata, data={"due_days": days})


class RulesView(SignedInView):
    """The committee's own rules; any other account is refused (403)."""

    allowed = permissions.can_set_filing_rules

    def _year(self) -> int:
        year = request.args.get("year", type=int) or beijing_today().year
        if not rules.MIN_YEAR <= year <= rules.MAX_YEAR:
            abort(404)
        return year

    @expose("/", methods=("GET", "POST"))
    def index(self):
        committee_id, year = account().unit_id, self._year()
        source = filing_rules.ruling_year(db.session, committee_id, year)
        if source is not None and source != year:
            # No rules of its own: the year follows ``source``'s, shown read-only
            # until 复制并修改 or 本年度不设规则 gives it its own.
            if request.method == "POST":
                flash(gettext(FOLLOWS, year=year, source=source), "error")
                return redirect(self.get_url(".index", year=year))
            settings = filing_rules.settings_of(db.session, committee_id, source)
            due_form = due_days_form(execution.due_days(db.session, committee_id, year))
            return self._page(year, settings, rules_form(settings), due_form, source=source)
        settings = filing_rules.settings_of(db.session, committee_id, year)
        form = rules_form(settings, request.form if request.method == "POST" else None)
        due_form = due_days_form(execution.due_days(db.session, committee_id, year))
        if request.method == "POST" and form.validate():
            for kind in settings:
                params = {name: form[_field_name(kind, name)].data for name in DEFAULT_PARAMS[kind]}
                filing_rules.set_rule(
                    db.session,
                    committee_id,
                    year,
                    kind,
                    severity=Severity(form[_field_name(kind, "severity")].data),
                    active=form[_field_name(kind, "active")].data,
                    **params,
                )
            db.session.commit()
            flash(gettext("Filing rules of %(year)s saved.", year=year), "success")
            return redirect(self.get_url(".index", year=year))
        return self._page(year, settings, form, due_form, source=source)

    @expose("/copy", methods=("POST",))
    def copy(self):
        """复制并修改: the rules the year follows become its own, to be changed."""
        committee_id, year = account().unit_id, self._year()
        source = filing_rules.ruling_year(db.session, committee_id, year)
        if source is None or source == year:
            flash(
                gettext("%(year)s follows no earlier year's rules: nothing to copy.", year=year),
                "error",
            )
            return redirect(self.get_url(".index", year=year))
        filing_rules.copy_rules(db.session, committee_id, source, year)
        db.session.commit()
        flash(
            gettext(
                "The rules of %(source)s are copied to %(year)s: change them below and submit.",
                source=source,
                year=year,
            ),
            "success",
        )
        return redirect(self.get_url(".index", year=year))

    @expose("/none", methods=("POST",))
    def no_rules(self):
        """本年度不设规则: every rule of the year stored off, so that no earlier
        year's rules carry over into it."""
        committee_id, year = account().unit_id, self._year()
        filing_rules.clear_rules(db.session, committee_id, year)
        db.session.commit()
        flash(
            gettext(
                "%(year)s has no filing rules: the rules of earlier years no longer apply to it.",
                year=year,
            ),
            "success",
        )
        return redirect(self.get_url(".index", year=year))

    @expose("/due-days", methods=("POST",))
    def due_days(self):
        """Store the year's 执行情况上报期限; the due dates of the year's reports not
        yet accepted follow it."""
        committee_id, year = account().unit_id, self._year()
        due_form = due_days_form(execution.due_days(db.session, committee_id, year), request.form)
        if not due_form.validate():
            source = filing_rules.ruling_year(db.session, committee_id, year)
            settings = filing_rules.settings_of(db.session, committee_id, source or year)
            return self._page(year, settings, rules_form(settings), due_form, source=source)
        days = due_form.due_days.data
        count = execution_rules.set_due_days(db.session, committee_id, year, days)
        db.session.commit()
        flash(
            gettext(
                "Execution reports of %(year)s are due %(days)s days after the end date;"
                " the due dates of %(count)s reports not yet accepted were updated.",
                year=year,
                days=days,
                count=count,
            ),
            "success",
        )
        return redirect(self.get_url(".index", year=year) + "#due-days")

    def _page(self, year: int, settings: dict, form: Form, due_form: Form, source=None):
        """The page of ``year``; ``source``: the year whose rules apply to it (itself,
        an earlier year it follows, or None when no year up to it has rules)."""
        this_year = beijing_today().year
        return self.render(
            "admin/filing_rules.html",
            form=form,
            year=year,
            source=source,
            follows=source is not None and source != year,
            none_on=source == year and not any(rule.active for rule in settings.values()),
            years=sorted({this_year - 1, this_year, this_year + 1, year}, reverse=True),
            rows=[
                {
                    "kind": kind,
                    "active": form[_field_name(kind, "active")],
                    "severity": form[_field_name(kind, "severity")],
                    "params": [form[_field_name(kind, name)] for name in DEFAULT_PARAMS[kind]],
                }
                for kind in settings
            ],
            due_form=due_form,
        )


# -- what the project pages show -------------------------------------------------
def recorded_warnings(project, context=None) -> list[str]:
    """The warnings ``project`` moved up with, worded for the signed-in account.
    On a list, the whole page's are read at the first row (two statements per
    page, whatever its length), from the rows the template is showing."""
    cache = g.setdefault("rule_warnings", {})
    if project.id not in cache:
        rows = context.get("data") if context is not None else None
        # Only the rows whose warnings a list shows (name_cell): none of a published one.
        ids = {row.id for row in rows or () if filing_rules.still_checked(row.state)}
        ids.add(project.id)
        found = filing_rules.warnings_for(db.session, account(), ids)
        cache.update({i: found.get(i, []) for i in ids})
    return cache[project.id]


def name_cell(view, context, project, name):
    """项目名称, with a 备案规则提示 badge and the warnings under it for a project
    that moved up with some and still has a checked move ahead (not once published:
    ``workflow.filing_rules.still_checked``)."""
    if context is None or context.get("data") is None:
        # A details page: its own box says more (filing_rules_project_details.html).
        return project.name
    if not filing_rules.still_checked(project.state):
        return project.name
    notes = recorded_warnings(project, context)
    if not notes:
        return project.name
    items = Markup("").join(Markup("<li>{}</li>").format(note) for note in notes)
    return Markup(
        '{}<br><span class="badge badge-warning cme-rule-badge">{}</span>'
        '<ul class="small mb-0 pl-3 cme-rule-warnings">{}</ul>'
    ).format(project.name, gettext("Filing rule warning"), items)


def report_check(project, session=None) -> list:
    """The rules ``project`` would break if its owner reported it now: for the
    owner while it holds the project, else nothing."""
    user = account()
    if project is None or project.id is None or user is None:
        return []
    if not ProjectState(project.state).modifiable or not workflow.is_allowed(
        project, Action.REPORT, user
    ):
        return []
    values = filing_rules.values_of(project)
    return filing_rules.check_values(session or db.session, user, [values])[0]


def described(violations) -> list[tuple[str, str]]:
    """(severity title, message) of each violation, for the yellow boxes."""
    return [
        (gettext("Blocks reporting") if v.blocks else gettext("Warning"), v.message())
        for v in violations
    ]


def flash_rule_check(session, project) -> None:
    """After a save: the rules the project would break on report, as one flash."""
    found = described(report_check(project, session))
    if found:
        listed = "".join(f"【{title}】{message}" for title, message in found)
        flash(gettext("Checked against the filing rules: %(found)s", found=listed), "warning")


def may_copy(project) -> bool:
    """复制为新项目 is offered on the unit's own projects, in any state."""
    return permissions.can_copy_project(account(), project)


def register(admin) -> None:
    admin.app.add_template_global(recorded_warnings, "rule_warnings")
    admin.app.add_template_global(lambda p: described(report_check(p)), "rule_report_check")
    admin.app.add_template_global(may_copy, "may_copy_project")
    admin.add_view(
        RulesView(name=_l("Filing rules"), endpoint="rules", url="rules", category=_l("Management"))
    )
