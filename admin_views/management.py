"""What the three management lists (单位管理, 帐号管理, 学科) share: ``ManagementView``
(no delete, deactivate/activate confirmed on a page of their own, the search bar's
selects, text links in each row, the manual's words after a save) and the pieces its
views draw with (``RowLink``, ``BarChoice``, ``status_cell``).

The views themselves are in ``admin_views/units.py``, ``admin_views/accounts.py`` and
``admin_views/disciplines.py``. Who may see and change what comes only from
``permissions``. Nothing is ever deleted: rows are deactivated.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, request, session
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import gettext as stock_gettext
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from admin_views.account_forms import ACTIVE_TITLES
from admin_views.base import ScopedModelView, row_ids
from admin_views.list_context import list_context
from admin_views.wording import RewordedMixin


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


def status_cell(view, context, obj, name):
    return ACTIVE_TITLES[bool(getattr(obj, name))]
