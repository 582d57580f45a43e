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
import math
import re
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
    two_axes = _two_axes(table, rows)
    lib = _pygal()
    chart = lib.kinds[table.chart](style=lib.style, **_options(table, rows, no_data, two_axes))
    chart.x_labels = [str(row[0]) for row in rows]
    for column in table.series:
        values = [row[column] for row in rows]
        # (pygal fails on a second axis without values: none without data)
        secondary = two_axes is not None and column in table.secondary
        chart.add(str(table.headers[column]), values, secondary=secondary)
    return _cleaned(chart, str(table.title), lib.etree, two_axes)


def _options(table: Table, rows: list[tuple], no_data: str, two_axes) -> dict:
    """pygal's options for the table's chart of ``rows``: its size (a horizontal bar
    chart as tall as its bars need), values printed unless a long line, the legend
    for more than one series, a long line's labels slanted, a second axis's."""
    return {
        "js": [],
        "disable_xml_declaration": True,
        "width": 640,
        "height": max(260, 28 * len(rows) + 90) if table.chart == "hbar" else 320,
        "print_values": table.chart != "line" or len(rows) <= 24,
        "print_values_position": "top",
        "show_legend": len(table.series) > 1,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": len(table.series),
        "x_label_rotation": 30 if table.chart == "line" and len(rows) > 12 else 0,
        "truncate_label": -1,
        "no_data_text": no_data,
        "explicit_size": False,
        "margin": 12,
        **(two_axes.options if two_axes else {}),
    }


# The value axes of a chart with two share their grid lines: both run from 0 in the same
# number of steps (one of these), each step a round size (1, 2, 2.5 or 5 times a power of ten),
# the number chosen that leaves the least room above the larger bar of either axis.
AXIS_STEPS = (4, 5, 6)
TITLE_SIZE = 16  # pygal's title_font_size, also of the second axis's title drawn here
SPACING = 10  # pygal's spacing between a title and the axis labels


def _round_step(largest: float, steps: int) -> float:
    """The smallest round step (1, 2, 2.5, 5 × 10ⁿ) that reaches ``largest`` in ``steps``."""
    wanted = largest / steps
    if wanted <= 0:
        return 1
    power = 10 ** math.floor(math.log10(wanted))
    # 2.5 only where it is a whole number: a count has no half projects.
    sizes = (1, 2, 2.5, 5, 10) if power >= 10 else (1, 2, 5, 10)
    return next(round(m * power, 10) for m in sizes if m * power >= wanted)


def _shared_steps(left: float, right: float) -> tuple[int, float, float]:
    """(number of steps, left step, right step) of two axes reaching ``left`` and ``right``."""

    def room(steps: int) -> float:
        tops = (steps * _round_step(left, steps), steps * _round_step(right, steps))
        return max(1 - value / top for value, top in zip((left, right), tops, strict=True))

    steps = min(AXIS_STEPS, key=room)
    return steps, _round_step(left, steps), _round_step(right, steps)


def _two_axes(table: Table, rows: list[tuple]) -> SimpleNamespace | None:
    """pygal's options for a chart whose ``secondary`` columns have an axis of their own,
    and the titles of both axes (each its column's header), or None for one axis."""
    primary, secondary = _axis_columns(table)
    if not (secondary and primary and rows):
        return None  # no second axis, or no data: pygal draws its no-data text alone
    steps, left, right = _shared_steps(_largest(rows, primary), _largest(rows, secondary))
    labels = [_plain(left * i) for i in range(steps + 1)]
    title = " / ".join(str(table.headers[c]) for c in primary)
    horizontal = table.chart == "hbar"
    options = {
        "range": (0, labels[-1]),
        "secondary_range": (0, _plain(right * steps)),
        "y_labels": labels,
        "include_x_axis": True,
        # the value axis's title: beside it on the left, or under a horizontal chart
        ("x_title" if horizontal else "y_title"): title,
        # room for the second axis's title, outside its labels
        ("margin_top" if horizontal else "margin_right"): 12 + TITLE_SIZE + SPACING,
    }
    return SimpleNamespace(
        options=options,
        horizontal=horizontal,
        title=" / ".join(str(table.headers[c]) for c in secondary),
    )


def _axis_columns(table: Table) -> tuple[list[int], list[int]]:
    """The series columns of the left axis and those of the second (``secondary``)."""
    primary = [c for c in table.series if c not in table.secondary]
    return primary, [c for c in table.series if c in table.secondary]


def _largest(rows: list[tuple], columns: list[int]) -> float:
    """The largest value of ``columns`` in ``rows`` (a blank as 0; 0 for none)."""
    return max((row[c] or 0 for row in rows for c in columns), default=0)


def _plain(number: float) -> int | float:
    """A whole number as an int (pygal writes 20.0 otherwise)."""
    return int(number) if float(number).is_integer() else number


def _second_axis_title(tree, two_axes: SimpleNamespace) -> None:
    """The second axis's title, which pygal does not draw: rotated beside the right-hand
    axis (as pygal draws the left one), or above the top axis of a horizontal chart,
    centred on the plot. Nothing when pygal drew no plot (no data)."""
    namespace = str(tree.tag)[: -len("svg")]  # "{http://www.w3.org/2000/svg}" or ""
    groups = {n.get("class"): n for n in tree.iter() if n.tag == f"{namespace}g"}
    plot, titles = groups.get("plot"), groups.get("titles")
    if plot is None or titles is None or (background := plot.find(f"{namespace}rect")) is None:
        return
    moved = re.fullmatch(r"translate\(([\d.]+),\s*([\d.]+)\)", plot.get("transform", ""))
    if moved is None:
        return
    x, y = (float(v) for v in moved.groups())
    width, height = float(background.get("width")), float(background.get("height"))
    text = tree.makeelement(f"{namespace}text", {"class": "title"})
    if two_axes.horizontal:
        text.attrib.update(x=f"{x + width / 2:g}", y=f"{12 + TITLE_SIZE:g}")
    else:
        middle = y + height / 2
        right = float(tree.get("viewBox").split()[2]) - 12 - 2
        text.attrib.update(
            x=f"{right:g}", y=f"{middle:g}", transform=f"rotate(-90 {right:g} {middle:g})"
        )
    text.text = two_axes.title
    titles.append(text)


def _cleaned(chart, title: str, etree, two_axes: SimpleNamespace | None = None) -> str:
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
    if two_axes is not None:
        _second_axis_title(tree, two_axes)
    return etree.tostring(tree, encoding="unicode")
