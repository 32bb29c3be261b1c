"""The customers app's resources, mounted under /api/v1/ by coccinelle/urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from customers.api.shop import ShopViewSet

router = SimpleRouter()

urlpatterns = [
    path("shop/", ShopViewSet.as_view({"get": "retrieve", "patch": "partial_update"}), name="api-shop"),
    *router.urls,
]
