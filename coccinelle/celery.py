import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coccinelle.settings")

app = Celery("coccinelle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
