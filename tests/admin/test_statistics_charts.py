"""The statistics charts' SVG and pygal's import hook.

pygal appends a ``sys.meta_path`` finder without ``find_spec`` when it is imported;
while it is there every import of a module that is not installed warns, which
``-W error`` turns into a failure of whatever test imports next (the rate limiter
probing for valkey did). The app imports pygal only for the first chart and takes
the finder out again.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

from reports import charts
from reports.statistics import Table

ROOT = Path(__file__).resolve().parents[2]


def run_fresh(code: str) -> subprocess.CompletedProcess:
    """``code`` in a new interpreter (this one may have imported pygal already)."""
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_the_app_does_not_import_pygal():
    done = run_fresh(
        """
        import sys
        import app
        app.create_app
        import admin_views.statistics, reports.charts
        assert "pygal" not in sys.modules, "pygal imported with the app"
        """
    )
    assert done.returncode == 0, done.stderr


def test_a_chart_leaves_no_import_hook_behind():
    done = run_fresh(
        """
        import importlib, sys
        from reports import charts
        from reports.statistics import Table
        table = Table("y", "y", ["年度", "项目数"], [(2025, 3)], chart="bar", series=(1,))
        charts.render(table, "-")
        assert "pygal" in sys.modules
        assert not [f for f in sys.meta_path if type(f).__name__ == "PluginImportFixer"]
        # A missing module is an ImportError, not an ImportWarning turned error first.
        try:
            importlib.import_module("no_such_module_cme")
        except ModuleNotFoundError:
            pass
        """
    )
    assert done.returncode == 0, done.stderr


def test_the_svg_carries_no_pygal_text_or_script():
    table = Table(
        "years",
        "按年度",
        ["年度", "项目数", "已公布"],
        [(2024, 3, 1), (2025, 5, 2)],
        chart="bar",
        series=(1, 2),
    )
    svg = charts.render(table, "没有符合条件的项目")
    assert "<script" not in svg
    assert "<!--" not in svg
    assert "pygal.org" not in svg and "Kozea" not in svg
    # The SVG's own title names the table (pygal writes "Pygal" when a chart has none).
    assert re.search(r"<title>按年度</title>", svg)
    assert not re.search(r">[^<]*Pygal[^<]*<", svg)
    empty = charts.render(
        Table("years", "按年度", ["年度", "项目数"], [], chart="hbar", series=(1,)),
        "没有符合条件的项目",
    )
    assert "没有符合条件的项目" in empty and "No data" not in empty


def test_a_second_axis_has_round_labels_and_survives_no_data():
    """学分 on an axis of its own: both axes from 0 in the same number of round steps (whole
    steps for a count), the second titled; a table with no rows draws pygal's no-data text."""
    headers = ["单位", "项目数", "学分"]
    rows = [("甲", 12, 130.5), ("乙", 7, 40.0)]
    table = Table("units", "按单位", headers, rows, "bar", (1, 2), secondary=(2,))
    svg = charts.render(table, "没有符合条件的项目")
    left = re.search(r'<g class="axis y always_show">(.*?)<g class="axis y2">', svg).group(1)
    right = re.search(r'<g class="axis y2">(.*?)<g class="axis x', svg).group(1)
    assert re.findall(r">([\d.]+)</text>", left) == ["0", "2", "4", "6", "8", "10", "12"]
    assert re.findall(r">([\d.]+)</text>", right) == ["0", "25", "50", "75", "100", "125", "150"]
    assert re.findall(r'class="title"[^>]*>([^<]+)<', svg) == ["项目数", "学分"]
    empty = Table("units", "按单位", headers, [], "hbar", (1, 2), secondary=(2,))
    assert "没有符合条件的项目" in charts.render(empty, "没有符合条件的项目")
