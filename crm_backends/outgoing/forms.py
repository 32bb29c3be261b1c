"""The owners' endpoint form (parse and validate only; crm_backends.outgoing.services changes things)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm_backends.outgoing.models import EVENT_TYPES
from crm_backends.outgoing.urlguard import url_problem
from customers.forms import NoColonForm

EVENT_LABELS = {
    "customer.created": _("a customer is created"),
    "customer.updated": _("a customer is changed"),
    "message.received": _("a message is received"),
    "message.sent": _("a message is sent (replies and your team's)"),
    "message.status": _("a sent message's delivery status changes"),
    "order.created": _("an order is created"),
}


class EndpointForm(NoColonForm, forms.Form):
    auto_id = "id_endpoint_%s"
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("An https:// address of your own server, reachable from the internet."),
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(name, f"{name}: {EVENT_LABELS[name]}") for name in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )

    @staticmethod
    def initial_for(endpoint) -> dict:
        return {"url": endpoint.url, "events": endpoint.events}

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        problem = url_problem(url)
        if problem:
            raise forms.ValidationError(problem)
        return url
