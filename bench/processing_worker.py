"""The project's Celery app as bench/webhook.py's worker runs it: `celery -A bench.processing_worker worker`.

One change, so that the bench measures processing and not a CRM: CRM pushes (the drain task each
message asks for after its commit) go to a queue no worker consumes. The outbox rows are still written
in each message's transaction and the drain is still asked for (a message to Redis), as in production;
only the push itself, which waits on the CRM's rate limit, is left out.
"""

from coccinelle.celery import app

EXCLUDED_QUEUE = "bench-crm-excluded"

app.conf.task_routes = {"crm_backends.tasks.drain_connection": {"queue": EXCLUDED_QUEUE}}
