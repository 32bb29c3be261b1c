import gc
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coccinelle.settings")

app = Celery("coccinelle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **kwargs):
    """Database connections in the worker follow the same rule as in a web request: before and after
    each task, close one that failed or outlived CONN_MAX_AGE, and check a kept one before it is used
    again (CONN_HEALTH_CHECKS). Celery's own Django fix-up would close them all around every task
    (so every task paid a new PostgreSQL connection, more than most tasks' queries); the settings'
    CELERY_DB_REUSE_MAX keeps it from doing so. Eager tasks (tests) run inside the caller's
    transaction: nothing to do."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@worker_init.connect
def _load_then_freeze(**kwargs):
    """In the main process, before any pool starts: what every message needs and is read once a process
    (the first-name list: ~0.4 s) is read now rather than on the first message; then, as
    coccinelle/wsgi.py does for the web, what the worker loaded is frozen, so the garbage collector need
    not walk it (prefork children inherit both, thread pools share them)."""
    from webhooks import names

    names.load()
    gc.collect()
    gc.freeze()
