"""Make the certificates' font: a subset of Noto Serif CJK SC, vendored in
certificates/fonts/ so that `make run` needs no apt package and every PDF
embeds the same glyphs whatever the server has installed.

Run it again only to change the character set or the source font:

    apt-get install fonts-noto-cjk
    .venv/bin/python tools/subset_font.py [--source PATH.ttc]

It keeps ASCII, Latin-1, general and CJK punctuation, full-width forms, Roman
numerals (Ⅰ类/Ⅱ类), the whole of GB2312 and the 8,105 characters of the
通用规范汉字表 (all three levels: level 3 holds many characters of personal names
and places, e.g. 䶮, 喆, 堃), with the glyphs' widths but no layout tables (the
certificates set CJK text without shaping). Characters outside this set are
drawn by ``certificates.pdf``'s fallback.

The outlines are converted from CFF to TrueType (quadratic, within 1 font unit):
fpdf2 embeds a TrueType font as a CIDFontType2 with Identity-H (FontFile2),
which every reader and text extractor maps back to Unicode, whereas its CFF
path writes a custom CMap that some (pypdf) misread, breaking copied text into
spaced characters; the subsetting of each PDF is also quicker. The output is
deterministic for a given source font.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
FACE = "Noto Serif CJK SC"
OUTPUT = ROOT / "certificates" / "fonts" / "NotoSerifCJKsc-Regular-subset.ttf"
TONGYONG = ROOT / "tools" / "data" / "tongyong_guifan_hanzi.txt"
MAX_BYTES = 6 * 1024 * 1024

RANGES = (
    (0x20, 0x7E),  # ASCII
    (0xA0, 0xFF),  # Latin-1 (·, ×, °)
    (0x2000, 0x206F),  # general punctuation (—, …, ‘’ “”)
    (0x2100, 0x218F),  # letterlike symbols, Roman numerals (Ⅰ Ⅱ)
    (0x2460, 0x24FF),  # enclosed numbers (①)
    (0x25A0, 0x25FF),  # geometric shapes (□ ○)
    (0x3000, 0x303F),  # CJK punctuation (、。「」《》〓)
    (0xFF00, 0xFFEF),  # full-width forms (，：（）)
)


def gb2312() -> set[int]:
    """Every character of GB2312 (its 7,445 graphic characters), from Python's codec."""
    found = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                found.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return found


def tongyong() -> set[int]:
    """The 通用规范汉字表's 8,105 characters (tools/data, one line per level)."""
    lines = [
        line
        for line in TONGYONG.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    chars = {ord(c) for line in lines for c in line}
    if [len(line) for line in lines] != [3500, 3000, 1605] or len(chars) != 8105:
        raise SystemExit(f"{TONGYONG} is not the 8,105-character table")
    return chars


def wanted() -> set[int]:
    """The code points the subset keeps."""
    chars = gb2312() | tongyong()
    for low, high in RANGES:
        chars.update(range(low, high + 1))
    return chars


def source_face(path: Path) -> TTFont:
    """The Simplified Chinese face of the collection (or the font itself)."""
    if path.suffix.lower() != ".ttc":
        return TTFont(path, recalcTimestamp=False)
    for number, face in enumerate(TTCollection(path).fonts):
        if face["name"].getBestFullName() == FACE:
            return TTFont(path, fontNumber=number, recalcTimestamp=False)
    raise SystemExit(f"{path} has no face named {FACE!r}")


def to_truetype(font: TTFont) -> None:
    """Replace the CFF outlines by TrueType ones (fontTools' otf2ttf recipe):
    glyf/loca, left side bearings from the new outlines, a TrueType maxp, and a
    post table without glyph names (format 3)."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyf.glyphs.items():
        hmtx[name] = (hmtx[name][0], getattr(glyph, "xMin", 0))
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["post"].formatType = 3.0
    font.sfntVersion = "\0\1\0\0"


def make_subset(source: Path, output: Path) -> tuple[int, int]:
    """Write the subset; return (characters kept, bytes)."""
    font = source_face(source)
    options = subset.Options()
    options.layout_features = []  # no shaping: drop GSUB/GPOS lookups
    options.name_IDs = ["*"]  # keep the copyright and licence records
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted())
    subsetter.subset(font)
    to_truetype(font)
    output.parent.mkdir(parents=True, exist_ok=True)
    font.save(output)
    return len(font.getBestCmap()), output.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not args.source.exists():
        print(f"{args.source} not found: apt-get install fonts-noto-cjk", file=sys.stderr)
        return 1
    kept, size = make_subset(args.source, args.output)
    print(f"{args.output}: {kept} characters, {size:,} bytes")
    if size > MAX_BYTES:
        print(f"larger than {MAX_BYTES:,} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
