"""RQ's cron scheduler (rq 2.x), where Redis is configured: every 10 minutes it puts one
催办 job (``notifications.reminders.send_reminders_job``) on the ``cme`` queue, which
``python -m worker`` runs in its application context. Run one scheduler per Redis:

    cd /srv/cme && .venv/bin/rq cron --url "$REDIS_URL" --path /srv/cme deploy/rq_cron.py

(``deploy/systemd/cme-rq-cron.service`` runs exactly this.) A run sends only what is due
today and never twice, so this and ``flask periodic`` (which also runs the reminders)
may both be scheduled; docs/operations.md, "催办"."""

from rq import cron

from notifications.reminders import send_reminders_job

# The queue ``python -m worker`` reads (``jobs.QUEUE``).
QUEUE = "cme"

cron.register(send_reminders_job, QUEUE, interval=600, job_timeout=600, name="send-reminders")
