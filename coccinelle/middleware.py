"""Middleware of the project itself (the apps keep their own, e.g. customers/middleware.py for the CSP)."""

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)

HEALTHZ_PATH = "/healthz"


class HealthCheckMiddleware:
    """Answers /healthz before any other middleware: the container's health check.

    Docker calls http://127.0.0.1:8000/healthz from inside the container, over plain HTTP and with that
    Host. Further down, SecurityMiddleware would redirect it to HTTPS and CommonMiddleware would refuse the
    Host (not in ALLOWED_HOSTS), and the app would be marked unhealthy while it works. Nothing here reads
    the Host or the request, so skipping those checks for this one path exposes nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTHZ_PATH:
            return health()
        return self.get_response(request)


def health() -> JsonResponse:
    """200 when the app reaches its database, else 503 (so the orchestrator restarts or waits)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.warning("Health check: the database is unreachable: %s", exc)
        return JsonResponse({"status": "database unreachable"}, status=503)
    return JsonResponse({"status": "ok"})
