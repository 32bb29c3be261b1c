"""The local HubSpot and Salesforce fakes and a connection of the test shop to each, for the CRM test
modules (imported there: `from tests.crm_fixtures import *` names them for pytest)."""

import pytest

from crm_backends.models import CrmConnection
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.salesforce import FakeSalesforce

__all__ = ["_fakes_are_allowed_crm_hosts", "hs_connection", "hubspot", "salesforce", "sf_connection"]


@pytest.fixture(autouse=True)
def _fakes_are_allowed_crm_hosts(settings):
    """The local fakes listen on 127.0.0.1, which is no CRM's host: allow it, as ops would for a fake."""
    settings.CRM_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def hubspot():
    with FakeHubSpot(token="hs-token") as fake:
        yield fake


@pytest.fixture
def hs_connection(shop, hubspot):
    connection = CrmConnection(shop=shop, backend="hubspot", options={"api_base": hubspot.url})
    connection.set_secrets({"token": "hs-token"})
    connection.save()
    return connection


@pytest.fixture
def salesforce():
    with FakeSalesforce() as fake:
        yield fake


@pytest.fixture
def sf_connection(shop, salesforce):
    connection = CrmConnection(shop=shop, backend="salesforce", options={"login_url": salesforce.url})
    connection.set_secrets(
        {"client_id": "sf-client", "client_secret": "sf-secret", "refresh_token": "sf-refresh"}
    )
    connection.save()
    return connection
