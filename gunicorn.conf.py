"""gunicorn's settings in production (the Dockerfile's CMD and docker-compose.yml's web service use it).

The web process is I/O-bound: a webhook verifies a signature and does one INSERT, a page does a few
queries; nothing waits on a provider, a CRM or an LLM (the worker does). Threads overlap those waits
at a fraction of a process's memory, so: a few processes (`gthread`), each with a few threads.

Database connections: with CONN_MAX_AGE > 0 (the production default) every thread keeps its own, so
the web service holds up to WEB_CONCURRENCY x GUNICORN_THREADS connections (9 x 4 = 36 at most by
default), plus one per Celery worker process and one for beat. Keep the total under PostgreSQL's
max_connections (100 by default) for every container together, or put PgBouncer in front.
"""

import os


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this container may use, where the OS says
    except AttributeError:
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# gunicorn's usual 2 x cores + 1, capped so that a big host does not open more database connections
# than PostgreSQL allows by default (see above). WEB_CONCURRENCY is gunicorn's own variable.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * _cores() + 1, 9))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
# A request that takes longer than this is stuck (webhooks answer in milliseconds; the slowest page is
# a CSV export): the worker is restarted. graceful_timeout lets requests in flight finish on a deploy.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30
# Behind a proxy that keeps connections open to us (nginx, a load balancer): reuse them a few seconds.
keepalive = 5
accesslog = "-"  # one line per request on stdout, beside the error log (stderr)
