"""Every string of ours is translated into Chinese, and Chinese is the default."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES"
OURS = ("messages", "panel", "accounts", "public", "execution", "certificates", "calendar")
SKIP = {".venv", "tests", "migrations", "bench", "tools", "node_modules", "instance"}
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}


def _our_msgids() -> dict[str, str]:
    found = {}
    for path in ROOT.iterdir():
        if path.name in SKIP or path.name.startswith("."):
            continue
        if path.is_file() and path.suffix == ".py":
            sources = [(path.parent, path.name)]
        elif path.is_dir():
            sources = [(path, None)]
        else:
            continue
        for directory, only in sources:
            method_map = [(only or "**.py", "python"), ("**.html", "jinja2")]
            for filename, lineno, message, *_ in extract_from_dir(
                str(directory), method_map, keywords=KEYWORDS
            ):
                if only and filename != only:
                    continue
                msgid = message[0] if isinstance(message, tuple) else message
                if msgid:
                    found[msgid] = f"{directory.name}/{filename}:{lineno}"
    return found


def _translated() -> set[str]:
    done = set()
    for domain in OURS:
        path = CATALOGS / f"{domain}.po"
        if not path.exists():
            continue
        with path.open("rb") as f:
            for message in read_po(f):
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                if message.id and all(strings) and not message.fuzzy:
                    done.add(message.id[0] if isinstance(message.id, tuple) else message.id)
    return done


def test_no_msgid_is_translated_twice_in_other_words():
    """Our catalogs are merged into one: a msgid two of them translate differently
    takes whichever is read last, and changes a screen that did not ask for it."""
    seen: dict[str, tuple[str, object]] = {}
    clashes = []
    for domain in OURS:
        path = CATALOGS / f"{domain}.po"
        with path.open("rb") as f:
            for message in read_po(f):
                if not message.id:
                    continue
                earlier = seen.setdefault(message.id, (domain, message.string))
                if earlier[1] != message.string:
                    clashes.append((message.id, earlier, (domain, message.string)))
    assert clashes == []


def test_every_msgid_of_ours_is_translated():
    missing = {msgid: where for msgid, where in _our_msgids().items() if msgid not in _translated()}
    assert missing == {}


def test_chinese_is_the_default_and_english_is_a_switch(app):
    client = app.test_client()
    assert "用户名" in client.get("/login").get_data(as_text=True)
    client.get("/lang/en")
    assert "Username" in client.get("/login").get_data(as_text=True)
    assert "Username" in client.get("/login").get_data(as_text=True)  # it persists
    client.get("/lang/zh_Hans_CN")
    assert "用户名" in client.get("/login").get_data(as_text=True)
    client.get("/lang/xx")  # an unknown language changes nothing
    assert "用户名" in client.get("/login").get_data(as_text=True)
