"""Reads for the pages that show CRM state (the admin's customer page, the dashboard's panel)."""

from crm_backends import crypto
from crm_backends.base import CrmError
from crm_backends.models import CustomerSync
from crm_backends.registry import backend_for
from crm_backends.transport import safe_link


def customer_syncs(customer) -> list[CustomerSync]:
    return list(CustomerSync.objects.filter(customer=customer).select_related("connection"))


def contact_link(sync: CustomerSync) -> str:
    """A link to the customer's record in the CRM, or "": only https, only to the CRM's own hosts
    (an instance URL from a token answer must never become a `javascript:` link)."""
    if not sync.external_id or sync.connection.backend not in ("hubspot", "salesforce"):
        return ""
    try:
        url = backend_for(sync.connection).external_url(sync.external_id)
    except (CrmError, crypto.SecretsUnreadable):  # a misconfigured connection: no link, the page still shows
        return ""
    return safe_link(url, sync.connection.backend)
