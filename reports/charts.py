"""Charts of the statistics tables, drawn on the server as SVG by pygal.

Each chart plots columns of its table's own rows, so the picture and the table
beside it cannot disagree. The SVG is inline: no script (pygal's tooltips load
JavaScript from the network, so ``js=[]``), no external file; its text uses the
browser's fonts, with Chinese ones named first.
"""

from __future__ import annotations

import pygal
from pygal.etree import etree
from pygal.style import Style

from reports.statistics import Table

# Horizontal bar charts (units, disciplines) show this many rows; the table shows all.
CHART_ROWS = 15
FONTS = '"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif'
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#6c757d",
    colors=("#0d6efd", "#20c997", "#fd7e14", "#6f42c1"),
    font_family=FONTS,
    label_font_family=FONTS,
    major_label_font_family=FONTS,
    value_font_family=FONTS,
    value_label_font_family=FONTS,
    title_font_family=FONTS,
    legend_font_family=FONTS,
    tooltip_font_family=FONTS,
    no_data_font_family=FONTS,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    value_font_size=11,
    no_data_font_size=14,
)
KINDS = {"bar": pygal.Bar, "hbar": pygal.HorizontalBar, "line": pygal.Line}


def chart_rows(table: Table) -> list[tuple]:
    """The rows a chart draws: all of them, or the first ``CHART_ROWS`` of a
    horizontal bar chart (its table is sorted largest first)."""
    return table.rows[:CHART_ROWS] if table.chart == "hbar" else list(table.rows)


def render(table: Table, no_data: str) -> str | None:
    """The table's chart as an inline ``<svg>`` element, or None if it has none."""
    if table.chart is None:
        return None
    rows = chart_rows(table)
    # A horizontal bar chart draws its first label at the bottom: reversed, the
    # largest is on top, as in the table.
    if table.chart == "hbar":
        rows = rows[::-1]
    height = max(260, 28 * len(rows) + 90) if table.chart == "hbar" else 320
    chart = KINDS[table.chart](
        js=[],
        disable_xml_declaration=True,
        style=STYLE,
        width=640,
        height=height,
        print_values=table.chart != "line" or len(rows) <= 24,
        print_values_position="top",
        show_legend=len(table.series) > 1,
        legend_at_bottom=True,
        legend_at_bottom_columns=len(table.series),
        x_label_rotation=30 if table.chart == "line" and len(rows) > 12 else 0,
        truncate_label=-1,
        no_data_text=no_data,
        explicit_size=False,
        margin=12,
    )
    chart.x_labels = [str(row[0]) for row in rows]
    for column in table.series:
        chart.add(str(table.headers[column]), [row[column] for row in rows])
    return _without_scripts(chart)


def _without_scripts(chart) -> str:
    """The SVG without the ``<script>`` pygal always writes (its tooltip settings):
    the page runs no chart code, so a strict Content-Security-Policy holds."""
    tree = chart.render_tree()
    for parent in tree.iter():
        for child in [c for c in parent if str(c.tag).endswith("script")]:
            parent.remove(child)
    return etree.tostring(tree, encoding="unicode")
