import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coccinelle.settings")

pages = get_wsgi_application()

from coccinelle.webhook_handler import WebhookHandler, by_path  # noqa: E402 - needs Django set up

# The providers' webhooks skip the pages' middleware (coccinelle/webhook_handler.py says why).
application = by_path(pages=pages, webhooks=WebhookHandler())

# What loading the project made (modules, URL patterns, settings, translations) lives as long as the
# process: frozen (after one collection of the start-up's garbage), the garbage collector no longer
# walks it. Measured with bench/pages.py (2026-12-02 05:07 UTC; see the README): collections of
# 72-79 ms landed on single requests (pages of 32-52 ms median took 109-123 ms); frozen, the collector's
# share of any page's worst run stayed under 21 ms.
gc.collect()
gc.freeze()
