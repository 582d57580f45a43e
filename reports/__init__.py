"""Statistics (统计分析) over the projects an account may see, and their charts.

Layer: beside ``exports``, above ``workflow`` and ``permissions``; the admin panel's
统计 page (``admin_views/statistics.py``) shows it."""

from reports.statistics import (
    BUILDERS,
    Filters,
    Report,
    Table,
    build_report,
    filter_options,
)

__all__ = ["BUILDERS", "Filters", "Report", "Table", "build_report", "filter_options"]
