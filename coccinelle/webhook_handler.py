"""The providers' webhooks served without the pages' middleware.

A webhook carries no cookie, no session and no sign-in, and its answer is TwiML, JSON or nothing: the
session, locale, CSRF (the views are exempt), authentication, messages, framing, CSP, static files and
sign-in lockout middleware of the pages have nothing to do there, yet cost every request their calls
(bench/webhook.py measures the webhook against a bare view with no middleware). What a webhook does need
stays: SecurityMiddleware (the HTTPS redirect and security headers) and CommonMiddleware (the Host
checked against ALLOWED_HOSTS). Django's request_started/request_finished signals still fire, so the
database connection is kept or closed as for any request.
"""

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.utils import translation

WEBHOOK_PREFIX = "/webhooks/"
WEBHOOK_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
)


class WebhookHandler(WSGIHandler):
    """Django's WSGI handler with the middleware in WEBHOOK_MIDDLEWARE only (in the settings' order)."""

    def load_middleware(self, is_async=False):
        everything = settings.MIDDLEWARE
        # BaseHandler reads settings.MIDDLEWARE once, here, at start-up (one thread, before any request).
        settings.MIDDLEWARE = [name for name in everything if name in WEBHOOK_MIDDLEWARE]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = everything

    def __call__(self, environ, start_response):
        # Without LocaleMiddleware, a thread would keep the language the last page it served switched on.
        with translation.override(settings.LANGUAGE_CODE):
            return super().__call__(environ, start_response)


def by_path(*, pages, webhooks):
    """One WSGI application: paths under /webhooks/ to `webhooks`, everything else to `pages`."""

    def application(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(WEBHOOK_PREFIX):
            return webhooks(environ, start_response)
        return pages(environ, start_response)

    return application
