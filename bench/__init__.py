"""Performance benchmarks (issue 6): data generator, scenarios, references and load test.

Run everything with ``make bench`` (``make bench-quick`` for a few-minute smoke run); see
``bench/README.md``. Nothing here is imported by the product or by the test suite.
"""
