"""The owners' outgoing-webhook pages, mounted under /dashboard/shop/webhooks/ in coccinelle/urls.py."""

from django.urls import path

from crm_backends.outgoing import views

urlpatterns = [
    path("", views.endpoints_page, name="outgoing-webhooks"),
    path("<int:endpoint_id>/", views.endpoint_page, name="outgoing-webhook"),
    path("<int:endpoint_id>/enable/", views.endpoint_enable_view, name="outgoing-webhook-enable"),
    path("<int:endpoint_id>/disable/", views.endpoint_disable_view, name="outgoing-webhook-disable"),
    path("<int:endpoint_id>/delete/", views.endpoint_delete_view, name="outgoing-webhook-delete"),
    path("<int:endpoint_id>/rotate/", views.endpoint_rotate_view, name="outgoing-webhook-rotate"),
    path("<int:endpoint_id>/ping/", views.endpoint_ping_view, name="outgoing-webhook-ping"),
    path("deliveries/<int:delivery_id>/replay/", views.delivery_replay_view, name="outgoing-webhook-replay"),
]
