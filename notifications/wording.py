"""What a message says, in the reader's language; e-mail is always written in
Chinese (the system's language), whatever the language of the page that
caused it."""

from __future__ import annotations

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from models.message import MessageKind, MessageSubject

MAIL_LOCALE = "zh_Hans_CN"

PROJECTS, EXECUTIONS = MessageSubject.PROJECTS, MessageSubject.EXECUTIONS
SENTENCES = {
    PROJECTS: {
        MessageKind.REPORTED: _l("%(unit)s reported %(n)s project(s)"),
        MessageKind.RETURNED: _l("%(unit)s returned %(n)s project(s) for changes"),
        MessageKind.PUBLISHED: _l("%(unit)s approved and published %(n)s project(s)"),
        MessageKind.WITHDRAWN: _l("%(unit)s withdrew the publication of %(n)s project(s)"),
    },
    EXECUTIONS: {
        MessageKind.REPORTED: _l("%(unit)s reported %(n)s execution report(s)"),
        MessageKind.RETURNED: _l("%(unit)s returned %(n)s execution report(s) for changes"),
        MessageKind.PUBLISHED: _l("%(unit)s approved %(n)s execution report(s)"),
    },
}
# A mail's list of the rows, and what is said of those left out.
ROWS_HEADING = {PROJECTS: _l("Projects:"), EXECUTIONS: _l("Execution reports:")}
ROWS_IN_ALL = {
    PROJECTS: _l("… %(n)s projects in all"),
    EXECUTIONS: _l("… %(n)s execution reports in all"),
}


def sentence(
    kind: MessageKind, actor_name: str, count: int, subject: MessageSubject = PROJECTS
) -> str:
    """E.g. "北京医学会心血管病学分会 上报了 3 个项目", "… 上报了 2 份执行情况"."""
    words = SENTENCES[MessageSubject(subject)][MessageKind(kind)]
    return str(words) % {"unit": actor_name, "n": count}


def rows_heading(subject: MessageSubject) -> str:
    return str(ROWS_HEADING[MessageSubject(subject)])


def rows_in_all(subject: MessageSubject, count: int) -> str:
    return str(ROWS_IN_ALL[MessageSubject(subject)]) % {"n": count}


def in_mail_language(function, *args, **kwargs):
    """``function``'s result rendered in the e-mail's language."""
    with force_locale(MAIL_LOCALE):
        return function(*args, **kwargs)


def reason_line(reason: str) -> str:
    return gettext("Reason: %(reason)s", reason=reason)
