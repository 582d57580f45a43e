"""我的帐号 (``/admin/me/``): every signed-in account's own page. It shows the
account's username and unit, lets it change its full name, telephone and e-mail
address (the address the reminders and 消息 are mailed to), and links to
Flask-Security's change-password page.

The fields are checked like a superior's edit (``accounts.contact_errors``); the
save is a CSRF-checked POST whose flush goes through the same listener as every
account change (``accounts.audit``). Nothing else of the account (unit, role,
status, password) can be changed here, whatever is posted."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import StringField

from accounts import contact_errors
from admin_views.account_forms import USER_LABELS, blank_to_none, strip
from admin_views.base import account
from admin_views.forms import CheckedForm, Required
from admin_views.signed_in import SignedInView
from extensions import db
from models import User

# What the page may change, in its sections (基本信息 · 联系方式).
FIELDS = ("display_name", "phone", "email")
SECTIONS = (
    (_l("Basic information"), ("display_name",)),
    (_l("Contact details"), ("phone", "email")),
)


class MyAccountForm(CheckedForm):
    text_model = User
    display_name = StringField(USER_LABELS["display_name"], [Required()], filters=[strip])
    phone = StringField(USER_LABELS["phone"], filters=[blank_to_none])
    email = StringField(
        USER_LABELS["email"],
        filters=[blank_to_none],
        description=_l(
            "Messages and reminders are mailed to this address if you choose so under Messages."
        ),
    )

    def record_errors(self) -> dict:
        return contact_errors(self.data)


class MyAccountView(SignedInView):
    """Open to every signed-in account; reads and changes only the account itself.
    Reached from 消息 and the account's menu, not the panel's menu."""

    in_menu = False

    @expose("/", methods=("GET", "POST"))
    def index(self):
        user = account()
        form = MyAccountForm(request.form if request.method == "POST" else None, obj=user)
        if request.method == "POST" and form.validate():
            for name in FIELDS:
                setattr(user, name, form[name].data)
            db.session.commit()
            flash(gettext("Your account details were saved."), "success")
            return redirect(url_for(".index"))
        if request.method == "POST":
            flash(gettext("Please correct the fields marked below."), "danger")
        return self.render(
            "admin/management/my_account.html",
            form=form,
            user=user,
            sections=SECTIONS,
            labels=USER_LABELS,
        )


def register(admin) -> None:
    admin.add_view(MyAccountView(name=_l("My account"), endpoint="my_account", url="me"))
