"""Unit, account and discipline management (SPEC §1). Filled in by its issue."""

from flask_admin import Admin


def register(admin: Admin) -> None:
    """Add the unit, account and discipline views to ``admin``."""
