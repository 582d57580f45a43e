"""The repository stands on its own: nothing cites a file a clone does not have, every
relative link in the documentation resolves, and the transition table in
docs/domain.md is the one in workflow/transitions.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from models import ExecutionState, ProjectState
from workflow.transitions import EXECUTION_TRANSITIONS, TRANSITIONS, Outcome

ROOT = Path(__file__).resolve().parent.parent
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()
# Built from pieces so that this file does not match itself.
FORBIDDEN = ("../" + "shared", "SPEC" + " §")
DOCS = ("README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")))

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
EXPLICIT_ANCHOR = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")
# A citation of the documentation in code or prose, e.g. docs/domain.md#states.
CITATION = re.compile(r"\bdocs/([\w.-]+\.md)(?:#([\w-]+))?")


def tracked_files() -> list[str]:
    """The files git tracks here (skips the test outside a git checkout)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files are unknown")
    return [name for name in out.decode().split("\0") if name]


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = INLINE_CODE.sub(lambda m: m.group(0).strip("`"), heading).strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    anchors, seen = set(EXPLICIT_ANCHOR.findall(text)), {}
    for heading in HEADING.findall(text):
        slug = _slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _links(path: Path) -> list[str]:
    text = INLINE_CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    return LINK.findall(text)


def test_no_tracked_file_cites_a_file_outside_the_repository():
    offenders = []
    for name in tracked_files():
        if name == THIS or not (ROOT / name).is_file():
            continue
        data = (ROOT / name).read_bytes()
        offenders += [f"{name}: {word}" for word in FORBIDDEN if word.encode() in data]
    assert offenders == []


def test_no_tracked_file_holds_this_machines_path_of_the_repository():
    """Benchmark reports, profiles and docs name files relative to the
    repository: a clone elsewhere must not read one machine's folders."""
    here = str(ROOT).encode()
    offenders = [
        name
        for name in tracked_files()
        if name != THIS and (ROOT / name).is_file() and here in (ROOT / name).read_bytes()
    ]
    assert offenders == []


@pytest.mark.parametrize("doc", DOCS)
def test_every_relative_link_resolves(doc):
    source = ROOT / doc
    broken = []
    for target in _links(source):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        resolved = (source.parent / path).resolve() if path else source
        missing = not resolved.is_relative_to(ROOT) or not resolved.exists()
        if missing or (
            fragment and resolved.suffix == ".md" and fragment not in _anchors(resolved)
        ):
            broken.append(target)
    assert broken == []


def test_every_citation_of_the_docs_names_an_existing_section():
    broken = []
    for name in tracked_files():
        path = ROOT / name
        if not path.is_file() or path.suffix in {".mo", ".png", ".xlsx", ".sqlite"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for doc, fragment in CITATION.findall(text):
            target = ROOT / "docs" / doc
            if not target.exists() or (fragment and fragment not in _anchors(target)):
                broken.append(f"{name}: docs/{doc}" + (f"#{fragment}" if fragment else ""))
    assert broken == []


def _names(members, order) -> str:
    return ", ".join(f"`{m.value}`" for m in order if m in members)


def _transition_rows(table=TRANSITIONS, states=ProjectState) -> list[str]:
    rows = []
    for t in table:
        relations = type(next(iter(t.actors)))
        if t.target is Outcome.UNCHANGED:
            target = "unchanged"
        elif t.target is Outcome.REMOVED:
            target = "removed"
        else:
            target = f"`{t.target.value}`"
        rows.append(
            f"| `{t.action.value}` | {_names(t.actors, relations)} "
            f"| {_names(t.sources, states)} | {target} "
            f"| {'required' if t.reason_required else '—'} |"
        )
    return rows


@pytest.mark.parametrize(
    ("marker", "table", "states", "section"),
    [
        ("transitions", TRANSITIONS, ProjectState, "transitions"),
        ("execution-transitions", EXECUTION_TRANSITIONS, ExecutionState, "执行情况"),
    ],
)
def test_the_transition_tables_in_the_docs_are_the_code_tables(marker, table, states, section):
    text = (ROOT / "docs" / "domain.md").read_text(encoding="utf-8")
    block = re.search(rf"<!-- {marker}:begin -->\n(.*?)<!-- {marker}:end -->", text, re.S)
    assert block, f"docs/domain.md lost its {marker}:begin/end markers"
    documented = [line for line in block.group(1).splitlines() if line.startswith("| `")]
    expected = _transition_rows(table, states)
    assert documented == expected, f"paste into docs/domain.md#{section}:\n" + "\n".join(expected)
