"""The dashboard pages, under /dashboard/ (the Send message action is routed in coccinelle/urls.py, as
it lives in webhooks)."""

from django.urls import path
from django.views.generic import RedirectView

from customers import api_keys_views, inbox_views, views

app_name = "dashboard"

urlpatterns = [
    # /dashboard/ itself: the customer list is the dashboard's home.
    path("", RedirectView.as_view(pattern_name="dashboard:customer-list", permanent=False), name="home"),
    path("inbox/", inbox_views.inbox_page, name="inbox"),
    path("inbox/updates/", inbox_views.inbox_updates, name="inbox-updates"),
    path("customers/", views.customer_list_page, name="customer-list"),
    path("customers/export.csv", views.customer_list_export, name="customer-list-export"),
    path("customers/updates/", views.customer_list_updates, name="customer-list-updates"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer-detail"),
    path("customers/<int:customer_id>/updates/", views.customer_updates, name="customer-updates"),
    path("customers/<int:customer_id>/notes/", views.customer_note_add, name="customer-note-add"),
    path("customers/<int:customer_id>/resolve/", views.customer_resolve, name="customer-resolve"),
    path("customers/<int:customer_id>/assign/", inbox_views.customer_assign_view, name="customer-assign"),
    path("customers/<int:customer_id>/edit/", views.customer_edit, name="customer-edit"),
    path(
        "customers/<int:customer_id>/confirm-name/",
        views.customer_confirm_name,
        name="customer-confirm-name",
    ),
    path("customers/<int:customer_id>/export.json", views.customer_export_json, name="customer-export"),
    path("customers/<int:customer_id>/erase/", views.customer_erase_page, name="customer-erase"),
    path("shop/", views.shop_settings, name="shop-settings"),
    path("shop/switch/", views.shop_switch, name="shop-switch"),
    path("shop/api-keys/", api_keys_views.api_keys_page, name="api-keys"),
    path("shop/api-keys/<int:key_id>/revoke/", api_keys_views.api_key_revoke_page, name="api-key-revoke"),
]
