"""Outgoing webhook subscriptions in the REST API, mounted under /api/v1/ by coccinelle/urls.py."""

from rest_framework.routers import SimpleRouter

from crm_backends.outgoing.api import WebhookEndpointViewSet

router = SimpleRouter()
router.register("webhooks", WebhookEndpointViewSet, basename="api-webhook")

urlpatterns = router.urls
