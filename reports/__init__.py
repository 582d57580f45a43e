"""Statistics (统计分析) over the projects an account may see, and their charts.

Layer: beside ``exports``, above ``workflow`` and ``permissions``; the admin panel's
统计 page (``admin_views/statistics.py``) shows it."""

from reports import calendar_stats, execution_stats, statistics
from reports.statistics import (
    BUILDERS,
    Filters,
    Report,
    Table,
    filter_options,
)


def build_report(session, account, filters: Filters, execution_page: int | None = None) -> Report:
    """Every table of the 统计 page: the projects' (``reports.statistics``), the
    execution reports' (``reports.execution_stats``: one page of its units, or every unit
    with ``execution_page=None``), then the filing calendar's (``reports.calendar_stats``:
    late reporting and reminders per unit)."""
    report = statistics.build_report(session, account, filters)
    report.add(execution_stats.execution(session, account, filters, page=execution_page))
    report.add(calendar_stats.calendar_table(session, account, filters))
    return report


__all__ = ["BUILDERS", "Filters", "Report", "Table", "build_report", "filter_options"]
