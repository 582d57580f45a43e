"""Unit, account and discipline management: ``/admin/units/``,
``/admin/users/`` and ``/admin/disciplines/``.

Who may see and change what comes only from ``permissions`` (the scope of each
view, the choices of each select, the predicates checked on save and in each
action). Nothing is ever deleted: units, accounts and disciplines are
deactivated. An account's role is never in a form; it follows its unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, request, session
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import gettext as stock_gettext
from flask_admin.helpers import get_form_data, get_redirect_target
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, inspect, select

import permissions
from accounts import (
    AccountRefused,
    create_account,
    lockout,
    set_password_by_superior,
)
from admin_views import my_account
from admin_views.account_forms import (
    ACTIVE_TITLES,
    DISCIPLINE_LABELS,
    MAX_SORT_ORDER,
    UNIT_FIELDS,
    UNIT_LABELS,
    USER_LABELS,
    AccountCreateForm,
    AccountEditForm,
    DisciplineForm,
    PasswordForm,
    UnitCreateForm,
    UnitEditForm,
    not_under,
    unit_label,
)
from admin_views.base import ScopedModelView, account, parse_id, row_ids
from admin_views.forms import add_errors
from admin_views.internals import form_object
from admin_views.list_context import list_context
from admin_views.wording import RewordedMixin
from extensions import db
from models import Discipline, Project, Unit, UnitKind, User


# -- shared ------------------------------------------------------------------
@dataclass(frozen=True)
class RowLink:
    """A text link (never an icon alone) in a row or on a details page."""

    title: str
    url: str
    # A change (停用, 重置密码): drawn as a button-like link to its confirmation page.
    change: bool = False


@dataclass(frozen=True)
class BarChoice:
    """One select of a management list's search bar: its query parameter, label,
    options (value, title) and the value chosen now ("" for all)."""

    name: str
    label: str
    options: list
    current: str


# The changes a row may be asked for, each confirmed on its own page
# (``ManagementView.confirm_view``, done by the action of the same name):
# (button, question).
CONFIRMED = {
    "deactivate": (
        _l("Deactivate"),
        _l("Deactivate “%(name)s”? Nothing is deleted; it can be activated again."),
    ),
    "activate": (_l("Activate"), _l("Activate “%(name)s” again?")),
    "unlock": (
        _l("Unlock"),
        _l("Lift the lock that failed logins put on “%(name)s”?"),
    ),
}


class ManagementView(RewordedMixin, ScopedModelView):
    """What the three lists share: no delete anywhere, deactivate/activate
    actions that re-query the ticked ids through the scope and ask
    ``may_toggle`` about each row, Chinese status titles, and the manual's
    words (添加, 修改, 提交; a saved row named in the message).

    The pages are the project lists' kind, not Flask-Admin's: a search bar with
    plain selects (``bar_choices``, ``bar_conditions``), a visible 添加 button,
    text links in each row (``row_links``), each change confirmed on its own page
    (``confirm_view``), forms in sections (``form_sections``) and details without
    Flask-Admin's filter box (``templates/admin/management/``)."""

    list_template = "admin/management/list.html"
    create_template = "admin/management/form.html"
    edit_template = "admin/management/form.html"
    details_template = "admin/management/details.html"
    can_delete = False
    can_export = False
    can_set_page_size = False
    column_display_pk = False
    # The messages after a save, naming the row (``row_title``); set by each view.
    added_message: object = None
    saved_message: object = None
    # 添加单位 / 添加帐号: the button above the list and the form's title.
    add_title: object = None
    edit_title: object = None
    # What the keyword searches, said in the search box.
    search_hint: object = None
    # The form's sections: (title, field names); a field of none goes last.
    form_sections: tuple = ()

    def get_filters(self):
        # The bar's own selects (``bar_choices``) replace Flask-Admin's filter menu.
        return None

    def bar_choices(self) -> list[BarChoice]:
        """The selects of the list's search bar."""
        return []

    def bar_conditions(self) -> list:
        """The WHERE conditions the bar's selects ask for (each ANDed with the
        scope: a value outside it matches nothing)."""
        return []

    def _listing(self) -> bool:
        return request.endpoint == f"{self.endpoint}.index_view"

    def get_query(self):
        query = super().get_query()
        return query.filter(*self.bar_conditions()) if self._listing() else query

    def get_count_query(self):
        query = super().get_count_query()
        return query.filter(*self.bar_conditions()) if self._listing() else query

    def _arg(self, name: str) -> str:
        return (request.args.get(name) or "").strip()

    def status_choice(self) -> BarChoice:
        current = self._arg("status")
        options = [("1", str(ACTIVE_TITLES[True])), ("0", str(ACTIVE_TITLES[False]))]
        return BarChoice("status", str(_l("Status")), options, current)

    def status_condition(self, column) -> list:
        current = self._arg("status")
        return [column.is_(current == "1")] if current in ("0", "1") else []

    def row_links(self, row) -> list[RowLink]:
        """The row's text links: 查看, 修改, and the changes the account may make."""
        here = request.full_path if request.args else request.path
        links = [RowLink(gettext("View"), self.get_url(".details_view", id=row.id, url=here))]
        if self.can_edit:
            links.append(
                RowLink(gettext("Modify"), self.get_url(".edit_view", id=row.id, url=here))
            )
        if self.may_toggle(row) is None:
            what = "activate" if not row.active else "deactivate"
            title = CONFIRMED[what][0]
            url = self.get_url(".confirm_view", id=row.id, do=what, url=here)
            links.append(RowLink(str(title), url, change=True))
        return links

    def details_links(self, row) -> list[RowLink]:
        """The details page's links: the row's, without 查看 (the page itself)."""
        return self.row_links(row)[1:]

    # Flask-Admin flashes "Record was successfully created/saved." from its own
    # catalog, which ours cannot override: swapped for a message naming the row.
    def after_model_change(self, form, model, is_created) -> None:
        list_context().saved_row = (self.row_title(model), is_created)

    def _reworded(self, response):
        self._swap_flashes()
        return response

    def render(self, template: str, **kwargs):
        # A form shown again flashes before the page reads its messages.
        self._swap_flashes()
        return super().render(template, **kwargs)

    def _swap_flashes(self) -> None:
        if "_flashes" not in session:
            return
        # A form sent back with its messages: say where they are, not "创建记录失败。".
        swaps = {
            stock_gettext("Failed to create record."): gettext(
                "Please correct the fields marked below."
            )
        }
        saved = list_context().saved_row
        if saved is not None:
            name, created = saved
            stock = (
                stock_gettext("Record was successfully created.")
                if created
                else stock_gettext("Record was successfully saved.")
            )
            swaps[stock] = str(self.added_message if created else self.saved_message) % {
                "name": name
            }
        session["_flashes"] = [(c, swaps.get(m, m)) for c, m in session["_flashes"]]

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        return self._reworded(super().create_view())

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        return self._reworded(super().edit_view())

    @expose("/confirm/", methods=("GET", "POST"))
    def confirm_view(self):
        """One row's 停用 / 启用 / 解除锁定, asked on a page of its own and done by
        a POST (CSRF-checked) through the same code as the actions."""
        return_url = get_redirect_target() or self.get_url(".index_view")
        what = request.args.get("do", "")
        if what not in self.confirmable():
            abort(404)
        row = self.get_one(request.args.get("id"))
        reason = self.may_toggle(row) if what in ("activate", "deactivate") else None
        if reason is None and what == "unlock" and not self.may_unlock(row):
            reason = gettext("not permitted")
        if reason:
            flash(
                gettext("Not processed: %(details)s", details=f"“{self.row_title(row)}”：{reason}"),
                "warning",
            )
            return redirect(return_url)
        if request.method == "POST":
            getattr(self, f"action_{what}")([str(row.id)])
            return redirect(return_url)
        button, question = CONFIRMED[what]
        question = self.confirm_questions.get(what, question)
        return self.render(
            "admin/management/confirm.html",
            row=row,
            button=button,
            question=question % {"name": self.row_title(row)},
            danger=what == "deactivate",
            return_url=return_url,
        )

    # A view's own question for a change, where it says more than CONFIRMED's.
    confirm_questions: dict = {}

    def confirmable(self) -> tuple[str, ...]:
        return ("deactivate", "activate")

    def may_unlock(self, row) -> bool:
        return False

    def handle_view_exception(self, exc: Exception) -> bool:
        # A save the account may not make (checked again where the row is written).
        if isinstance(exc, PermissionError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)

    def may_toggle(self, obj) -> str | None:
        """None if the account may (de)activate ``obj``, else the reason why not."""
        return None

    def row_title(self, obj) -> str:
        return str(obj)

    @action(
        "deactivate",
        _l("Deactivate"),
        _l("Deactivate the selected rows? Nothing is deleted; they can be activated again."),
    )
    def action_deactivate(self, ids):
        self.set_active(ids, False)

    @action("activate", _l("Activate"))
    def action_activate(self, ids):
        self.set_active(ids, True)

    def set_active(self, ids, active: bool) -> None:
        """(De)activate the ticked rows the account may change, in one
        transaction; say which rows were skipped and why."""
        wanted = row_ids(ids)
        found = self.get_query().filter(self.model.id.in_(wanted)).all() if wanted else []
        done, skipped = 0, []
        for obj in found:
            reason = self.may_toggle(obj)
            if reason:
                skipped.append(f"“{self.row_title(obj)}”：{reason}")
                continue
            obj.active = active
            done += 1
        missing = len(set(ids)) - len(found)
        if missing > 0:
            skipped.append(ngettext("%(num)d row not found", "%(num)d rows not found", missing))
        self.db_session.commit()
        self._report(active, done, skipped)

    def _report(self, active: bool, done: int, skipped: list[str]) -> None:
        if done:
            message = (
                ngettext("%(num)d row activated.", "%(num)d rows activated.", done)
                if active
                else ngettext("%(num)d row deactivated.", "%(num)d rows deactivated.", done)
            )
            flash(message, "success")
        if skipped:
            flash(gettext("Not processed: %(details)s", details="；".join(skipped)), "warning")


def _status_cell(view, context, obj, name):
    return ACTIVE_TITLES[bool(getattr(obj, name))]


# -- units -------------------------------------------------------------------
# Tree order for the unit list: the committee, then each society followed by its
# branches, issuers among the societies.
_TREE_GROUP = case(
    (Unit.kind == UnitKind.COMMITTEE, 0),
    (Unit.kind == UnitKind.BRANCH, Unit.parent_id),
    else_=Unit.id,
)
_TREE_LEVEL = case((Unit.kind == UnitKind.COMMITTEE, 1), (Unit.kind == UnitKind.BRANCH, 3), else_=2)


def unit_level(unit: Unit) -> int:
    """The unit's depth in its tree (the committee 0, a society or issuer 1, a branch 2)."""
    return {UnitKind.COMMITTEE: 0, UnitKind.BRANCH: 2}.get(unit.kind, 1)


def unit_tallies(session, ids) -> dict[int, tuple[int, int]]:
    """{unit id: (accounts, projects)} of the units ``ids``, in one statement
    whatever their number (the list's page, already scoped)."""
    if not ids:
        return {}
    accounts = (
        select(func.count()).select_from(User).where(User.unit_id == Unit.id).scalar_subquery()
    )
    projects = (
        select(func.count())
        .select_from(Project)
        .where(Project.owner_unit_id == Unit.id)
        .scalar_subquery()
    )
    rows = session.execute(select(Unit.id, accounts, projects).where(Unit.id.in_(ids)))
    return {unit_id: (users, filed) for unit_id, users, filed in rows}


class UnitView(ManagementView):
    """单位管理: the committee manages every unit of its tree, a society its own
    unit's contact details and its branches. The list is the tree (each unit
    indented by its level) with each unit's accounts and projects counted."""

    permission = "unit-manage"
    added_message = _l("Unit “%(name)s” added.")
    saved_message = _l("Unit “%(name)s” saved.")
    add_title = _l("Add unit")
    edit_title = _l("Modify unit")
    search_hint = _l("Unit name, person in charge, telephone or address")
    form_sections = (
        (_l("Basic information"), ("kind", "parent", "name")),
        (_l("Contact details"), ("manager", "phone", "address", "postal_code")),
    )
    confirm_questions = {
        "deactivate": _l(
            "Deactivate “%(name)s”? Its accounts can no longer log in. Nothing is deleted;"
            " it can be activated again."
        ),
    }
    column_list = ["name", "kind", "manager", "phone", "active"]
    column_details_list = [
        "name",
        "kind",
        "parent",
        "address",
        "manager",
        "phone",
        "postal_code",
        "active",
        "created_at",
        "updated_at",
    ]
    column_labels = UNIT_LABELS
    column_formatters = {
        "kind": lambda v, c, unit, n: unit.kind.title,
        "parent": lambda v, c, unit, n: unit.parent.name if unit.parent else "",
        "active": _status_cell,
    }
    column_formatters_detail = column_formatters
    column_searchable_list = ["name", "manager", "phone", "address"]
    column_sortable_list = []
    column_default_sort = [(_TREE_GROUP, False), (_TREE_LEVEL, False), ("name", False)]
    form_create_rules = ("kind", "parent", *UNIT_FIELDS)
    form_edit_rules = UNIT_FIELDS

    def scope(self, user):
        return permissions.unit_management(user)

    def bar_choices(self) -> list[BarChoice]:
        kinds = [(kind.value, str(kind.title)) for kind in UnitKind]
        kind = BarChoice("kind", str(UNIT_LABELS["kind"]), kinds, self._arg("kind"))
        return [kind, self.status_choice()]

    def bar_conditions(self) -> list:
        kind = self._arg("kind")
        chosen = [Unit.kind == UnitKind(kind)] if kind in {k.value for k in UnitKind} else []
        return chosen + self.status_condition(Unit.active)

    def tallies(self, rows) -> dict[int, tuple[int, int]]:
        """(accounts, projects) of each unit on the page."""
        return unit_tallies(self.db_session, [unit.id for unit in rows])

    def level(self, unit: Unit) -> int:
        return unit_level(unit)

    def get_create_form(self):
        return UnitCreateForm

    def get_edit_form(self):
        return UnitEditForm

    def scope_form(self, form) -> None:
        if "kind" in form:
            form.kind.choices = [
                (kind.value, kind.title) for kind in permissions.creatable_unit_kinds(account())
            ]
            form.parent.query_factory = self.parent_choices
        unit = form_object(form)
        if unit is not None and not permissions.can_rename_unit(account(), unit):
            form.name.render_kw = {"readonly": True}

    def parent_choices(self) -> list[Unit]:
        """Active units the account may place a new unit under: a unit it manages
        whose kind is the parent kind of a kind it may create."""
        kinds = {kind.parent_kind for kind in permissions.creatable_unit_kinds(account())}
        stmt = (
            select(Unit)
            .where(permissions.unit_management(account()), Unit.kind.in_(kinds), Unit.active)
            .order_by(Unit.kind, Unit.name)
        )
        return self.db_session.scalars(stmt).all()

    def on_model_change(self, form, unit, is_created) -> None:
        # Checked again where the row is written: the form is only the first gate.
        if is_created and not permissions.can_create_unit(account(), unit.kind, unit.parent):
            raise PermissionError(str(not_under(unit.kind, unit.parent)))
        if not is_created and not permissions.can_manage_unit(account(), unit):
            raise PermissionError(gettext("You may not change this unit."))
        renamed = inspect(unit).attrs.name.history.has_changes()
        if renamed and not is_created and not permissions.can_rename_unit(account(), unit):
            raise PermissionError(str(_l("Only the committee can change this unit's name.")))

    def row_title(self, unit) -> str:
        return unit.name

    def may_toggle(self, unit) -> str | None:
        if unit.id == account().unit_id:
            return gettext("you cannot deactivate or activate your own unit")
        if not permissions.can_deactivate_unit(account(), unit):
            return gettext("not permitted")
        return None


# -- accounts ----------------------------------------------------------------
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
        "active": _status_cell,
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


# -- disciplines ---------------------------------------------------------------
class DisciplineView(ManagementView):
    """学科: the committee's list of disciplines (add, rename, reorder,
    deactivate). A discipline is never deleted: projects refer to it."""

    permission = "discipline-manage"
    added_message = _l("Discipline “%(name)s” added.")
    saved_message = _l("Discipline “%(name)s” saved.")
    column_list = ["name", "sort_order", "active"]
    column_details_list = column_list
    column_labels = DISCIPLINE_LABELS
    column_formatters = {"active": _status_cell}
    column_formatters_detail = column_formatters
    column_searchable_list = ["name"]
    column_sortable_list = []
    column_default_sort = [("sort_order", False), ("id", False)]
    form = DisciplineForm
    add_title = _l("Add discipline")
    edit_title = _l("Modify discipline")
    search_hint = _l("Discipline name")
    form_sections = ((_l("Basic information"), ("name", "sort_order")),)

    def scope(self, user):
        # The committee's own list: another tree's id answers 404.
        return permissions.discipline_ownership(user)

    def bar_choices(self) -> list[BarChoice]:
        return [self.status_choice()]

    def bar_conditions(self) -> list:
        return self.status_condition(Discipline.active)

    def row_title(self, discipline) -> str:
        return discipline.name

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if request.method == "GET":
            form.sort_order.data = self._next_sort_order()
        return form

    def on_model_change(self, form, discipline, is_created) -> None:
        if is_created:
            discipline.committee_id = permissions.own_committee_id(account())
        elif discipline.committee_id != permissions.own_committee_id(account()):
            raise PermissionError(gettext("You may not change this discipline."))
        if discipline.sort_order is None:
            # Not flushed first: the new row has no order yet.
            with self.db_session.no_autoflush:
                discipline.sort_order = self._next_sort_order()

    def _next_sort_order(self) -> int:
        highest = self.db_session.scalar(
            select(func.max(Discipline.sort_order)).where(
                permissions.discipline_ownership(account())
            )
        )
        return min((highest or 0) + 1, MAX_SORT_ORDER)


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
