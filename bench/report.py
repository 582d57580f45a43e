"""Targets of issue 6 checked against the figures, and the Markdown/JSON reports."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SCALING_GROUPS = (
    "list",
    "filtered",
    "search",
    "full_page",
    "public_search",
    "public_keyword",
    "api_list",
)
LIST_GROUPS = ("list", "filtered", "search", "page500", "full_page")
ROLES = ("committee", "society", "branch")


def machine() -> dict:
    """nproc, memory, CPU model, Python and git commit, for the report header."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg": loadavg(),
    }


def loadavg() -> str:
    """The 1/5/15-minute load averages: other work on the machine skews the figures."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, cwd=RESULTS.parent.parent
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _median(results: dict, key: str) -> float | None:
    entry = results.get(key) or {}
    return entry.get("median_ms")


def _check(name: str, value: float | None, limit: float, detail: str, *, le: bool = True):
    """One target: met when ``value`` ≤ ``limit`` (or ≥ with ``le=False``)."""
    if value is None:
        return {"target": name, "value": None, "limit": limit, "met": None, "detail": detail}
    met = value <= limit if le else value >= limit
    return {"target": name, "value": round(value, 2), "limit": limit, "met": met, "detail": detail}


def _unlike(name: str, rows: tuple, detail: str) -> dict:
    """Two pages that show different numbers of rows are not compared (issue 22, item 11):
    their ratio would be the rendering of the extra rows, not the growth of the data."""
    return {
        "target": name,
        "value": None,
        "limit": 1.5,
        "met": "unlike",
        "detail": f"not compared: the pages show {rows[0]} and {rows[1]} rows; {detail}",
    }


def scaling_targets(small: dict, large: dict) -> list[dict]:
    checks = []
    for group in SCALING_GROUPS:
        for role in (*ROLES, "public"):
            key = f"{group}/{role}"
            if key not in large:
                continue
            before, after = _median(small, key), _median(large, key)
            ratio = after / before if before and after else None
            detail = f"{after} ms at large vs {before} ms at small"
            rows = (small.get(key) or {}).get("rows"), large[key].get("rows")
            if None not in rows:
                if rows[0] != rows[1]:
                    checks.append(_unlike(f"flat scaling {key}", rows, detail))
                    continue
                detail += f"; {rows[1]} rows on the page at both sizes"
            cpu = (small.get(key) or {}).get("cpu_ms"), large[key].get("cpu_ms")
            if None not in cpu and cpu[0]:
                detail += f"; CPU {cpu[1]} ms vs {cpu[0]} ms ({cpu[1] / cpu[0]:.2f}×)"
            checks.append(_check(f"flat scaling {key}", ratio, 1.5, detail))
    return checks


def peer_targets(large: dict) -> list[dict]:
    peer = _median(large, "list/peer")
    checks = []
    for role in ROLES:
        ours = _median(large, f"list/{role}")
        ratio = ours / peer if ours and peer else None
        checks.append(
            _check(f"list/{role} vs stock page", ratio, 1.3, f"{ours} ms vs stock {peer} ms")
        )
    return checks


def limit_targets(large: dict) -> list[dict]:
    checks = []
    for group in LIST_GROUPS:
        for role in ROLES:
            entry = large.get(f"{group}/{role}") or {}
            # The statement that reads the page's rows, against the same rows by hand; the
            # page's other statements (session, account, bell, capped count, tabs) are
            # named in the detail.
            ours = entry.get("picked_sql_ms", entry.get("sql_ms"))
            raw = _median(large, f"{group}/{role}/limit")
            ratio = ours / raw if ours and raw else None
            checks.append(
                _check(
                    f"SQL time {group}/{role} (the page's rows) vs raw query",
                    ratio,
                    2.0,
                    f"{ours} ms for the page's rows vs raw {raw} ms; the page's"
                    f" {entry.get('statements')} statements {entry.get('sql_ms')} ms in all",
                )
            )
    return checks


def _info(name: str, value: float | None, detail: str) -> dict:
    """A figure reported for information, with no target."""
    value = round(value, 2) if value is not None else None
    return {"target": name, "value": value, "limit": None, "met": "info", "detail": detail}


def bulk_targets(large: dict) -> list[dict]:
    """Each bulk action against the hand-written SQL of the same writes on the same rows
    (``references.bulk_write``: ≤ 2×, issue 22 item 11); its statements constant; and the
    ratio 500 ÷ 50 rows, for information only (per-row work in the database, the UPDATE's
    index entries and triggers, grows with the rows in the reference just the same)."""
    checks = []
    for key, entry in large.items():
        if not key.startswith("bulk_") or entry.get("reference") or not entry.get("runs"):
            continue
        name, role = key.split("/")
        reference = large.get(f"{key}/reference") or {}
        ratio = entry["median_ms"] / reference["median_ms"] if reference.get("median_ms") else None
        checks.append(
            _check(
                f"{name} vs its SQL reference ({role})",
                ratio,
                2.0,
                f"{entry['median_ms']} ms ({entry['statements']} statements, SQL"
                f" {entry['sql_ms']} ms) vs the same writes by hand {reference.get('median_ms')}"
                f" ms ({reference.get('statements')} statements, SQL {reference.get('sql_ms')} ms)",
            )
        )
        if entry.get("rows") != 500:
            continue
        action = name.rsplit("_", 1)[0]
        few = large.get(f"{action}_5/{role}") or {}
        fifty = large.get(f"{action}_50/{role}") or {}
        # The fewest statements a POST took: now and then a request also writes its
        # session's last_seen_at (SESSION_TOUCH_INTERVAL), whatever the rows.
        least = entry.get("statements_min", entry["statements"])
        least_few = few.get("statements_min", few.get("statements", 0))
        checks.append(
            _check(
                f"{action} statements 500 vs 5 rows ({role})",
                least - least_few,
                0,
                f"{least_few} → {least} statements (the most in one run:"
                f" {few.get('statements')} → {entry['statements']})",
            )
        )
        ratio = entry["median_ms"] / fifty["median_ms"] if fifty.get("median_ms") else None
        reference_50 = large.get(f"{action}_50/{role}/reference") or {}
        ref_ratio = (
            reference["median_ms"] / reference_50["median_ms"]
            if reference.get("median_ms") and reference_50.get("median_ms")
            else None
        )
        checks.append(
            _info(
                f"{action} time 500 vs 50 rows ({role})",
                ratio,
                f"{entry['median_ms']} ms vs {fifty.get('median_ms')} ms; the SQL reference"
                f" {reference.get('median_ms')} vs {reference_50.get('median_ms')} ms"
                f" ({round(ref_ratio, 2) if ref_ratio else None}×)",
            )
        )
    return checks


def export_targets(large: dict, sizes: list[str]) -> list[dict]:
    if len(sizes) != 2:
        return []
    small, big = sizes
    checks = []
    for kind in ("csv", "xlsx"):
        before = (large.get(f"export_{kind}_{small}/committee") or {}).get("heap_peak_mb")
        after = (large.get(f"export_{kind}_{big}/committee") or {}).get("heap_peak_mb")
        ratio = after / before if before and after else None
        checks.append(
            _check(
                f"{kind.upper()} export memory {big} vs {small} rows",
                ratio,
                1.2,
                f"heap peak {after} MB vs {before} MB",
            )
        )
    ours, plain, xlsx = (
        large.get(f"export_{key}_{big}/{who}") or {}
        for key, who in (("csv", "committee"), ("csv", "plain"), ("xlsx", "committee"))
    )
    for name, top, bottom, limit, le in (
        (f"CSV export throughput vs plain csv.writer ({big} rows)", plain, ours, 0.5, False),
        (f"XLSX export time vs our CSV ({big} rows)", xlsx, ours, 3.0, True),
    ):
        ratio = top["median_ms"] / bottom["median_ms"] if top and bottom else None
        detail = f"{top.get('median_ms')} ms vs {bottom.get('median_ms')} ms"
        checks.append(_check(name, ratio, limit, detail, le=le))
    return checks


def _load_runs(load) -> list[dict]:
    """The load test's runs, one per number of visitors (an older report holds one)."""
    if not load:
        return []
    return [run for run in (load if isinstance(load, list) else [load]) if "ours" in run]


def load_targets(load) -> list[dict]:
    checks = []
    for run in _load_runs(load):
        ours, peer = run["ours"], run.get("peer") or {}
        ratio = ours["rps"] / peer["rps"] if peer.get("rps") else None
        users = run.get("users")
        checks += [
            _check(
                f"load test errors, {users} users",
                ours["failures"],
                0,
                f"{ours['requests']} requests",
            ),
            _check(
                f"load test throughput vs stock page, {users} users",
                ratio,
                1.0,
                f"{ours['rps']} req/s vs stock {peer.get('rps')} req/s;"
                f" p95 {ours['p95_ms']} ms vs stock {peer.get('p95_ms')} ms",
                le=False,
            ),
        ]
    return checks


def all_targets(figures: dict) -> list[dict]:
    small, large = figures["small"]["results"], figures["large"]["results"]
    return [
        *scaling_targets(small, large),
        *peer_targets(large),
        *limit_targets(large),
        *bulk_targets(large),
        *export_targets(large, figures.get("export_sizes", [])),
        *load_targets(figures.get("load")),
    ]


def _limit(limit) -> str:
    return "—" if limit is None else str(limit)


def _mark(met) -> str:
    return {
        True: "met",
        False: "**missed**",
        None: "n/a",
        "unlike": "**unlike pages**",
        "info": "information",
    }[met]


def _results_table(small: dict, large: dict, n_small: int, n_large: int) -> list[str]:
    head = (
        f"| scenario | {n_small:,}: median / p95 ms | {n_large:,}: median / p95 ms"
        " | statements | SQL ms | extra |"
    )
    lines = [head, "|---|---|---|---|---|---|"]
    for key in large:
        entry, before = large[key], small.get(key) or {}
        small_cell = f"{before['median_ms']} / {before['p95_ms']}" if before.get("runs") else ""
        extra = ", ".join(
            f"{k}={entry[k]}"
            for k in ("rows", "cpu_ms", "heap_peak_mb", "rss_peak_mb")
            if k in entry
        )
        lines.append(
            f"| {key} | {small_cell} | {entry.get('median_ms')} / {entry.get('p95_ms')}"
            f" | {entry.get('statements')} | {entry.get('sql_ms')} | {extra} |"
        )
    return lines


def _load_table(load) -> list[str]:
    runs = _load_runs(load)
    if not runs:
        return ["(no load test in this run)"]
    lines = []
    for run in runs:
        lines += [
            f"gunicorn {run.get('workers')} workers, locust {run.get('users')} users,"
            f" {run.get('seconds')} s each.",
            "",
            "| target | requests | failures | req/s | median ms | p95 ms |",
            "|---|---|---|---|---|---|",
        ]
        rows = [(name, run.get(name)) for name in ("ours", "peer")]
        rows += [(f"ours: {name}", row) for name, row in (run.get("ours_by_name") or {}).items()]
        for name, row in rows:
            if row:
                lines.append(
                    f"| {name} | {row['requests']} | {row['failures']} | {row['rps']}"
                    f" | {row['median_ms']} | {row['p95_ms']} |"
                )
        lines.append("")
    return lines[:-1]


def markdown(figures: dict) -> str:
    info, db = figures["machine"], figures["database"]
    small, large = figures["small"], figures["large"]
    lines = [
        f"# Benchmark — {db['backend']} {db['version']}{' (quick)' if figures['quick'] else ''}",
        "",
        f"- machine: {info['nproc']} cores, {info['memory_gib']} GiB, {info['cpu']}",
        f"- git commit {info['commit']}{' (with local changes)' if info['dirty'] else ''},"
        f" Python {info['python']}, {info['date']}",
        f"- load average at start {info['loadavg']}, at end {figures.get('loadavg_end')}"
        " (other processes share the machine)",
        f"- data sets: {small['projects']:,} and {large['projects']:,} projects"
        f" (generated in {small['generate_s']} s and {large['generate_s']} s: {large['rows']})",
        f"- repetitions: {figures['reps']} per page, {figures['export_reps']} per export"
        " (after one warm-up)",
        f"- command: `{figures['command']}`, total {figures.get('total_s')} s",
        "",
        "## Targets",
        "",
        "| target | value | limit | verdict | detail |",
        "|---|---|---|---|---|",
    ]
    for check in figures["targets"]:
        lines.append(
            f"| {check['target']} | {check['value']} | {_limit(check['limit'])}"
            f" | {_mark(check['met'])}"
            f" | {check['detail']} |"
        )
    lines += ["", "## Scenarios", ""]
    lines += _results_table(
        small["results"], large["results"], small["projects"], large["projects"]
    )
    lines += ["", "## Load test", "", *_load_table(figures.get("load"))]
    if figures.get("explain"):
        lines += ["", "## Query plans (large set)", ""]
        for name, plan in figures["explain"].items():
            lines += [f"### {name}", "", "```", plan, "```", ""]
    return "\n".join(lines) + "\n"


def write(figures: dict, stem: str) -> tuple[Path, Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    figures["targets"] = all_targets(figures)
    json_path, md_path = RESULTS / f"{stem}.json", RESULTS / f"{stem}.md"
    json_path.write_text(json.dumps(figures, ensure_ascii=False, indent=1, default=str) + "\n")
    md_path.write_text(markdown(figures))
    return json_path, md_path
