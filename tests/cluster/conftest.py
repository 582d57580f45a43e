"""The cluster test (test_cluster.py) is not part of ``make test``: it starts a whole
installation (its own PostgreSQL, Redis, HAProxy, two web instances and two workers) and
drives it for minutes. ``make test-cluster`` runs it (CME_CLUSTER=1). The checks of the
files of deploy/ (test_deploy_files.py) start nothing and run in both."""

import os

if os.environ.get("CME_CLUSTER") != "1":
    collect_ignore = ["test_cluster.py"]
