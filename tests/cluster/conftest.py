"""The cluster test is not part of ``make test``: it starts a whole installation (its own
PostgreSQL, Redis, HAProxy, two web instances and two workers) and drives it for minutes.
``make test-cluster`` runs it (CME_CLUSTER=1)."""

import os

if os.environ.get("CME_CLUSTER") != "1":
    collect_ignore_glob = ["test_*.py"]
