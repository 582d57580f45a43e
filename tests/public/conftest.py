"""Fixtures of the public catalog tests: a client that behaves like production, and a
seeded catalog (see public_catalog.py), built once per backend and restored per test."""

from __future__ import annotations

import dataclasses

import pytest
from public_catalog import Catalog, FreshClient, build_catalog

from tests.snapshot import Snapshot, accounts_by_username, build_once, restore


@pytest.fixture
def client(app_on_empty_db) -> FreshClient:
    return FreshClient(app_on_empty_db.test_client())


@pytest.fixture(scope="session")
def catalog_rows(app, demo_rows) -> tuple[Snapshot, Catalog]:
    """The demo data plus ``build_catalog``'s projects, built once per backend:
    the rows, and the catalog (its ids hold for every restore)."""
    return build_once(
        app, lambda session: build_catalog(accounts_by_username(session), session), demo_rows
    )


@pytest.fixture
def catalog(catalog_rows, session) -> Catalog:
    """Demo data plus the special projects of ``build_catalog``, committed."""
    rows, built = catalog_rows
    restore(session, rows)
    return dataclasses.replace(built, accounts=accounts_by_username(session))
