"""Charts of the statistics tables, drawn on the server as SVG by pygal.

Each chart plots columns of its table's own rows, so the picture and the table
beside it cannot disagree. The SVG is inline: no script (pygal's tooltips load
JavaScript from the network, so ``js=[]``), no external file; its text uses the
browser's fonts, with Chinese ones named first.

pygal is imported on the first chart, not with the app: importing it appends an
import hook to ``sys.meta_path`` (for its map plugins, which we do not use) that
lacks ``find_spec``, so every later import of a module that is not installed
warns (ImportWarning) - an error under the tests' ``-W error``, and noise in
production. ``_pygal`` imports it and takes the hook out again.
"""

from __future__ import annotations

import functools
import sys
from types import SimpleNamespace

from reports.statistics import Table

# Horizontal bar charts (units, disciplines) show this many rows; the table shows all.
CHART_ROWS = 15
FONTS = '"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif'
STYLE = {
    "background": "#ffffff",
    "plot_background": "#ffffff",
    "foreground": "#212529",
    "foreground_strong": "#212529",
    "foreground_subtle": "#6c757d",
    "colors": ("#0d6efd", "#20c997", "#fd7e14", "#6f42c1"),
    "font_family": FONTS,
    "label_font_family": FONTS,
    "major_label_font_family": FONTS,
    "value_font_family": FONTS,
    "value_label_font_family": FONTS,
    "title_font_family": FONTS,
    "legend_font_family": FONTS,
    "tooltip_font_family": FONTS,
    "no_data_font_family": FONTS,
    "label_font_size": 12,
    "major_label_font_size": 12,
    "legend_font_size": 12,
    "value_font_size": 11,
    "no_data_font_size": 14,
}
KINDS = {"bar": "Bar", "hbar": "HorizontalBar", "line": "Line"}


@functools.cache
def _pygal() -> SimpleNamespace:
    """pygal's chart classes, its style and etree, imported once; pygal's import
    hook removed from ``sys.meta_path`` (see the module's docstring)."""
    import pygal
    from pygal.etree import etree
    from pygal.style import Style

    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]
    return SimpleNamespace(
        kinds={key: getattr(pygal, name) for key, name in KINDS.items()},
        style=Style(**STYLE),
        etree=etree,
    )


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
    lib = _pygal()
    chart = lib.kinds[table.chart](
        js=[],
        disable_xml_declaration=True,
        style=lib.style,
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
    return _cleaned(chart, str(table.title), lib.etree)


def _cleaned(chart, title: str, etree) -> str:
    """The SVG without the ``<script>`` pygal always writes (its tooltip settings):
    the page runs no chart code, so a strict Content-Security-Policy holds. Nor
    pygal's comments (its name, version and web addresses); the SVG's ``<title>``,
    which pygal fills with "Pygal" when the chart has no title (a chart title would
    repeat the table's heading above it), names the table instead, for screen
    readers and the tooltip."""
    tree = chart.render_tree()
    svg_title = tree.find("{http://www.w3.org/2000/svg}title")
    if svg_title is None:
        svg_title = tree.find("title")
    if svg_title is not None:
        svg_title.text = title
    for parent in tree.iter():
        for child in list(parent):
            if str(child.tag).endswith("script") or child.tag is etree.Comment:
                parent.remove(child)
    return etree.tostring(tree, encoding="unicode")
