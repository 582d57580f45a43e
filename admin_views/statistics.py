"""统计 (/admin/statistics/): the committee's and each society's figures, a chart beside
each table, the filters 年度, 级别 and 学科, and every table in one XLSX workbook.

The figures come from ``reports`` (GROUP BY queries over the account's scope); entry
units have no statistics page (403)."""

from __future__ import annotations

import io
from datetime import datetime

from flask import Response, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

import exports
import permissions
import reports
from admin_views.base import account, local_time
from admin_views.signed_in import SignedInView
from extensions import db
from models import ProjectLevel
from reports import charts

ALL_YEARS = "all"


def this_year() -> int:
    return datetime.now(exports.LOCAL_ZONE).year


def _integer(text: str, digits: int) -> int | None:
    """A positive integer of at most ``digits`` digits (larger would overflow the column)."""
    return int(text) if text.isdigit() and len(text) <= digits else None


def parse_filters(args) -> reports.Filters:
    """The filters from the query string; a value that is not one of the options is
    ignored (all). Without a 年度 the page shows this year (Beijing)."""
    raw_year = args.get("year", "")
    year = None if raw_year == ALL_YEARS else _integer(raw_year, 4) or this_year()
    level = args.get("level", "")
    level = ProjectLevel(level) if level in {m.value for m in ProjectLevel} else None
    discipline = args.get("discipline", "")
    return reports.Filters(
        year=year,
        level=level,
        discipline_id=_integer(discipline, 9),
    )


def filter_args(filters: reports.Filters) -> dict[str, str]:
    """The query string of ``filters`` (the export link repeats the page's filters)."""
    args = {"year": str(filters.year) if filters.year is not None else ALL_YEARS}
    if filters.level is not None:
        args["level"] = filters.level.value
    if filters.discipline_id is not None:
        args["discipline"] = str(filters.discipline_id)
    return args


def shown(value) -> str:
    """A cell as the page shows it: times in Beijing time, numbers without a trailing .0."""
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _format_columns(sheet, table) -> None:
    """Each column of a table's sheet as wide as its widest text (at most 60), its
    times written as dates and minutes."""
    from openpyxl.utils import get_column_letter

    for index, header in enumerate(table.headers):
        width = max(
            [exports.display_width(header)]
            + [exports.display_width(row[index]) for row in table.rows]
        )
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(width + 2, 60)
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index + 1, max_col=index + 1):
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"


def workbook(report: reports.Report) -> bytes:
    """Every table of the report, a named sheet each, as an .xlsx file."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for table in report.tables.values():
        title = exports.SHEET_NAME_FORBIDDEN.sub("", str(table.title))[:31]
        sheet = book.create_sheet(title=title)
        sheet.append([str(header) for header in table.headers])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([exports.plain_value(value) for value in row])
        # A unit's or a project's name as it is, never run as a formula.
        exports.text_cells(cell for line in sheet.iter_rows() for cell in line)
        _format_columns(sheet, table)
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# The query argument of the 执行情况 table's page (1 the first), beside the filters.
EXECUTION_PAGE = "execution_page"
# A page number past this is refused (the first page): OFFSET of a huge number overflows.
_MAX_PAGE_DIGITS = 6


def execution_page(args) -> int:
    """The 执行情况 table's page asked for, 0-based (the first when absent or not a number)."""
    number = _integer(args.get(EXECUTION_PAGE, ""), _MAX_PAGE_DIGITS)
    return number - 1 if number else 0


class StatisticsView(SignedInView):
    allowed = permissions.can_read_statistics

    def _report(self, execution_page: int | None = None) -> reports.Report:
        return reports.build_report(
            db.session, account(), parse_filters(request.args), execution_page
        )

    @expose("/")
    def index(self):
        user = account()
        report = self._report(execution_page(request.args))
        no_data = gettext("No projects match these filters.")
        sections = [
            {
                "table": table,
                "svg": Markup(svg) if (svg := charts.render(table, no_data)) else None,
                "rows": [[shown(value) for value in row] for row in table.rows],
            }
            for table in report.tables.values()
        ]
        return self.render(
            "admin/statistics.html",
            sections=sections,
            filters=report.filters,
            options=reports.filter_options(db.session, user),
            args=filter_args(report.filters),
            all_years=ALL_YEARS,
            page_url=lambda page: url_for(
                ".index", **filter_args(report.filters), **{EXECUTION_PAGE: page + 1}
            ),
        )

    @expose("/export.xlsx")
    def export(self):
        # Every unit of the 执行情况 table, whatever page the page showed.
        report = self._report(None)
        year = report.filters.year
        stem = gettext("Statistics") + (f"_{year}" if year is not None else "")
        filename = exports.dated_filename(stem, "xlsx")
        return Response(
            workbook(report),
            mimetype=exports.XLSX_MIMETYPE,
            headers={
                "Content-Disposition": exports.content_disposition(filename),
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


def register(admin) -> None:
    admin.add_view(StatisticsView(name=_l("Statistics"), endpoint="statistics", url="statistics"))
