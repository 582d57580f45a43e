"""帐号管理 (``/admin/users/``), and the 管理 menu: unit, account and discipline
management (``/admin/units/``, ``/admin/users/``, ``/admin/disciplines/``, their views
in ``units.py``, this module and ``disciplines.py``, on ``management.ManagementView``)
and 我的帐号.

An account's role is never in a form; it follows its unit. Passwords are set hashed,
through ``accounts`` (Flask-Security's datastore), and must be changed at the next login.
"""

from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_form_data, get_redirect_target
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

import permissions
from accounts import (
    AccountRefused,
    create_account,
    lockout,
    set_password_by_superior,
)
from admin_views import my_account
from admin_views.account_forms import (
    USER_LABELS,
    AccountCreateForm,
    AccountEditForm,
    PasswordForm,
    unit_label,
)
from admin_views.base import account, parse_id, row_ids
from admin_views.disciplines import DisciplineView
from admin_views.forms import add_errors
from admin_views.management import BarChoice, ManagementView, RowLink, status_cell
from admin_views.units import UnitView
from extensions import db
from models import Discipline, Unit, User


class AccountView(ManagementView):
    """帐号管理: accounts of the units under the signed-in unit. The
    role follows the unit; passwords are set hashed and must be changed at
    the next login."""

    permission = "account-manage"
    added_message = _l("Account “%(name)s” added.")
    saved_message = _l("Account “%(name)s” saved.")
    add_title = _l("Add account")
    edit_title = _l("Modify account")
    search_hint = _l("Username, full name, telephone or e-mail")
    form_sections = (
        (_l("Account"), ("username", "password", "password_confirm")),
        (_l("Basic information"), ("display_name", "unit")),
        (_l("Contact details"), ("phone", "email")),
    )
    column_list = [
        "username",
        "display_name",
        "unit",
        "phone",
        "email",
        "active",
        "must_change_password",
    ]
    column_details_list = [*column_list, "created_at"]
    column_labels = USER_LABELS
    column_formatters = {
        "unit": lambda v, c, user, n: user.unit.name,
        "active": status_cell,
        "must_change_password": lambda v, c, user, n: (
            gettext("Yes") if user.must_change_password else gettext("No")
        ),
    }
    column_formatters_detail = column_formatters
    column_searchable_list = ["username", "display_name", "phone", "email"]
    column_sortable_list = []
    column_default_sort = [("username", False), ("id", False)]
    form_create_rules = (
        "username",
        "display_name",
        "unit",
        "phone",
        "email",
        "password",
        "password_confirm",
    )
    form_edit_rules = ("display_name", "unit", "phone", "email")

    def scope(self, user):
        return permissions.account_management(user)

    def bar_choices(self) -> list[BarChoice]:
        units = [(str(unit.id), unit_label(unit)) for unit in self.unit_choices()]
        unit = BarChoice("unit", str(USER_LABELS["unit"]), units, self._arg("unit"))
        return [unit, self.status_choice()]

    def bar_conditions(self) -> list:
        unit_id = parse_id(self._arg("unit"))
        chosen = [User.unit_id == unit_id] if unit_id is not None else []
        return chosen + self.status_condition(User.active)

    def row_links(self, user) -> list[RowLink]:
        links = super().row_links(user)
        if user.id != account().id and permissions.can_manage_account(account(), user):
            here = request.full_path if request.args else request.path
            url = self.get_url(".reset_password_view", id=user.id, url=here)
            links.append(RowLink(gettext("Reset password"), url, change=True))
        return links

    def details_links(self, user) -> list[RowLink]:
        links = super().details_links(user)
        if self.may_unlock(user) and lockout.is_locked(self.db_session, user):
            url = self.get_url(".confirm_view", id=user.id, do="unlock", url=request.full_path)
            links.append(RowLink(gettext("Unlock"), url, change=True))
        return links

    def confirmable(self) -> tuple[str, ...]:
        return ("deactivate", "activate", "unlock")

    def may_unlock(self, user) -> bool:
        return permissions.can_manage_account(account(), user)

    def unit_choices(self) -> list[Unit]:
        """The units whose accounts the signed-in account manages."""
        ids = permissions.subordinate_unit_ids(account())
        stmt = select(Unit).where(Unit.id.in_(ids)).order_by(Unit.kind, Unit.name)
        return self.db_session.scalars(stmt).all()

    def get_create_form(self):
        return AccountCreateForm

    def get_edit_form(self):
        return AccountEditForm

    def scope_form(self, form) -> None:
        form.unit.query_factory = self.unit_choices

    def create_model(self, form):
        """A new account through ``accounts.create_account`` (Flask-Security's
        datastore), not Flask-Admin's ``populate_obj``: the one way every
        account is made. It must change its password at the first login."""
        try:
            if not permissions.can_manage_accounts_of(account(), form.unit.data):
                raise PermissionError(gettext("You may not manage accounts of this unit."))
            user = create_account(
                form.unit.data,
                username=form.username.data,
                display_name=form.display_name.data,
                password=form.password.data,
                phone=form.phone.data,
                email=form.email.data,
                must_change_password=True,
            )
            self.db_session.commit()
        except AccountRefused as exc:
            # Taken meanwhile: the form is shown again with the reason.
            self.db_session.rollback()
            add_errors(form, exc.errors)
            return False
        except Exception as exc:
            self.db_session.rollback()
            if not self.handle_view_exception(exc):
                raise
            return False
        self.after_model_change(form, user, True)
        return user

    def on_model_change(self, form, user, is_created) -> None:
        # Edits only (creation is ``create_model``); checked where the row is written.
        if not permissions.can_manage_account(account(), user):
            raise PermissionError(gettext("You may not manage accounts of this unit."))

    def may_toggle(self, user) -> str | None:
        if user.id == account().id:
            return gettext("you cannot deactivate or activate your own account")
        if not permissions.can_manage_account(account(), user):
            return gettext("not permitted")
        return None

    def row_title(self, user) -> str:
        return user.username

    @action("unlock", _l("Unlock"))
    def action_unlock(self, ids):
        """Lift the lock that failed logins put on the ticked accounts."""
        wanted = row_ids(ids)
        found = self.get_query().filter(User.id.in_(wanted)).all() if wanted else []
        done = [
            user
            for user in found
            if permissions.can_manage_account(account(), user)
            and lockout.unlock(self.db_session, user)
        ]
        self.db_session.commit()
        flash(
            ngettext("%(num)d account unlocked.", "%(num)d accounts unlocked.", len(done)),
            "success",
        )

    @expose("/password/", methods=("GET", "POST"))
    def reset_password_view(self):
        """A superior sets a new password: the owner must change it at the next
        login, and every session of the account ends now."""
        return_url = get_redirect_target() or self.get_url(".index_view")
        user = self.get_one(request.args.get("id"))
        if user.id == account().id or not permissions.can_manage_account(account(), user):
            flash(gettext("Change your own password on the change-password page."), "warning")
            return redirect(return_url)
        form = PasswordForm(get_form_data())
        form.account = user
        if request.method == "POST" and form.validate():
            set_password_by_superior(user, form.password.data)
            self.db_session.commit()
            flash(gettext("The password of %(name)s was reset.", name=user.username), "success")
            return redirect(return_url)
        return self.render(
            "admin/management/reset_password.html", form=form, user=user, return_url=return_url
        )


def register(admin) -> None:
    """Add the unit, account and discipline views to ``admin``."""
    views: list[tuple[type[ManagementView], type, object, str]] = [
        (UnitView, Unit, _l("Units"), "units"),
        (AccountView, User, _l("Accounts"), "users"),
        (DisciplineView, Discipline, _l("Disciplines"), "disciplines"),
    ]
    category = _l("Management")
    for view_class, model, name, endpoint in views:
        admin.add_view(
            view_class(model, db, name=name, endpoint=endpoint, url=endpoint, category=category)
        )
    # 我的帐号 (every signed-in account's own page) belongs with the accounts.
    my_account.register(admin)
