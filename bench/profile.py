"""Where the time goes: pyinstrument profiles of the slow scenarios on a large data set.

    .venv/bin/python -m bench.profile --db sqlite --projects 200000

Writes ``bench/results/profile-<backend>.txt``: one call tree per scenario (the list page,
a search, the details page, a 500-row bulk report and a 10,000-row CSV/XLSX export).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from pyinstrument import Profiler

from bench import common, scenarios
from bench.measure import SqlRecorder
from bench.report import RESULTS

ROOT = str(Path(__file__).resolve().parent.parent)


def profiled(title: str, action, repeat: int = 3) -> str:
    """The call tree of ``repeat`` runs of ``action`` (after one unprofiled warm-up)."""
    action()
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(repeat):
        action()
    profiler.stop()
    tree = profiler.output_text(unicode=True, color=False, show_all=False)
    # Paths relative to the repository, not this machine's.
    tree = tree.replace(f"{ROOT}/", "")
    return f"## {title} ({repeat} runs)\n\n{tree}\n"


def profile_all(run: scenarios.Run) -> list[str]:
    committee, branch = run.browser("committee"), run.browser("branch")
    year = run.year
    details = f"/admin/audit/details/?id={scenarios.visible_id(run, 'committee')}"
    parts = [
        profiled("list/committee", lambda: committee.get("/admin/audit/")),
        profiled(
            "search/committee",
            lambda: committee.get(f"/admin/audit/?search={scenarios.SEARCH_WORD}"),
        ),
        profiled("details/committee", lambda: committee.get(details)),
        profiled("public search /", lambda: run.browser("public").get("/")),
    ]
    # The branch's lists (issue 12: their growth with the data set, outside SQL).
    for kind, url in scenarios.list_urls(run, "branch").items():
        if kind in ("list", "filtered"):
            parts.append(profiled(f"{kind}/branch", lambda u=url: branch.get(u)))
    candidates = scenarios._candidates(run, "branch")
    token = branch.token("/admin/projects/")
    rng = random.Random(1)
    # 50 and 500 rows: what grows faster than the rows (target: 500 ≤ 3 × 50).
    for size in (50, 500):
        if size <= len(candidates):
            parts.append(
                profiled(
                    f"bulk report {size} (branch)",
                    lambda n=size: scenarios._bulk_rep(
                        run, branch, "branch", rng.sample(candidates, n), token
                    ),
                )
            )
    for kind in ("csv", "xlsx"):
        url = scenarios._export_url(kind, {"year": year, "state": "published"})
        parts.append(
            profiled(
                f"export {kind} {run.dataset.projects // 20} rows",
                lambda u=url: committee.get(u),
                1,
            )
        )
    return parts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--projects", type=int, default=200_000)
    args = parser.parse_args(argv)
    with (
        common.generated_app(args.db, "profile", args.projects) as (app, engine, dataset),
        SqlRecorder(engine) as recorder,
    ):
        run = scenarios.Run(app, engine, dataset, 1, recorder)
        parts = profile_all(run)
    path = RESULTS / f"profile-{args.db}.txt"
    path.write_text(
        f"# pyinstrument, {args.projects:,} projects on {args.db}\n\n" + "\n".join(parts)
    )
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
