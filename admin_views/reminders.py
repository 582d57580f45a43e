"""催办 (``/admin/reminders/``): the committee's reminder settings, the reminders sent,
and, in the demo, a link that runs the reminders by hand (``notifications.reminders``).
Being built (issue 25)."""


def register(admin) -> None:
    """Add the 催办 page to the panel."""
