"""gunicorn settings of one web instance: ``gunicorn -c deploy/gunicorn.conf.py app:create_app()``.

Used as is by the systemd unit ``deploy/systemd/cme-web@.service`` and by the cluster test
(tests/cluster), so what is tested is what runs. Two values come from the environment:

- ``CME_BIND``: the address this instance listens on (the unit gives ``127.0.0.1:<port>``
  from its instance name; the proxy in front, deploy/haproxy.cfg, lists the same ports);
- ``WEB_CONCURRENCY``: worker processes (gunicorn's own variable); default two per core
  plus one.

Each worker serves one request at a time (sync workers): the proxy keeps at most that many
requests on an instance (``maxconn`` of its ``server`` line) and queues the rest itself, so a
slow instance is not handed more than it can take, and a request waiting in the proxy's
queue can still go to the other instance.
"""

import multiprocessing
import os

bind = os.environ.get("CME_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# An XLSX export is built inside its request and is bounded to finish well inside this
# (docs/operations.md, Exports); larger ones run as background jobs.
timeout = 120
# On stop (systemctl stop / restart, deploys): the requests being served are finished.
graceful_timeout = 30
# The proxy reuses its connections to the instance only while it waits; sync workers close
# after each response anyway.
keepalive = 2
# A worker is replaced after about this many requests: memory a library keeps cannot grow
# without bound. The jitter keeps the workers from restarting together.
max_requests = 2000
max_requests_jitter = 200
# Request lines and headers: gunicorn's defaults, written here so a reader sees the limits.
limit_request_line = 4094
limit_request_fields = 100
# Only the proxy on this machine talks to the instance; it sets X-Forwarded-For/-Proto,
# which the application reads through ProxyFix (PROXY_FIX_X_FOR / _X_PROTO in cme.env).
forwarded_allow_ips = "127.0.0.1"
# Logs to stdout/stderr: systemd's journal keeps them (journalctl -u 'cme-web@*').
accesslog = "-"
errorlog = "-"
loglevel = "info"
# The access log line: client (as the proxy reports it), request, status, bytes, seconds.
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(L)s'
proc_name = "cme-web"
# gunicorn's control socket (gunicornc) defaults to one path per user: the instances of a
# machine would take it from one another. systemctl reload / restart manage an instance.
control_socket_disable = True
