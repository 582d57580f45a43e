"""Freeze a generator's SQL for a new migration: ``python -m tools.freeze_sql REVISION GENERATOR``.

Writes ``migrations/frozen/<REVISION>_<GENERATOR>.sql`` from the live generator
(``search_index`` or ``tally``), refusing to overwrite an existing file (frozen files are
never edited). The migration of REVISION then runs it with ``migrations.frozen.run``.
See docs/howto.md, "Change a statistics dimension".
"""

from __future__ import annotations

import sys

from migrations import frozen
from models import execution_tally, search_index, tally

GENERATORS = {
    "search_index": search_index.ddl,
    "tally": tally.ddl,
    "execution_tallies": execution_tally.ddl,
}
SOURCES = {
    "search_index": "models/search_index.py",
    "tally": "models/tally.py",
    "execution_tallies": "models/execution_tally.py",
}


def render(generator: str) -> str:
    lines = [
        f"-- Frozen from {SOURCES[generator]} by tools/freeze_sql.py. Never edit this file:",
        "-- a change to the SQL is a new migration with a new frozen file (docs/howto.md).",
        "",
    ]
    for statement in GENERATORS[generator]():
        lines += [f"-- [{statement.dialect} {statement.step}] {statement.name}", statement.sql, ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in GENERATORS:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    revision, generator = argv
    target = frozen.path(revision, generator)
    if target.exists():
        print(f"{target} exists: frozen files are never rewritten", file=sys.stderr)
        return 1
    target.write_text(render(generator), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
