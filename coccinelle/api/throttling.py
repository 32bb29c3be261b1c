"""Calls per minute per API key (or per signed-in user), counted in Django's cache: Redis when
REDIS_URL is set, so every gunicorn worker counts together. Over the rate: 429 with Retry-After."""

import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from coccinelle.api.authentication import ApiAccess

log = logging.getLogger(__name__)


class PerKeyThrottle(SimpleRateThrottle):
    scope = "api"

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - a cache that does not answer must not take the API down
            log.warning("API throttle skipped: the cache did not answer", exc_info=True)
            return True

    def get_rate(self):
        # Read at every call (DRF reads its rates once at import), so that the setting can change in tests.
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        access = request.auth
        if isinstance(access, ApiAccess) and access.key is not None:
            ident = f"key-{access.key.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return f"throttle-api-{ident}"
