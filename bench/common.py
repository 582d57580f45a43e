"""What the benchmark scripts share: a timestamped log line, a generated data set on a fresh
database, the benchmark app on it (or the demo data's), the committee's signed-in browser,
the command lines of the two kinds of script (sizes of one backend; one size on each
backend) and the writing of a results file.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from bench.database import fresh_database, migrate

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# -- databases and apps ------------------------------------------------------------------------
@contextlib.contextmanager
def generated(kind: str, label: str, projects: int) -> Iterator[tuple[str, object]]:
    """Yield ``(url, dataset)``: a fresh database of ``kind`` built by the migrations and
    filled by ``bench.datagen`` with ``projects`` projects; dropped on exit."""
    from bench.datagen import generate

    with fresh_database(kind, label) as url:
        migrate(url)
        log(f"{kind} {projects:,}: generating")
        dataset = generate(url, projects)
        log(f"{kind} {projects:,}: generated in {dataset.seconds:.0f} s")
        yield url, dataset


@contextlib.contextmanager
def bench_app(url: str) -> Iterator[tuple[object, object]]:
    """Yield ``(app, engine)``: ``bench.webapp``'s app on ``url`` and its engine, disposed on
    exit. No app context is held: each request gets its own, as under a real server."""
    from bench.webapp import create_bench_app
    from extensions import db

    app = create_bench_app(url)
    with app.app_context():
        engine = db.engine
    try:
        yield app, engine
    finally:
        engine.dispose()


@contextlib.contextmanager
def generated_app(kind: str, label: str, projects: int) -> Iterator[tuple[object, object, object]]:
    """Yield ``(app, engine, dataset)``: ``generated`` and then ``bench_app`` on it."""
    with generated(kind, label, projects) as (url, dataset), bench_app(url) as (app, engine):
        yield app, engine, dataset


def demo_app(url: str):
    """The product app on ``url`` (a fresh database), migrated and holding the demo data."""
    from flask_migrate import upgrade

    from app import create_app
    from demo import seed
    from extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        seed(db.session)
        db.session.commit()
    return app


def signed_in(app, role: str = "committee"):
    """A ``bench.client.Browser`` logged in as the data set's demo account of ``role``."""
    from bench.client import Browser
    from bench.datagen import DEMO_ACCOUNTS

    return Browser(app).login(next(u for u, key in DEMO_ACCOUNTS.items() if key == role))


# -- command lines -----------------------------------------------------------------------------
def sizes_parser(doc: str, reps: int) -> argparse.ArgumentParser:
    """The command line of a script that measures one backend at two (or more) sizes:
    ``--db``, ``--sizes`` (default 2,000 and 200,000 projects), ``--reps``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 200_000])
    parser.add_argument("--reps", type=int, default=reps)
    return parser


def backends_parser(doc: str) -> argparse.ArgumentParser:
    """The command line of a script that compares the backends: ``--db`` (default both)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    return parser


def backends(choice: str) -> tuple[str, ...]:
    """The backends named by ``backends_parser``'s ``--db``."""
    return ("sqlite", "postgresql") if choice == "both" else (choice,)


# -- figures and results -----------------------------------------------------------------------
def on_off(run, repeat: int, *, swap: bool = True) -> dict:
    """A feature switched on and off: ``run(on)`` does one run and returns its seconds.
    After a warm-up round, ``repeat`` rounds of both, off first and on first in turn
    (always off first when not ``swap``); the medians and their ratio on ÷ off."""
    seconds: dict[bool, list[float]] = {True: [], False: []}
    for round_ in range(repeat + 1):
        for on in (True, False) if swap and round_ % 2 else (False, True):
            elapsed = run(on)
            if round_:  # the first round warms up
                seconds[on].append(elapsed)
    on_median, off_median = statistics.median(seconds[True]), statistics.median(seconds[False])
    return {"on": on_median, "off": off_median, "ratio": on_median / off_median}


def measured(repeat: int) -> list[str]:
    """A report's closing lines: when it was measured, where, how many repetitions."""
    return [
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on a shared 2-core machine "
        f"({repeat} repetitions).",
        "",
    ]


def write_report(path: Path, report: str) -> None:
    """Replace the results file ``path`` with ``report``, and print it."""
    path.write_text(report, encoding="utf-8")
    print(report)


def append_report(path: Path, report: str, header: str = "") -> None:
    """Append ``report`` to the results file ``path``, after ``header`` when the file is
    new, and print it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "" if path.exists() else header
    with path.open("a", encoding="utf-8") as f:
        f.write(header + report + "\n")
    print(report)
