"""Certificate numbers and verification codes.

A number is the committee's format filled with the year and a serial that its
``CertificateCounter`` hands out (``workflow.counters``): unique per committee
and year, gap-free, never reused. A verification code is 128 random bits from
``secrets``, URL-safe: nothing of the certificate can be guessed from it, and
the code space cannot be walked."""

from __future__ import annotations

import re
import secrets
import string

from flask_babel import lazy_gettext as _l

from models.certificate import DEFAULT_NUMBER_FORMAT

CODE_BYTES = 16  # 128 bits
# What a format may hold besides its two fields: letters, digits and - _ / .
_LITERAL = re.compile(r"[A-Za-z0-9_\-/.]*")
_FIELDS = {"year": re.compile(r"(0?\d)?d?"), "serial": re.compile(r"(0?\d)?d?")}
MAX_NUMBER_LENGTH = 40


def new_code() -> str:
    """A fresh verification code (22 characters)."""
    return secrets.token_urlsafe(CODE_BYTES)


def format_refusal(value: str):
    """Why ``value`` cannot be a committee's number format, or None. A format
    holds ``{year}`` and ``{serial}`` (the serial may be zero-padded, e.g.
    ``{serial:06d}``) and otherwise only letters, digits and - _ / ."""
    fields = _format_fields(value)
    if isinstance(fields, str):
        return _l("A number format may only hold letters, digits and - _ / . besides its fields.")
    if fields is None or sorted(fields) != ["serial", "year"]:
        return _l(
            "Write the format with {year} and {serial}, e.g. %(example)s.",
            example=DEFAULT_NUMBER_FORMAT,
        )
    if len(format_number(value, 2026, 10**7)) > MAX_NUMBER_LENGTH:
        return _l("The numbers of this format would be too long.")
    return None


def _format_fields(value: str) -> list[str] | str | None:
    """The fields a number format names, in order; None for a format that does not
    parse or holds a field, a conversion or a spec of no number; the offending text
    (a string) for text other than letters, digits and - _ / ."""
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError:
        return None
    fields = []
    for literal, field, spec, conversion in parts:
        if not _LITERAL.fullmatch(literal):
            return literal
        if field is None:
            continue
        if field not in _FIELDS or conversion or not _FIELDS[field].fullmatch(spec or ""):
            return None
        fields.append(field)
    return fields or None


def format_number(number_format: str, year: int, serial: int) -> str:
    return number_format.format(year=year, serial=serial)
