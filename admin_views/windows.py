"""申报时间 (``/admin/windows/``): the committee's filing windows per year and step, a
society's earlier cut-off for its branches, and the named exceptions granted to late
units (``workflow.calendar``).

Every signed-in account opens it; what it may change follows its role: the auditor (the
committee) sets the three steps' windows and grants exceptions to any unit of its tree;
a reviewer (a society) sets its branches' cut-off inside the committee's window and
grants its own branches exceptions up to the committee's close; an entry unit reads its
own window. Bad input is refused at its field in Chinese and nothing is stored. The
countdown shown on the dashboard and above the project lists is ``countdown_lines``.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import abort, flash, g, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import Form, SelectChoice, StringField, TextAreaField, validators

import permissions
from admin_views.base import ChoiceField, account
from admin_views.forms import BoundedForm
from admin_views.signed_in import SignedInView
from extensions import db
from models import FilingWindow, Unit, UnitKind, WindowStep, rules
from models.base import beijing_today
from permissions.roles import AUDIT, REVIEW
from workflow import calendar
from workflow.errors import WorkflowError

DATE_MESSAGE = _l("Enter a date like 2027-01-10.")


class DayField(StringField):
    """A date typed or picked as YYYY-MM-DD; blank is None, anything else is refused
    with a Chinese message (WTForms' own DateField says it in English)."""

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if self.raw:
            try:
                self.data = datetime.strptime(self.raw, "%Y-%m-%d").date()
            except ValueError:
                self.data = None
                raise ValueError(str(DATE_MESSAGE)) from None

    def _value(self):
        if getattr(self, "raw", None) is not None:
            return self.raw
        return self.data.isoformat() if self.data else ""


def _field(step: WindowStep, end: str) -> str:
    return f"{step.value}-{end}"


def committee_form(windows: dict, formdata=None) -> Form:
    """The committee's three steps, each 开始日期 and 截止日期 (both blank: no window)."""

    class WindowsForm(Form):
        pass

    data = {}
    for step in WindowStep:
        setattr(WindowsForm, _field(step, "opens"), DayField(_l("Opening date")))
        setattr(WindowsForm, _field(step, "closes"), DayField(_l("Closing date")))
        if (window := windows.get((step, "committee"))) is not None:
            data[_field(step, "opens")] = window.opens_on
            data[_field(step, "closes")] = window.closes_on
    return WindowsForm(formdata, data=data)


def cut_off_form(window, formdata=None) -> Form:
    """A society's cut-off of its branches' 上报 (blank: the committee's close)."""

    class CutOffForm(Form):
        closes = DayField(_l("Cut-off for your branches"))

    return CutOffForm(formdata, data={"closes": window.closes_on if window else None})


def grant_form(units: list, formdata=None) -> Form:
    """One exception: the unit (of those the account may grant), its date and why."""

    class GrantForm(BoundedForm):
        text_limits = {"reason": rules.MAX_REASON}
        unit = ChoiceField(
            _l("Unit"), coerce=int, choices=[SelectChoice(u.id, u.name) for u in units]
        )
        until = DayField(
            _l("Until"), validators=[validators.InputRequired(_l("This field is required."))]
        )
        reason = TextAreaField(
            _l("Reason"),
            validators=[
                validators.InputRequired(_l("Enter the reason for the exception.")),
            ],
        )

    return GrantForm(formdata)


def mode_of(user) -> str:
    """What the account does here, by its role: "committee", "society" or "entry"."""
    if permissions.holds(user, AUDIT):
        return "committee"
    if permissions.holds(user, REVIEW):
        return "society"
    return "entry"


def default_year(today: date) -> int:
    """The year being filed: from July on, next year's projects are."""
    return today.year + 1 if today.month >= 7 else today.year


class WindowsView(SignedInView):
    """申报时间: the committee's and a society's settings, an entry unit's own window."""

    def _year(self) -> int:
        year = request.args.get("year", type=int) or default_year(beijing_today())
        if not rules.MIN_YEAR <= year <= rules.MAX_YEAR:
            abort(404)
        return year

    def _windows(self, committee_id: int, society_id: int | None, year: int) -> dict:
        """{(step, "committee"|"society"): FilingWindow} of the year: one statement."""
        units = [committee_id] + ([society_id] if society_id else [])
        rows = db.session.scalars(
            select(FilingWindow).where(FilingWindow.unit_id.in_(units), FilingWindow.year == year)
        )
        return {
            (WindowStep(w.step), "committee" if w.unit_id == committee_id else "society"): w
            for w in rows
        }

    def _grantable(self, unit) -> list:
        """The units the account's unit may grant an exception to, by name."""
        if unit.kind is UnitKind.COMMITTEE:
            where = Unit.root_id == unit.id
        elif unit.kind is UnitKind.SOCIETY:
            where = (Unit.parent_id == unit.id) & (Unit.kind == UnitKind.BRANCH)
        else:
            return []
        return list(db.session.scalars(select(Unit).where(where).order_by(Unit.kind, Unit.name)))

    @expose("/", methods=("GET", "POST"))
    def index(self):
        user, year = account(), self._year()
        unit, mode = user.unit, mode_of(user)
        society_id = unit.id if mode == "society" else None
        windows = self._windows(unit.committee_id, society_id, year)
        form = None
        if mode == "committee":
            form = committee_form(windows, request.form if request.method == "POST" else None)
        elif mode == "society":
            form = cut_off_form(
                windows.get((WindowStep.ENTRY_REPORT, "society")),
                request.form if request.method == "POST" else None,
            )
        if request.method == "POST":
            if form is None:
                abort(403)
            if form.validate() and self._save(form, mode, year):
                db.session.commit()
                flash(gettext("Filing windows of %(year)s saved.", year=year), "success")
                return redirect(self.get_url(".index", year=year))
            db.session.rollback()
        return self._page(year, mode, windows, form)

    def _save(self, form, mode: str, year: int) -> bool:
        """Store the form's windows; on a refusal put it at its field and say False."""
        user = account()
        if mode == "society":
            return self._store(form.closes, user, year, WindowStep.ENTRY_REPORT, None)
        for step in WindowStep:
            opens, closes = form[_field(step, "opens")], form[_field(step, "closes")]
            if opens.data is not None and closes.data is None:
                closes.errors = [gettext("Enter the closing date too.")]
                return False
            if not self._store(closes, user, year, step, opens.data):
                return False
        return True

    def _store(self, field, user, year, step, opens_on) -> bool:
        try:
            if field.data is None:
                calendar.clear_window(db.session, user, year, step)
            else:
                calendar.set_window(db.session, user, year, step, opens_on, field.data)
        except WorkflowError as error:
            field.errors = [str(error)]
            return False
        return True

    @expose("/grant", methods=("POST",))
    def grant(self):
        """Grant one exception (the committee, or a society to its branches)."""
        user, year = account(), self._year()
        mode = mode_of(user)
        if mode == "entry":
            abort(403)
        units = self._grantable(user.unit)
        form = grant_form(units, request.form)
        if form.validate():
            unit = next(u for u in units if u.id == form.unit.data)
            step = calendar.OWN_STEP[unit.kind]
            try:
                calendar.grant_exception(
                    db.session, user, unit, year, step, form.until.data, form.reason.data
                )
            except WorkflowError as error:
                db.session.rollback()
                form.until.errors = [str(error)]
            else:
                db.session.commit()
                flash(
                    gettext(
                        "%(unit)s may take %(step)s of %(year)s until %(day)s.",
                        unit=unit.name,
                        step=calendar.step_label(step, unit.kind),
                        year=year,
                        day=form.until.data.isoformat(),
                    ),
                    "success",
                )
                return redirect(self.get_url(".index", year=year) + "#exceptions")
        society_id = user.unit_id if mode == "society" else None
        windows = self._windows(user.unit.committee_id, society_id, year)
        page_form = (
            committee_form(windows)
            if mode == "committee"
            else cut_off_form(windows.get((WindowStep.ENTRY_REPORT, "society")))
        )
        return self._page(year, mode, windows, page_form, grant=form)

    def _page(self, year: int, mode: str, windows: dict, form, grant=None):
        user = account()
        unit = user.unit
        this_year = beijing_today().year
        own = None
        if mode == "entry" or mode == "society":
            step = calendar.OWN_STEP[unit.kind]
            ask = calendar.ask_for(unit, step, year)
            own = calendar.windows_for(db.session, [ask], beijing_today()).get(ask)
        exceptions, units = [], []
        if mode != "entry":
            exceptions = calendar.exceptions_of(db.session, unit, year)
            units = self._grantable(unit)
            grant = grant or grant_form(units)
        return self.render(
            "admin/windows.html",
            year=year,
            years=sorted(
                {this_year - 1, this_year, this_year + 1, this_year + 2, year}, reverse=True
            ),
            mode=mode,
            steps=list(WindowStep),
            windows=windows,
            form=form,
            field_of=_field,
            own=own,
            own_label=own.label if own else None,
            exceptions=exceptions,
            grant=grant,
            has_units=bool(units),
            step_label=calendar.step_label,
            month_day=calendar.month_day,
            today=beijing_today(),
        )


# -- the countdown on the dashboard and above the lists ---------------------------------
def countdown_lines() -> list:
    """The signed-in account's countdowns (``workflow.calendar.countdowns``), read once
    per request: one statement, whatever the page shows."""
    if "window_countdowns" not in g:
        user = account()
        g.window_countdowns = calendar.countdowns(db.session, user) if user else []
    return g.window_countdowns


def register(admin) -> None:
    """Add the 申报时间 page (and its countdowns) to the panel."""
    admin.app.add_template_global(countdown_lines, "window_countdowns")
    admin.add_view(
        WindowsView(
            name=_l("Filing windows"),
            endpoint="windows",
            url="windows",
            category=_l("Management"),
        )
    )
