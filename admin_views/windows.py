"""申报时间 (``/admin/windows/``): the committee's filing windows per year and step, a
society's earlier cut-off for its branches, and the named exceptions granted to late
units (``workflow.calendar``). Being built (issue 25)."""


def register(admin) -> None:
    """Add the 申报时间 page (and its countdowns) to the panel."""
