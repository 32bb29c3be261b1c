"""The customers app's resources, mounted under /api/v1/ by coccinelle/urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from customers.api.customers import CustomerViewSet
from customers.api.notes import CustomerNoteViewSet
from customers.api.orders import CustomerOrderViewSet, OrderViewSet
from customers.api.shop import ShopViewSet
from customers.api.tags import TagViewSet

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="api-customer")
router.register("tags", TagViewSet, basename="api-tag")
router.register("orders", OrderViewSet, basename="api-order")
router.register(
    r"customers/(?P<customer_id>[0-9]+)/orders", CustomerOrderViewSet, basename="api-customer-order"
)

urlpatterns = [
    path("shop/", ShopViewSet.as_view({"get": "retrieve", "patch": "partial_update"}), name="api-shop"),
    path(
        "customers/<int:customer_pk>/notes/",
        CustomerNoteViewSet.as_view({"get": "list", "post": "create"}),
        name="api-customer-notes",
    ),
    *router.urls,
]
