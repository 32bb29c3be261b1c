"""The dashboard's *Send message* action. It lives here because sending is the messaging side's job;
the page around it is `customers.views`' (data flows one way: webhooks may use customers)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from customers.access import dashboard_view, shop_customer_or_404
from customers.forms import StaffMessageForm
from customers.views import render_customer_detail
from webhooks.outbound import SendRefused
from webhooks.staff import staff_message_send

# The reasons webhooks.outbound gives in English, marked here so that the page shows them translated.
KNOWN_REFUSALS = {
    gettext_noop("The customer opted out of messages (they can send START to opt back in)."),
    gettext_noop(
        "WhatsApp allows free text only within 24 hours of the customer's last WhatsApp message; "
        "that window is closed."
    ),
    gettext_noop("The customer has no phone number for SMS."),
    gettext_noop("The shop has no number to send from: add one on the shop (Channel addresses)."),
}


@require_POST
@dashboard_view
def customer_send(request, customer_id):
    customer = shop_customer_or_404(request, customer_id)
    form = StaffMessageForm(request.POST)
    if form.is_valid():
        try:
            staff_message_send(
                customer=customer,
                channel=form.cleaned_data["channel"],
                body=form.cleaned_data["body"],
                author=request.user,
            )
        except SendRefused as exc:
            form.add_error(None, _translated_reason(str(exc)))
        else:
            messages.success(request, _("Message sent."))
            return redirect(f"{reverse('dashboard:customer-detail', args=[customer.pk])}?tab=activity")
    return render_customer_detail(request, customer, tab="activity", send_form=form, status=400)


def _translated_reason(reason: str) -> str:
    return _(reason) if reason in KNOWN_REFUSALS else reason
