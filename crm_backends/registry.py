"""Backends by name: adding a CRM is one module and one line here."""

from crm_backends.base import CrmBackend
from crm_backends.hubspot import HubSpotBackend
from crm_backends.salesforce import SalesforceBackend

BACKENDS = {
    "native": CrmBackend,
    "hubspot": HubSpotBackend,
    "salesforce": SalesforceBackend,
}


def backend_for(connection, **kwargs) -> CrmBackend:
    return (
        BACKENDS[connection.backend](connection, **kwargs)
        if connection.backend != "native"
        else CrmBackend(connection)
    )
