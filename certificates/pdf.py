"""Certificates as PDF: one A4 landscape page each, a ZIP of many, a learner's
annual transcript. docs/domain.md#证书.

fpdf2 lays the pages out and embeds a subset of the vendored CJK font
(``fonts/``, made by ``tools/subset_font.py`` from Noto Serif CJK SC: GB2312
and the 通用规范汉字表), so a PDF prints and displays the same on every
reader, whatever fonts it has. A character outside the vendored font (a rare
name such as 𠮷) is drawn from the full Noto CJK font where the server has it
(Debian's fonts-noto-cjk), else printed as 〓 rather than failing. The QR code
is drawn as vector squares from segno's matrix.

Nothing here reads the request or the app's extensions: the caller passes the
verification URL and the seals (``seals_for``), and runs inside an app context
so that the labels are translated (``flask_babel.gettext``).
"""

from __future__ import annotations

import copy
import functools
import logging
import zipfile
from collections.abc import Callable, Iterable
from datetime import date
from io import BytesIO
from pathlib import Path

import segno
from flask_babel import gettext as _
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable
from fpdf import FPDF
from fpdf.enums import TextMode
from fpdf.fonts import SubsetMap
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Certificate, CertificateKind, CreditCategory, Seal
from models.base import beijing_today
from models.rules import mask_id_number

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_PATH = FONT_DIR / "NotoSerifCJKsc-Regular-subset.ttf"
FONT = "cjk"
# The full fonts a Debian server may have (fonts-noto-cjk), for characters the
# vendored subset lacks: (path, the Simplified Chinese face's number).
FALLBACK_FONTS: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"), 2),
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 2),
)
MISSING = "〓"  # the typesetter's mark for a character it has no type for

INK = (40, 40, 40)
RED = (178, 34, 34)
GREY = (110, 110, 110)
FRAME = (150, 110, 40)


@functools.cache
def font_chars() -> frozenset[int]:
    """The code points the vendored font draws (read once per process)."""
    with TTFont(FONT_PATH, lazy=True) as font:
        return frozenset(font.getBestCmap())


@functools.cache
def _fallback_font() -> tuple[Path, int, frozenset[int]] | None:
    """The first full CJK font installed on this server, with its characters."""
    for path, number in FALLBACK_FONTS:
        if path.exists():
            with TTFont(path, fontNumber=number, lazy=True) as face:
                return path, number, frozenset(face.getBestCmap())
    return None


@functools.cache
def _font_template():
    """The vendored font as fpdf2 loads it (widths, glyph ids), parsed once per
    process, and the file's bytes: loading it takes 0.4 s, longer than a page."""
    holder = FPDF()
    holder.add_font(FONT, "", FONT_PATH)
    template = holder.fonts[FONT]
    template.ttfont.close()  # each PDF gets its own (``_install_font``)
    with TTFont(FONT_PATH) as font:
        order = font.getGlyphOrder()
        cmaps = [
            (table.format, table.platformID, table.platEncID, table.language, dict(table.cmap))
            for table in font["cmap"].tables
        ]
    return template, FONT_PATH.read_bytes(), order, cmaps


def _fresh_ttfont() -> TTFont:
    """The vendored font as a new fontTools object for one PDF, with its glyph
    order and cmap given rather than decoded again: fpdf2 subsets this object
    in place, and decoding the cmap was half of that (160 → 70 ms a page)."""
    _template, raw, order, cmaps = _font_template()
    font = TTFont(BytesIO(raw), lazy=True, recalcTimestamp=False, recalcBBoxes=False)
    font.setGlyphOrder(list(order))
    table = newTable("cmap")
    table.tableVersion = 0
    table.tables = []
    for fmt, platform_id, encoding_id, language, mapping in cmaps:
        subtable = CmapSubtable.newSubtable(fmt)
        subtable.platformID, subtable.platEncID, subtable.language = (
            platform_id,
            encoding_id,
            language,
        )
        subtable.cmap = dict(mapping)
        table.tables.append(subtable)
    font["cmap"] = table
    return font


def _install_font(pdf: FPDF) -> None:
    """Give ``pdf`` the vendored font without parsing it again: a copy of the
    template sharing its read-only tables (widths, glyph ids, cmap), with a fresh
    glyph subset and its own fontTools object, which fpdf2 subsets in place when
    it writes the PDF. (fpdf2 2.8's TTFFont fields, pinned in requirements.txt;
    tests/test_certificate_pdf.py checks the embedded font.) Bounding boxes are
    not recomputed on save: the font's own are kept, half the time of a page."""
    font = copy.copy(_font_template()[0])
    font.i = len(pdf.fonts) + 1
    font.ttfont = _fresh_ttfont()
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)
    pdf.fonts[FONT] = font


def _undrawn(text: str, known) -> set[str]:
    """The characters of ``text`` the vendored fonts (code points ``known``) do not
    draw, line breaks and tabs aside."""
    return {c for c in text if ord(c) not in known and c not in "\n\r\t"}


class _Page(FPDF):
    """An FPDF with the CJK font loaded and text made safe for it."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.set_creator("cme-filing")
        _install_font(self)
        self.set_font(FONT, size=11)
        self._fallback_ready = False

    def safe(self, value: object) -> str:
        """The text as the fonts can draw it: a character no font has becomes 〓;
        one only the server's full CJK font has loads it as the fallback."""
        text = "" if value is None else str(value)
        missing = _undrawn(text, font_chars())
        if not missing:
            return text
        drawable = self._fallback_drawable()
        lost = {c for c in missing if ord(c) not in drawable}
        if lost:
            log.warning("certificate text has characters no font draws: %r", sorted(lost))
        return "".join(MISSING if c in lost else c for c in text)

    def _fallback_drawable(self) -> frozenset:
        """The code points the server's full CJK font draws (none without one), the
        font loaded as this document's fallback the first time."""
        fallback = _fallback_font()
        if fallback is None:
            return frozenset()
        if not self._fallback_ready:
            self._load_fallback(fallback)
        return fallback[2]

    def _load_fallback(self, fallback: tuple) -> None:
        """The server's full CJK font (path, number in its collection, its characters)
        loaded as this document's fallback font."""
        path, number, _chars = fallback
        self.add_font("fallback", "", path, collection_font_number=number)
        # fpdf2 tags every subset MPDFAA+<name>: keep the two fonts' names apart.
        self.fonts["fallback"].name += "-Fallback"
        self.set_fallback_fonts(["fallback"])
        self._fallback_ready = True

    def finish(self) -> bytes:
        """The PDF's bytes; the font files it opened are closed."""
        data = bytes(self.output())
        for font in self.fonts.values():
            if hasattr(font, "close"):
                font.close()
        return data

    def put(self, x: float, y: float, text: object, size: float, color=INK, bold=False) -> None:
        """One line of text with its top-left corner at (x, y)."""
        self.set_font(FONT, size=size)
        self.set_text_color(*color)
        self.set_xy(x, y)
        if bold:  # one weight is vendored: stroke the outline to embolden it
            self.set_draw_color(*color)
            self.set_line_width(size * 0.012)
            self.text_mode = TextMode.FILL_STROKE
        self.cell(text=self.safe(text))
        self.text_mode = TextMode.FILL

    def centred(self, y: float, text: object, size: float, color=INK, bold=False) -> None:
        """One line centred across the page."""
        self.set_font(FONT, size=size)
        width = self.get_string_width(self.safe(text))
        self.put((self.w - width) / 2, y, text, size, color, bold)

    def qr(self, data: str, x: float, y: float, side: float) -> None:
        """A QR code of ``data`` as filled vector squares, one rectangle per run of
        dark modules in a row, in a square of ``side`` mm (quiet zone included)."""
        matrix = segno.make(data, error="m", micro=False).matrix
        border = 4
        cell = side / (len(matrix) + 2 * border)
        self.set_fill_color(255, 255, 255)
        self.rect(x, y, side, side, style="F")
        self.set_fill_color(0, 0, 0)
        for row_number, row in enumerate(matrix):
            top = y + (row_number + border) * cell
            start = None
            for column, dark in enumerate((*row, 0)):
                if dark and start is None:
                    start = column
                elif not dark and start is not None:
                    left = x + (start + border) * cell
                    self.rect(left, top, (column - start) * cell, cell, style="F")
                    start = None

    def seal(self, png: bytes | None, x: float, y: float, side: float) -> None:
        """A seal's image centred on (x, y), if there is one and it can be read."""
        if not png:
            return
        try:
            self.image(BytesIO(png), x - side / 2, y - side / 2, side, side, keep_aspect_ratio=True)
        except Exception:  # a damaged image leaves the page without that seal
            log.exception("a seal image could not be drawn")


def _amount(value: float | None) -> str:
    """A number of credits or hours without a trailing .0 (2, 1.5)."""
    return f"{value or 0:g}"


def _dates(start: date, end: date) -> str:
    """举办日期 as 2026-03-01 至 2026-03-03 (one date when it is one day)."""
    if start == end:
        return start.isoformat()
    return _("%(start)s to %(end)s", start=start.isoformat(), end=end.isoformat())


def _rows(certificate: Certificate) -> list[tuple[str, str]]:
    """The certificate's body as (label, value) lines, in reading order."""
    rows = [(_("Name"), certificate.name)]
    teaching = CertificateKind(certificate.kind) is CertificateKind.TEACHING
    if not teaching:
        rows.append((_("ID number"), mask_id_number(certificate.id_number)))
    rows += [
        (_("Workplace"), certificate.workplace or ""),
        (_("Project name"), certificate.project_name),
        (_("Project number"), certificate.project_no or ""),
        (_("Project level"), str(certificate.level_title)),
    ]
    if teaching:
        rows += [
            (_("Topic"), certificate.topic or ""),
            (_("Hours"), _amount(certificate.hours)),
        ]
    else:
        rows += [
            (_("Credit category"), str(CreditCategory(certificate.category).title)),
            (_("Credits awarded"), _amount(certificate.credits)),
        ]
    rows.append((_("Dates"), _dates(certificate.start_date, certificate.end_date)))
    return rows


def _frame(pdf: _Page) -> None:
    """The double border of the page."""
    pdf.set_draw_color(*FRAME)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, pdf.w - 16, pdf.h - 16)
    pdf.set_line_width(0.3)
    pdf.rect(11, 11, pdf.w - 22, pdf.h - 22)


def _body(pdf: _Page, certificate: Certificate) -> None:
    """The labelled lines; a long value wraps within the column."""
    y = 58.0
    for label, value in _rows(certificate):
        pdf.put(30, y, f"{label}：", 12, GREY)
        pdf.set_font(FONT, size=13)
        pdf.set_text_color(*INK)
        pdf.set_xy(62, y - 1.2)
        pdf.multi_cell(w=150, h=6.6, text=pdf.safe(value), max_line_height=6.6)
        y = max(y + 9.5, pdf.get_y() + 3)


def _issuers(pdf: _Page, certificate: Certificate, seals: dict[int, bytes]) -> None:
    """The two seals: the organiser's and the committee's names, each under its
    seal's image where one is stored, and the date of issue."""
    y = 166.0
    for x, label, name, unit_id in (
        (70.0, _("Organiser"), certificate.organiser, certificate.owner_unit_id),
        (165.0, _("Committee"), certificate.committee_name, certificate.committee_id),
    ):
        pdf.seal(seals.get(unit_id), x, y - 4, 36)
        pdf.set_font(FONT, size=12)
        text = pdf.safe(name)
        pdf.put(x - pdf.get_string_width(text) / 2, y, text, 12)
        pdf.set_font(FONT, size=9)
        pdf.put(x - pdf.get_string_width(label) / 2, y + 7, label, 9, GREY)
    pdf.put(30, 186, f"{_('Date of issue')}：{certificate.issued_on.isoformat()}", 11)


def _verification(pdf: _Page, certificate: Certificate, verify_url: str) -> None:
    """The QR code of the verification page, its URL printed small, the number."""
    side, x, y = 44.0, pdf.w - 30 - 44.0, 56.0
    pdf.qr(verify_url, x, y, side)
    label = _("Scan to verify this certificate")
    pdf.set_font(FONT, size=9)
    pdf.put(x + (side - pdf.get_string_width(label)) / 2, y + side + 2, label, 9, GREY)
    pdf.set_font(FONT, size=6.5)
    pdf.set_text_color(*GREY)
    pdf.set_xy(x - 6, y + side + 8)
    pdf.multi_cell(w=side + 12, h=3.2, text=pdf.safe(verify_url), align="C")
    pdf.put(30, 193, f"{_('Certificate number')}：{certificate.number}", 11)


def _revoked(pdf: _Page, certificate: Certificate) -> None:
    """已撤销 across the page, and when and why at its top."""
    pdf.set_draw_color(*RED)
    with (
        pdf.local_context(fill_opacity=0.25, stroke_opacity=0.25),
        pdf.rotation(25, pdf.w / 2, pdf.h / 2),
    ):
        pdf.centred(pdf.h / 2 - 20, _("Revoked"), 110, RED, bold=True)
    when = certificate.revoked_on.isoformat() if certificate.revoked_on else ""
    cause = certificate.revoke_cause.title if certificate.revoke_cause else ""
    reason = certificate.revoke_reason or ""
    line = "：".join(part for part in (f"{_('Revoked')} {when}", str(cause), reason) if part)
    pdf.centred(14, line[:90], 11, RED, bold=True)


def _draw_certificate(pdf: _Page, certificate: Certificate, verify_url: str, seals) -> None:
    """One certificate on the current page."""
    _frame(pdf)
    pdf.centred(22, certificate.title, 24, RED, bold=True)
    pdf.centred(37, CertificateKind(certificate.kind).title, 16, INK, bold=True)
    _body(pdf, certificate)
    _verification(pdf, certificate, verify_url)
    _issuers(pdf, certificate, seals)
    if not certificate.is_valid:
        _revoked(pdf, certificate)


def certificate_pdf(certificate: Certificate, *, verify_url: str, seals: dict[int, bytes]) -> bytes:
    """The certificate as a one-page A4 landscape PDF."""
    pdf = _Page("landscape")
    pdf.set_title(f"{certificate.title} {certificate.number}")
    pdf.add_page()
    _draw_certificate(pdf, certificate, verify_url, seals)
    return pdf.finish()


def write_certificates(
    certificates_iter: Iterable[Certificate],
    fileobj,
    *,
    verify_url_for: Callable[[str], str],
    seals: dict[int, bytes],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write a ZIP of one PDF per certificate ("<number>.pdf") to ``fileobj``,
    one certificate at a time: only one PDF is in memory at once (the ZIP keeps
    a directory entry per file). Returns the number written."""
    count = 0
    names: set[str] = set()
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for certificate in certificates_iter:
            data = certificate_pdf(
                certificate, verify_url=verify_url_for(certificate.code), seals=seals
            )
            zf.writestr(_file_name(certificate, names), data)
            count += 1
            if progress is not None:
                progress(count)
    return count


def _file_name(certificate: Certificate, taken: set[str]) -> str:
    """ "<number>.pdf", made unique should two committees' numbers coincide."""
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in certificate.number)
    name = f"{stem}.pdf"
    if name in taken:
        name = f"{stem}-{certificate.code[:8]}.pdf"
    taken.add(name)
    return name


def _transcript_columns() -> tuple[tuple[str, float], ...]:
    """The transcript table's (title, width in mm); 180 mm in all."""
    return (
        (_("Certificate number"), 33),
        (_("Project name"), 57),
        (_("Project number"), 26),
        (_("Credit category"), 18),
        (_("Credits"), 12),
        (_("Date of issue"), 21),
        (_("Status"), 13),
    )


def _transcript_row(pdf: _Page, certificate: Certificate, y: float) -> float:
    """One certificate's row; returns the next row's top."""
    teaching = CertificateKind(certificate.kind) is CertificateKind.TEACHING
    values = (
        certificate.number,
        certificate.project_name,
        certificate.project_no or "",
        _("Teaching certificate") if teaching else str(CreditCategory(certificate.category).title),
        f"{_amount(certificate.hours)}{_('Hours')}" if teaching else _amount(certificate.credits),
        certificate.issued_on.isoformat(),
        _("Valid") if certificate.is_valid else _("Revoked"),
    )
    x, bottom = 15.0, y
    color = INK if certificate.is_valid else RED
    for (_title, width), value in zip(_transcript_columns(), values, strict=True):
        pdf.set_font(FONT, size=8)
        pdf.set_text_color(*color)
        pdf.set_xy(x, y)
        pdf.multi_cell(w=width - 1.5, h=4.4, text=pdf.safe(value))
        bottom = max(bottom, pdf.get_y())
        x += width
    pdf.set_draw_color(220, 220, 220)
    pdf.set_line_width(0.2)
    pdf.line(15, bottom + 1, 195, bottom + 1)
    return bottom + 2.5


def transcript_totals(certificates: Iterable[Certificate]) -> dict[CreditCategory, float]:
    """Ⅰ类 and Ⅱ类 credits of the valid credit certificates (revoked ones and
    teaching certificates count nothing)."""
    totals = dict.fromkeys(CreditCategory, 0.0)
    for certificate in certificates:
        if certificate.is_valid and CertificateKind(certificate.kind) is CertificateKind.CREDIT:
            totals[CreditCategory(certificate.category)] += certificate.credits or 0
    return totals


def transcript_pdf(
    certificates: Iterable[Certificate], *, name: str, masked_id: str, year: int, verify_url: str
) -> bytes:
    """A learner's year (学分记录): each certificate, the Ⅰ类 and Ⅱ类 totals, and a
    QR code of ``verify_url``. A4 portrait; a long year continues on more pages."""
    certificates = list(certificates)
    pdf = _Page("portrait")
    pdf.set_title(f"{_('Credit record')} {year}")
    pdf.add_page()
    pdf.centred(16, f"{year} {_('Credit record')}", 18, RED, bold=True)
    pdf.put(15, 30, f"{_('Name')}：{name}", 11)
    pdf.put(15, 37, f"{_('ID number')}：{masked_id}", 11)
    totals = transcript_totals(certificates)
    pdf.put(
        15,
        44,
        f"{CreditCategory.CLASS_I.title}：{_amount(totals[CreditCategory.CLASS_I])}",
        12,
        bold=True,
    )
    pdf.put(
        70,
        44,
        f"{CreditCategory.CLASS_II.title}：{_amount(totals[CreditCategory.CLASS_II])}",
        12,
        bold=True,
    )
    pdf.qr(verify_url, 160, 22, 35)
    pdf.set_font(FONT, size=6)
    pdf.set_text_color(*GREY)
    pdf.set_xy(150, 58)
    pdf.multi_cell(w=55, h=3, text=pdf.safe(verify_url), align="C")
    y = _transcript_header(pdf, 68)
    for certificate in certificates:
        if y > 270:
            pdf.add_page()
            y = _transcript_header(pdf, 15)
        y = _transcript_row(pdf, certificate, y)
    pdf.put(15, max(y + 4, 0), f"{_('Date of issue')}：{beijing_today().isoformat()}", 9, GREY)
    return pdf.finish()


def _transcript_header(pdf: _Page, y: float) -> float:
    """The table's column titles; returns the first row's top."""
    x = 15.0
    for title, width in _transcript_columns():
        pdf.put(x, y, title, 8.5, GREY)
        x += width
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.3)
    pdf.line(15, y + 6, 195, y + 6)
    return y + 8


def seals_for(session: Session, certificates: Iterable[Certificate]) -> dict[int, bytes]:
    """The seals of the units the certificates print (their committees and
    organisers), by unit id; units without a stored seal are left out."""
    unit_ids = set()
    for certificate in certificates:
        unit_ids.update((certificate.committee_id, certificate.owner_unit_id))
    return seals_of(session, unit_ids)


def seals_of(session: Session, unit_ids: Iterable[int | None]) -> dict[int, bytes]:
    """The stored seals of ``unit_ids`` by unit id (one SELECT; none without ids)."""
    ids = sorted({u for u in unit_ids if u is not None})
    if not ids:
        return {}
    rows = session.execute(select(Seal.unit_id, Seal.png).where(Seal.unit_id.in_(ids)))
    return dict(rows.all())
