"""`{% crm_sync_panel customer %}`: the customer page's CRM section, provided by crm_backends so that
the page (in customers) needs no import of it."""

from django import template

from crm_backends.selectors import contact_link, customer_syncs

register = template.Library()


@register.inclusion_tag("crm_backends/_sync_panel.html")
def crm_sync_panel(customer):
    return {"customer": customer, "rows": [(sync, contact_link(sync)) for sync in customer_syncs(customer)]}
