"""Whole-number settings an operator may give in the environment (how gunicorn and
``python -m worker`` are configured) as well as in the application's configuration."""

from __future__ import annotations

import os

from flask import Flask


def count_setting(app: Flask, key: str, default: int) -> int:
    """``key`` from the application's configuration, else from the environment variable of
    that name, else ``default``. From the environment only ASCII digits are taken (a whole
    number of 0 or more); anything else stops the start with a message naming the variable,
    so that a typo neither keeps the default silently nor means something else."""
    if key in app.config:
        return int(app.config[key])
    value = os.environ.get(key, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()):
        raise RuntimeError(f"{key} must be a whole number of 0 or more, not {value!r}.")
    return int(value)
