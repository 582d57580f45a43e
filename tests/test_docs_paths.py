"""The maintainer docs name only files that exist: a module moved or renamed without its
docs fails here, naming the doc and the stale path.

Every path in backticks in README.md and docs/*.md is checked: a path whose first part is
one of the repository's top-level directories (``admin_views/projects.py``,
``migrations/frozen/``) must exist as written; a bare file name of ours (``receivers.py``,
``auth.py``) must be the name of some tracked file. What is not ours (a Flask-Admin
template, a file under ``instance/``) and the examples of a recipe (a migration still to be
written) are not paths of this repository and are left out below, by name.
"""

from __future__ import annotations

import re

import pytest

from tests.test_repo_stands_alone import DOCS, ROOT, tracked_files

FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
PATH = re.compile(r"[\w.-]+(?:/[\w.-]+)*/?")
SUFFIXES = (".py", ".md", ".toml", ".cfg", ".ini", ".html", ".sql", ".po", ".txt", ".json", ".sh")
# Named in the docs, but not files of this repository: a recipe's example of a file to
# write, and library or runtime files.
NOT_OURS = {
    "0019_what_changes.py",  # howto: the next migration, to be written
    "migrations/frozen/0019_tally.sql",  # howto: the next frozen file, to be written
    "inline_list_base.html",  # Flask-Admin's template
}


def _paths_in(text: str) -> set[str]:
    """The backticked words of ``text`` (outside code blocks) that look like file paths."""
    found = set()
    for token in INLINE_CODE.findall(FENCE.sub("", text)):
        token = token.strip()
        if not PATH.fullmatch(token) or token.startswith("."):
            continue
        if "/" in token or token.endswith(SUFFIXES):
            found.add(token)
    return found


def _stale(tokens: set[str], tracked: list[str]) -> list[str]:
    """The paths of ours among ``tokens`` that do not exist."""
    top_dirs = {name.split("/", 1)[0] for name in tracked if "/" in name}
    basenames = {name.rsplit("/", 1)[-1] for name in tracked}
    stale = []
    for token in sorted(tokens - NOT_OURS):
        path = token.rstrip("/")
        if "/" in path:
            if path.split("/", 1)[0] in top_dirs and not (ROOT / path).exists():
                stale.append(token)
        elif path not in basenames and not (ROOT / path).exists():
            stale.append(token)
    return stale


@pytest.mark.parametrize("doc", DOCS)
def test_every_file_a_doc_names_exists(doc):
    named = _paths_in((ROOT / doc).read_text(encoding="utf-8"))
    assert _stale(named, tracked_files()) == []


def test_the_check_finds_a_moved_module():
    """A doc naming a module that is not there (as after a move) is reported; one naming an
    existing module, a directory, a path outside the repository or a code block is not."""
    text = (
        "`admin_views/auth.py` moved; `accounts/auth.py`, `receivers.py`, `migrations/frozen/`,"
        " `instance/jobs`, `flask db upgrade` and `gone_module.py`.\n```\n`not/checked.py`\n```\n"
    )
    named = _paths_in(text)
    assert named == {
        "admin_views/auth.py",
        "accounts/auth.py",
        "receivers.py",
        "migrations/frozen/",
        "instance/jobs",
        "gone_module.py",
    }
    assert _stale(named, tracked_files()) == ["admin_views/auth.py", "gone_module.py"]


def test_readme_lists_every_doc():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [doc for doc in DOCS[1:] if f"({doc})" not in readme] == []
