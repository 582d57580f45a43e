"""Fixtures of the public catalog tests: a client that behaves like production, and a
seeded catalog (see public_catalog.py)."""

from __future__ import annotations

import pytest
from public_catalog import Catalog, FreshClient, build_catalog


@pytest.fixture
def client(ctx) -> FreshClient:
    return FreshClient(ctx.test_client())


@pytest.fixture
def catalog(demo, session) -> Catalog:
    """Demo data plus the special projects of ``build_catalog``, committed."""
    return build_catalog(demo, session)
