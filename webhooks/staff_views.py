"""The dashboard's *Send message* actions (free text, a saved reply inserted, a WhatsApp template).
They live here because sending is the messaging side's job; the page around them is
`customers.views`' (data flows one way: webhooks may use customers)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from customers.access import dashboard_view, shop_customer_or_404
from customers.forms import StaffMessageForm
from customers.views import render_customer_detail
from webhooks.models import SavedReply
from webhooks.outbound import SendRefused
from webhooks.saved_replies import customer_language, fill, placeholder_values, text_for
from webhooks.send_outcome import send_outcome, translated_reason
from webhooks.staff import staff_message_send
from webhooks.wa_templates import parameter_count, staff_template_send, whatsapp_provider


@require_POST
@dashboard_view
def customer_send(request, customer_id):
    customer = shop_customer_or_404(request, customer_id)
    if request.POST.get("insert_reply"):
        return _insert_reply(request, customer)
    form = StaffMessageForm(request.POST)
    if form.is_valid():
        try:
            interaction = staff_message_send(
                customer=customer,
                channel=form.cleaned_data["channel"],
                body=form.cleaned_data["body"],
                author=request.user,
            )
        except SendRefused as exc:
            form.add_error(None, translated_reason(str(exc)))
        else:
            return _after_send(request, customer, interaction)
    return render_customer_detail(request, customer, tab="conversation", send_form=form, status=400)


def _insert_reply(request, customer):
    """The saved-reply picker without JavaScript: the page again, the reply added to what was typed."""
    reply = get_object_or_404(SavedReply, pk=_int(request.POST.get("saved_reply")), shop=request.shop)
    text = fill(
        text_for(reply, language=customer_language(customer), fallback=customer.shop.language),
        placeholder_values(customer),
    )
    typed = request.POST.get("body", "").rstrip()
    body = f"{typed}\n{text}" if typed else text
    channel = request.POST.get("channel") or (
        "whatsapp" if customer.preferred_channel == "whatsapp" else "sms"
    )
    form = StaffMessageForm(initial={"channel": channel, "body": body})
    return render_customer_detail(request, customer, tab=request.GET.get("tab"), send_form=form)


@require_POST
@dashboard_view
def customer_send_template(request, customer_id):
    customer = shop_customer_or_404(request, customer_id)
    template = get_object_or_404(
        customer.shop.whatsapp_templates,
        pk=_int(request.POST.get("template")),
        provider=whatsapp_provider(customer.shop_id),
        status__in=["", "APPROVED"],  # as the send box offers them (webhooks.wa_templates.templates_for)
    )
    values = [request.POST.get(f"value_{n}", "") for n in range(1, parameter_count(template) + 1)]
    try:
        interaction = staff_template_send(
            customer=customer, template=template, values=values, author=request.user
        )
    except SendRefused as exc:
        messages.error(request, translated_reason(str(exc)))
        page = reverse("dashboard:customer-detail", args=[customer.pk])
        return redirect(f"{page}?tab=conversation#send-title")
    return _after_send(request, customer, interaction)


def _after_send(request, customer, interaction):
    outcome = send_outcome(interaction)
    messages.add_message(request, outcome.level, outcome.text)
    return redirect(f"{reverse('dashboard:customer-detail', args=[customer.pk])}?tab=conversation")


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
