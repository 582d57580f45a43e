"""催办 (``/admin/reminders/``): the committee's reminder settings, the reminders sent,
and a 立即催办 button that runs the reminders by hand (``notifications.reminders``).

Only the committee's accounts reach it (the same permission as 备案规则), and each sees
and sets its own committee's. The button is always there: a run sends only what is due
today and never twice (the reminders' unique key), so running it by hand beside the
scheduled command (cron, the systemd timer, RQ's scheduler) cannot flood anyone; in the
demo (``make run``, no scheduler) it is the way reminders go out."""

from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from wtforms import BooleanField, Form, IntegerField

import permissions
from admin_views.base import account
from admin_views.forms import whole_number
from admin_views.signed_in import SignedInView
from extensions import db
from models import Reminder, ReminderClock, Unit
from notifications import reminders

PAGE_SIZE = 30
# Item names shown per reminder; the count says the rest.
NAMED = 3
# N's label per clock.
DAYS_LABELS = {
    ReminderClock.WINDOW_CLOSING: _l("Days before the window closes"),
    ReminderClock.WAITING_SOCIETY: _l("Days waiting more than"),
    ReminderClock.WAITING_COMMITTEE: _l("Days waiting more than"),
    ReminderClock.EXECUTION_DUE: _l("Days before the due date"),
    ReminderClock.EXECUTION_OVERDUE: _l("Days overdue more than"),
}


def settings_form(settings: reminders.Settings, formdata=None) -> Form:
    """Each clock on/off with its N, and M."""

    class SettingsForm(Form):
        escalate_after_days = IntegerField(
            _l("Tell the unit above after (days)"),
            validators=whole_number(1, reminders.MAX_ESCALATE_AFTER_DAYS),
        )

    for clock in ReminderClock:
        setattr(SettingsForm, f"{clock.value}-on", BooleanField(_l("On")))
        setattr(
            SettingsForm,
            f"{clock.value}-days",
            IntegerField(DAYS_LABELS[clock], validators=whole_number(0, reminders.MAX_DAYS)),
        )
    data = {f"{c.value}-on": settings.on(c) for c in ReminderClock}
    data |= {f"{c.value}-days": settings.days(c) for c in ReminderClock}
    data["escalate_after_days"] = settings.escalate_after_days
    if formdata is not None:
        return SettingsForm(formdata)
    return SettingsForm(data=data)


class RemindersView(SignedInView):
    """The committee's own 催办; any other account is refused (403)."""

    allowed = permissions.can_set_filing_rules

    @expose("/", methods=("GET", "POST"))
    def index(self):
        committee_id = account().unit_id
        settings = reminders.settings_for(db.session, committee_id)
        form = settings_form(settings, request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            chosen = reminders.Settings.of(
                {
                    c.value: {
                        "on": form[f"{c.value}-on"].data,
                        "days": form[f"{c.value}-days"].data,
                    }
                    for c in ReminderClock
                },
                form.escalate_after_days.data,
            )
            reminders.save_settings(db.session, committee_id, chosen)
            db.session.commit()
            flash(gettext("Reminder settings saved."), "success")
            return redirect(self.get_url(".index"))
        return self._page(form)

    @expose("/run", methods=("POST",))
    def run_now(self):
        """立即催办: today's reminders of this committee, those not sent yet."""
        summary = reminders.run(db.session, committees=[account().unit_id])
        flash(
            gettext(
                "Reminders sent: %(reminders)s to the units holding the items,"
                " %(escalations)s to the units above them.",
                reminders=summary.reminders,
                escalations=summary.escalations,
            ),
            "success",
        )
        return redirect(self.get_url(".index"))

    def _page(self, form: Form):
        committee_id = account().unit_id
        page = max(request.args.get("page", 1, type=int), 1)
        total = db.session.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.committee_id == committee_id)
        )
        rows = db.session.execute(
            select(Reminder, Unit.name)
            .join(Unit, Unit.id == Reminder.unit_id)
            .where(Reminder.committee_id == committee_id)
            .order_by(Reminder.day.desc(), Reminder.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).all()
        return self.render(
            "admin/reminders.html",
            form=form,
            clocks=[
                {
                    "clock": clock,
                    "on": form[f"{clock.value}-on"],
                    "days": form[f"{clock.value}-days"],
                }
                for clock in ReminderClock
            ],
            sent=[
                {
                    "reminder": reminder,
                    "unit": unit_name,
                    "clock": ReminderClock(reminder.clock).title,
                    "names": [i["name"] for i in (reminder.items or [])[:NAMED]],
                    "more": max(reminder.item_count - NAMED, 0),
                }
                for reminder, unit_name in rows
            ],
            total=total,
            page=page,
            pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        )


def register(admin) -> None:
    """Add the 催办 page to the panel."""
    admin.add_view(
        RemindersView(
            name=_l("Reminders"),
            endpoint="reminders",
            url="reminders",
            category=_l("Management"),
        )
    )
