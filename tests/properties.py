"""What the property tests (hypothesis) share: their settings."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def property_settings(max_examples: int) -> settings:
    """``max_examples`` examples, the same in every run and in CI, no example database,
    no deadline. The tests post through one signed-in browser (a function-scoped fixture)
    and read counts around each example, which hypothesis's health check would refuse."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,  # no .hypothesis directory in the checkout
        derandomize=True,  # the same examples in every run and in CI
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
