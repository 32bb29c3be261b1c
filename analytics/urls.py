"""The analytics page, mounted under /dashboard/analytics/ by coccinelle/urls.py."""

from django.urls import path

from analytics import views

urlpatterns = [
    path("", views.analytics_page, name="analytics"),
    path("export.csv", views.analytics_csv, name="analytics-csv"),
    path("settings/", views.analytics_settings, name="analytics-settings"),
]
