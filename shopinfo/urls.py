"""The owners' page for hours and facts, under /dashboard/shop/info/ (mounted in coccinelle/urls.py)."""

from django.urls import path

from shopinfo import views

urlpatterns = [
    path("", views.shop_info_page, name="shop-info"),
    path("exceptions/", views.exception_add, name="shop-info-exception-add"),
    path("exceptions/<int:exception_id>/delete/", views.exception_remove, name="shop-info-exception-delete"),
]
