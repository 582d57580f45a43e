"""What a message says, in the reader's language; e-mail is always written in
Chinese (the system's language), whatever the language of the page that
caused it."""

from __future__ import annotations

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from models.message import MessageKind

MAIL_LOCALE = "zh_Hans_CN"

SENTENCES = {
    MessageKind.REPORTED: _l("%(unit)s reported %(n)s project(s)"),
    MessageKind.RETURNED: _l("%(unit)s returned %(n)s project(s) for changes"),
    MessageKind.PUBLISHED: _l("%(unit)s approved and published %(n)s project(s)"),
    MessageKind.WITHDRAWN: _l("%(unit)s withdrew the publication of %(n)s project(s)"),
}


def sentence(kind: MessageKind, actor_name: str, count: int) -> str:
    """E.g. "北京医学会心血管病学分会 上报了 3 个项目"."""
    return str(SENTENCES[MessageKind(kind)]) % {"unit": actor_name, "n": count}


def in_mail_language(function, *args, **kwargs):
    """``function``'s result rendered in the e-mail's language."""
    with force_locale(MAIL_LOCALE):
        return function(*args, **kwargs)


def reason_line(reason: str) -> str:
    return gettext("Reason: %(reason)s", reason=reason)
