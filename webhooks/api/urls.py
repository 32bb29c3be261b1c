"""The messaging side's resources, mounted under /api/v1/ by coccinelle/urls.py."""

from rest_framework.routers import SimpleRouter

from webhooks.api.messages import CustomerMessageViewSet

router = SimpleRouter()
router.register(
    r"customers/(?P<customer_id>[0-9]+)/messages", CustomerMessageViewSet, basename="api-customer-message"
)

urlpatterns = router.urls
