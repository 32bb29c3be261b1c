from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from crm_backends.views import customer_crm_retry
from webhooks.media_views import media_retry_view, media_serve
from webhooks.staff_views import customer_send, customer_send_template

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard:customer-list", permanent=False)),
    path("admin/", admin.site.urls),
    # /healthz is answered by coccinelle.middleware.HealthCheckMiddleware, before host and HTTPS checks.
    path("webhooks/", include("webhooks.urls")),
    # Shopify and WooCommerce webhooks (eshops.views): /eshops/<provider>/<connection token>/
    path("eshops/", include("eshops.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("dashboard/", include("customers.urls")),
    # The REST API: each app's resources under /api/v1/, then the schema, the docs and a JSON 404.
    path("api/v1/", include("customers.api.urls")),
    path("api/v1/", include("crm_backends.outgoing.api_urls")),
    path("api/v1/", include("webhooks.api.urls")),
    path("api/v1/", include("catalog.api.urls")),
    path("api/", include("coccinelle.api.urls")),
    # Sending is the messaging side's job (webhooks), on the customer page's URL.
    path("dashboard/customers/<int:customer_id>/send/", customer_send, name="customer-send"),
    path(
        "dashboard/customers/<int:customer_id>/send-template/",
        customer_send_template,
        name="customer-send-template",
    ),
    # What automatic replies tell customers (hours, holidays, facts, signature), beside the shop settings.
    path("dashboard/shop/info/", include("shopinfo.urls")),
    # The owners' saved replies and WhatsApp templates (webhooks.settings_views), beside the shop settings.
    path("dashboard/shop/", include("webhooks.dashboard_urls")),
    # The owners' outgoing webhooks (crm_backends.outgoing), beside them.
    path("dashboard/shop/webhooks/", include("crm_backends.outgoing.urls")),
    # The CRM sync's own button on the customer page.
    path("dashboard/customers/<int:customer_id>/crm-retry/", customer_crm_retry, name="customer-crm-retry"),
    # The catalogue's holds (catalog.views), for owners and staff.
    path("dashboard/holds/", include("catalog.urls")),
    path("dashboard/analytics/", include("analytics.urls")),  # the shop's figures and charts (issue 17)
    # Files customers sent, for the shop's own people (webhooks.media_views).
    path("dashboard/media/<int:media_file_id>/", media_serve, name="media-download"),
    path("dashboard/media/<int:media_file_id>/retry/", media_retry_view, name="media-retry"),
]
