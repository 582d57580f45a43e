"""What a message says, in the reader's language; e-mail is always written in
Chinese (the system's language), whatever the language of the page that
caused it."""

from __future__ import annotations

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from models.calendar import ReminderClock
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
    """E.g. "北京医学会心血管病学分会 上报了 3 个项目", "… 上报了 2 份执行情况"; a reminder
    (催办) reads its clock from ``actor_name`` (``reminder_key``)."""
    if MessageKind(kind) is MessageKind.REMINDER:
        return reminder_sentence(actor_name, count)
    words = SENTENCES[MessageSubject(subject)][MessageKind(kind)]
    return str(words) % {"unit": actor_name, "n": count}


# -- 催办 (notifications.reminders) ------------------------------------------------
# A reminder's message has no acting unit: its ``actor_name`` holds what the sentence
# needs, "clock|days|escalation|units" (e.g. "waiting_society|14|0|0"), put into words
# when shown, in the reader's language.
REMINDER_SENTENCES = {
    ReminderClock.WINDOW_CLOSING: _l(
        "Reminder: %(n)s project(s) not yet reported, %(days)s day(s) left before"
        " the reporting deadline"
    ),
    ReminderClock.WAITING_SOCIETY: _l(
        "Reminder: %(n)s project(s) have waited at your unit for more than %(days)s day(s)"
    ),
    ReminderClock.WAITING_COMMITTEE: _l(
        "Reminder: %(n)s project(s) have waited at your unit for more than %(days)s day(s)"
    ),
    ReminderClock.EXECUTION_DUE: _l(
        "Reminder: %(n)s execution report(s) due within %(days)s day(s)"
    ),
    ReminderClock.EXECUTION_OVERDUE: _l("Reminder: %(n)s execution report(s) overdue"),
}
ESCALATION_SENTENCES = {
    ReminderClock.WINDOW_CLOSING: _l(
        "Reminder: units below yours have projects not yet reported as the deadline"
        " nears: %(n)s project(s) at %(units)s unit(s)"
    ),
    ReminderClock.WAITING_SOCIETY: _l(
        "Reminder: units below yours have overdue items: %(n)s project(s) at %(units)s unit(s)"
    ),
    ReminderClock.EXECUTION_DUE: _l(
        "Reminder: units below yours have overdue items: %(n)s execution report(s)"
        " at %(units)s unit(s)"
    ),
    ReminderClock.EXECUTION_OVERDUE: _l(
        "Reminder: units below yours have overdue items: %(n)s execution report(s)"
        " at %(units)s unit(s)"
    ),
}
EXECUTION_CLOCKS = frozenset({ReminderClock.EXECUTION_DUE, ReminderClock.EXECUTION_OVERDUE})


def reminder_key(clock: ReminderClock, days: int, escalation: bool, units: int) -> str:
    """What a reminder's sentence needs, stored in its message's ``actor_name``."""
    return f"{ReminderClock(clock).value}|{int(days)}|{int(bool(escalation))}|{int(units)}"


def reminder_sentence(key: str, count: int) -> str:
    """E.g. "催办：3 个项目在贵单位等待已超过 14 天", "催办：下级单位有逾期事项：2 个单位的
    5 个项目"."""
    try:
        clock_value, days, escalation, units = key.split("|")
        clock = ReminderClock(clock_value)
        words = (ESCALATION_SENTENCES if escalation == "1" else REMINDER_SENTENCES)[clock]
        return str(words) % {"n": count, "days": int(days), "units": int(units)}
    except (KeyError, ValueError):
        return gettext("Reminder: %(n)s item(s)", n=count)


def clock_subject(clock: ReminderClock) -> MessageSubject:
    return EXECUTIONS if ReminderClock(clock) in EXECUTION_CLOCKS else PROJECTS


def child_line(clock: ReminderClock, unit: str, count: int) -> str:
    """An escalation's line per child unit: "北京医学会心血管病学分会：2 个项目"."""
    if clock_subject(clock) is EXECUTIONS:
        return gettext("%(unit)s: %(n)s execution report(s)", unit=unit, n=count)
    return gettext("%(unit)s: %(n)s project(s)", unit=unit, n=count)


def escalated_item(unit: str, name: str) -> str:
    """An item of an escalation, named with its unit."""
    return f"{unit} · {name}"


def items_heading(clock: ReminderClock) -> str:
    return rows_heading(clock_subject(clock))


def items_in_all(clock: ReminderClock, count: int) -> str:
    return rows_in_all(clock_subject(clock), count)


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
