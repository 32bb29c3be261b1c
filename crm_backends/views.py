"""The customer page's "Retry the sync" button (owners and staff of the current shop). It only queues
the customer again (outbox rows); a worker pushes, never this request."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm_backends.models import CrmConnection
from crm_backends.services import sync_retry_failed
from customers.access import dashboard_view, shop_customer_or_404


@require_POST
@dashboard_view
def customer_crm_retry(request, customer_id):
    customer = shop_customer_or_404(request, customer_id)
    connection = CrmConnection.objects.filter(shop=request.shop).first()
    with transaction.atomic():
        count = sync_retry_failed(connection, customer_ids={customer.pk}) if connection else 0
    if count:
        messages.success(request, _("The CRM sync was queued again."))
    else:
        messages.info(request, _("Nothing to retry: this customer has no failed CRM sync."))
    return redirect("dashboard:customer-detail", customer.pk)
