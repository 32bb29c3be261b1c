"""`{% crm_sync_panel customer %}`: the customer page's CRM section, provided by crm_backends so that
the page (in customers) needs no import of it."""

from django import template

from crm_backends.models import CustomerSync
from crm_backends.registry import backend_for

register = template.Library()


@register.inclusion_tag("crm_backends/_sync_panel.html")
def crm_sync_panel(customer):
    syncs = list(CustomerSync.objects.filter(customer=customer).select_related("connection"))
    return {"customer": customer, "rows": [(sync, _link(sync)) for sync in syncs]}


def _link(sync) -> str:
    try:
        return backend_for(sync.connection).external_url(sync.external_id)
    except Exception:  # noqa: BLE001 - a link is a convenience; a misconfigured backend must not break the page
        return ""
