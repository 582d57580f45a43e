"""The base of the panel's pages that are not model lists (使用说明, 消息, 导出任务,
批量导入, 统计, 备案规则): who may open them, decided once.

A model list inherits the same rule from ``ScopedModelView`` (``admin_views/base.py``);
these pages have no model, no scope and no Flask-Admin switches, so they build on
Flask-Admin's ``BaseView`` through this class instead of repeating the check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from flask import abort, redirect, request, url_for
from flask_admin import BaseView

from admin_views.base import account


class SignedInView(BaseView):
    """Open to a signed-in, active account that ``allowed`` admits (any such account
    when it is None); a signed-out visitor is sent to the login page, any other
    account gets 403, as on the model lists.

    ``allowed`` is a role-permission predicate of ``permissions`` (for example
    ``permissions.can_read_statistics``), never a check of the unit's kind.
    ``in_menu = False`` keeps a page out of the menu (reached another way, like the
    messages behind the header's bell)."""

    allowed: ClassVar[Callable[[Any], bool] | None] = None
    in_menu: ClassVar[bool] = True

    def is_accessible(self) -> bool:
        user = account()
        # Read through the class: a plain function stored there is not bound to self.
        predicate = type(self).allowed
        return bool(user is not None and user.is_active and (predicate is None or predicate(user)))

    def is_visible(self) -> bool:
        return self.in_menu and self.is_accessible()

    def inaccessible_callback(self, name, **kwargs):
        if account() is None:
            return redirect(url_for("security.login", next=request.full_path))
        abort(403)
