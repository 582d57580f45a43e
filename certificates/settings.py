"""A committee's certificate settings (证书设置): the number format, the title line
and the seal images printed on its certificates.

The panel's page (``admin_views/certificates.py``) reads the request and decides who
may change what; the rules live here: a number format is one ``numbering`` accepts,
a title is one line of at most the column's length, and a seal is a real PNG within
``MAX_SEAL_BYTES`` and ``MAX_SEAL_SIDE`` pixels, opened, verified and re-encoded by
Pillow before it is stored (nothing of the uploaded file but its pixels is kept: no
metadata, no trailing bytes). A refused value stores nothing and says why in words.
Each function flushes at most; the caller commits.
"""

from __future__ import annotations

import io
import warnings

from flask_babel import lazy_gettext as _l
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from certificates.issuing import settings_of
from certificates.numbering import format_number, format_refusal
from models import CertificateCounter, CertificateSettings, Seal
from models.rules import control_characters, text_limits, too_long

MAX_SEAL_BYTES = 512 * 1024
MAX_SEAL_SIDE = 2000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The title column's length (models.certificate.CertificateSettings.title).
MAX_TITLE = CertificateSettings.__table__.c.title.type.length
TITLE_LABEL = _l("Certificate title line")
FORMAT_LABEL = _l("Certificate number format")
FORMAT_LABEL = _l("Certificate number format")


class SealRefused(ValueError):
    """An uploaded seal that is not stored, with the message saying why."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


def title_refusal(value: str | None):
    """Why ``value`` cannot be the certificates' title line, or None."""
    text = (value or "").strip()
    if not text:
        return _l("This field is required.")
    if message := too_long(text, MAX_TITLE, TITLE_LABEL):
        return message
    return control_characters(text, TITLE_LABEL)


def save_settings(session: Session, committee_id: int, number_format: str, title: str) -> dict:
    """Store the committee's number format and title line; ``{field: message}`` of
    what was refused (then nothing is stored). A new format applies to the numbers
    issued from now on: issued certificates keep theirs."""
    number_format = (number_format or "").strip()
    title = (title or "").strip()
    errors = {}
    format_limit = text_limits(CertificateSettings)["number_format"]
    if not number_format:
        errors["number_format"] = _l("This field is required.")
    elif message := too_long(number_format, format_limit, FORMAT_LABEL):
        errors["number_format"] = message
    elif (refusal := format_refusal(number_format)) is not None:
        errors["number_format"] = refusal
    if (refusal := title_refusal(title)) is not None:
        errors["title"] = refusal
    if errors:
        return errors
    stored = session.get(CertificateSettings, committee_id)
    if stored is None:
        stored = CertificateSettings(committee_id=committee_id)
        session.add(stored)
    stored.number_format = number_format
    stored.title = title
    session.flush()
    return {}


def current_settings(session: Session, committee_id: int) -> CertificateSettings:
    """The committee's settings (its defaults where it saved none)."""
    return settings_of(session, [committee_id])[committee_id]


def next_number(session: Session, committee_id: int, number_format: str, year: int) -> str:
    """The number the committee's next certificate of ``year`` would get in
    ``number_format`` (a preview: the counter is not moved)."""
    last = session.scalar(
        select(CertificateCounter.last_value).where(
            CertificateCounter.committee_id == committee_id, CertificateCounter.year == year
        )
    )
    return format_number(number_format, year, (last or 0) + 1)


def _check_size(data: bytes) -> None:
    """A seal file given at all, and no larger than ``MAX_SEAL_BYTES``."""
    if not data:
        raise SealRefused(_l("Choose a PNG file of the seal first."))
    if len(data) > MAX_SEAL_BYTES:
        raise SealRefused(
            _l(
                "The seal image may be at most %(kb)s KB; this file is %(size)s KB.",
                kb=MAX_SEAL_BYTES // 1024,
                size=(len(data) + 1023) // 1024,
            )
        )


def _check_image(probe, not_png) -> None:
    """The opened seal: a PNG by Pillow's reading, no side above ``MAX_SEAL_SIDE``,
    whole (``verify``)."""
    if probe.format != "PNG":
        raise SealRefused(not_png)
    width, height = probe.size
    if width > MAX_SEAL_SIDE or height > MAX_SEAL_SIDE:
        raise SealRefused(
            _l(
                "The seal image may be at most %(side)s × %(side)s pixels;"
                " this one is %(width)s × %(height)s.",
                side=MAX_SEAL_SIDE,
                width=width,
                height=height,
            )
        )
    probe.verify()


def clean_seal(data: bytes) -> bytes:
    """The seal's PNG as stored: ``data`` opened, verified and re-encoded by Pillow.
    Raises ``SealRefused`` for anything else than a PNG within the limits."""
    _check_size(data)
    not_png = _l("The seal must be a PNG image (a .png file); this file is not one.")
    if not data.startswith(PNG_SIGNATURE):
        raise SealRefused(not_png)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                _check_image(probe, not_png)
            # verify() leaves the image unusable: open it again to read its pixels.
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
                    image = image.convert("RGBA")
                out = io.BytesIO()
                image.save(out, format="PNG", optimize=True)
    except SealRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise SealRefused(not_png) from None
    except (OSError, SyntaxError, ValueError):  # UnidentifiedImageError is an OSError
        raise SealRefused(
            _l("The seal image could not be read (the file is damaged); save it again.")
        ) from None
    return out.getvalue()


def store_seal(session: Session, unit_id: int, data: bytes) -> Seal:
    """Store ``data`` (checked and re-encoded by ``clean_seal``) as the seal of
    unit ``unit_id``, replacing its former one. Raises ``SealRefused``; then
    nothing is stored."""
    png = clean_seal(data)
    seal = session.get(Seal, unit_id)
    if seal is None:
        seal = Seal(unit_id=unit_id, png=png)
        session.add(seal)
    else:
        seal.png = png
    session.flush()
    return seal


def remove_seal(session: Session, unit_id: int) -> bool:
    """Remove unit ``unit_id``'s seal (its certificates print no image); whether
    there was one."""
    seal = session.get(Seal, unit_id)
    if seal is None:
        return False
    session.delete(seal)
    session.flush()
    return True


def stored_seals(session: Session, unit_ids) -> set[int]:
    """Which of ``unit_ids`` have a seal stored (without reading the images)."""
    ids = sorted(set(unit_ids))
    if not ids:
        return set()
    return set(session.scalars(select(Seal.unit_id).where(Seal.unit_id.in_(ids))))


def seal_png(session: Session, unit_id: int) -> bytes | None:
    seal = session.get(Seal, unit_id)
    return seal.png if seal is not None else None
