"""Write a zh_Hans_CN catalog from a template and a translation table.

    python tools/fill_catalog.py DOMAIN TEMPLATE.pot TABLE.json

Keeps translations already in the catalog, takes new ones from the JSON table
(msgid -> msgstr, or msgid -> [singular, plural] for plural entries), and
exits non-zero naming every msgid still untranslated.
"""

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

LOCALE = "zh_Hans_CN"


def main(domain: str, template: str, table: str) -> int:
    target = Path("translations") / LOCALE / "LC_MESSAGES" / f"{domain}.po"
    known = {}
    if target.exists():
        with target.open("rb") as f:
            known = {m.id: m.string for m in read_po(f) if m.id and m.string}
    known |= {
        (tuple(k.split("\x00")) if "\x00" in k else k): v
        for k, v in json.loads(Path(table).read_text(encoding="utf-8")).items()
    }
    with open(template, "rb") as f:
        pot = read_po(f)
    catalog = Catalog(locale=LOCALE, project="cme-filing", domain=domain)
    missing = []
    for message in pot:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        string = known.get(message.id) or known.get(key)
        if isinstance(message.id, tuple) and isinstance(string, str):
            string = (string,)
        if not string:
            missing.append(key)
        catalog.add(message.id, string or "", flags=message.flags - {"fuzzy"})
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as f:
        write_po(f, catalog, sort_output=True, width=100)
    for key in missing:
        print(f"untranslated: {key}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
