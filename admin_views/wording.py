"""The manual's words for Flask-Admin's own texts (添加, 修改, 提交 rather than
创建, 编辑, 保存; "条" rather than "项目" in the page-size button).

Flask-Admin merges the catalog given as ``Admin(translations_path=…)`` *before*
its own, and the later catalog wins, so ``translations/…/admin.po`` can add
msgids Flask-Admin lacks but cannot reword those it has. A view that wants our
wording renders with ``admin_gettext`` / ``admin_ngettext`` as its templates'
``_gettext`` / ``_ngettext`` (see ``reworded_render``): our ``admin`` catalog
first, Flask-Admin's for every msgid we do not translate.
"""

from __future__ import annotations

from pathlib import Path

from flask_admin import babel as admin_babel
from flask_babel import Domain

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
OURS = Domain(str(TRANSLATIONS), domain="admin")


def admin_gettext(string: str, **variables) -> str:
    translated = OURS.get_translations().ugettext(string)
    if translated == string:
        return admin_babel.gettext(string, **variables)
    return translated % variables if variables else translated


def admin_ngettext(singular: str, plural: str, num: int, **variables) -> str:
    translated = OURS.get_translations().ungettext(singular, plural, num)
    if translated in (singular, plural):
        return admin_babel.ngettext(singular, plural, num, **variables)
    variables.setdefault("num", num)
    return translated % variables


class RewordedMixin:
    """For a Flask-Admin model view: its list, form and details pages use our
    wording. Its templates (``templates/admin/reworded/``) extend Flask-Admin's and
    set ``_gettext`` / ``_ngettext`` to the functions ``render`` passes them."""

    list_template = "admin/reworded/list.html"
    create_template = "admin/reworded/create.html"
    edit_template = "admin/reworded/edit.html"
    details_template = "admin/reworded/details.html"

    def render(self, template: str, **kwargs):
        kwargs.setdefault("reworded_gettext", admin_gettext)
        kwargs.setdefault("reworded_ngettext", admin_ngettext)
        return super().render(template, **kwargs)
