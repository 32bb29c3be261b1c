"""The Holds pages, mounted under /dashboard/holds/ by coccinelle/urls.py."""

from django.urls import path

from catalog import views

urlpatterns = [
    path("", views.holds_page, name="holds"),
    path("<int:hold_id>/extend/", views.hold_extend_view, name="hold-extend"),
    path("<int:hold_id>/release/", views.hold_release_view, name="hold-release"),
    path("<int:hold_id>/convert/", views.hold_convert_view, name="hold-convert"),
]
