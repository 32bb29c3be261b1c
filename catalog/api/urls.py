"""The catalogue's resources, mounted under /api/v1/ by coccinelle/urls.py."""

from rest_framework.routers import SimpleRouter

from catalog.api.holds import HoldViewSet
from catalog.api.products import ProductViewSet
from catalog.api.variants import VariantViewSet

router = SimpleRouter()
router.register("products", ProductViewSet, basename="api-product")
router.register("variants", VariantViewSet, basename="api-variant")
router.register("holds", HoldViewSet, basename="api-hold")

urlpatterns = router.urls
