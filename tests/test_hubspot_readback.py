"""HubSpot answers that do not say which record is which: an upsert answered with `"properties": {}`
(HubSpot's own example) and no trace ids, and a contact sales merged in HubSpot (its old id answers
with the record it went into). The records HubSpot wrote are read back by the identity they were
written with, never marked failed, never created twice."""

import pytest

from crm_backends import services
from crm_backends.models import CrmConnection, CustomerSync, SyncItem
from crm_backends.services import sync_drain
from tests.fakes.hubspot import FakeHubSpot

READ = "/crm/v3/objects/contacts/batch/read"


@pytest.fixture(autouse=True)
def _fakes_are_allowed_crm_hosts(settings):
    settings.CRM_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def hubspot():
    with FakeHubSpot(token="hs-token", echo_written_properties=False) as fake:
        yield fake


@pytest.fixture
def connection(shop, hubspot):
    connection = CrmConnection(shop=shop, backend="hubspot", options={"api_base": hubspot.url})
    connection.set_secrets({"token": "hs-token"})
    connection.save()
    return connection


def drain(connection):
    while services.due_count(connection):
        if not sync_drain(connection).pushed:
            break


def test_upserts_answered_without_properties_are_read_back_and_synced(
    connection, hubspot, shop, make_customer
):
    customers = [make_customer(shop, first_name=f"Client {n}", email=f"c{n}@example.com") for n in range(5)]

    drain(connection)

    syncs = {s.customer_id: s for s in CustomerSync.objects.all()}
    assert all(syncs[c.pk].status == "synced" for c in customers)
    assert len(hubspot.contacts) == 5  # written once each
    for customer in customers:
        assert hubspot.contacts[syncs[customer.pk].external_id]["email"] == customer.email
    assert [r for r in hubspot.requests if r.path == READ]  # how they were recognised
    assert not SyncItem.objects.exists()


def test_a_contact_merged_in_hubspot_is_updated_and_takes_the_survivors_id(
    connection, hubspot, shop, make_customer
):
    julie = make_customer(shop, first_name="Julie", email="julie@example.com")
    paul = make_customer(shop, first_name="Paul", email="paul@example.com")
    drain(connection)
    julie_id, paul_id = (CustomerSync.objects.get(customer=c).external_id for c in (julie, paul))
    # Sales merge Julie's contact into another one in HubSpot.
    other = hubspot._store_contact({"email": "j.martin@example.com", "firstname": "J."})
    hubspot.merged_into[julie_id] = other
    hubspot.contacts.pop(julie_id)

    julie.last_name, paul.last_name = "Martin", "Durand"
    julie.save()
    paul.save()
    drain(connection)

    julie_sync, paul_sync = (CustomerSync.objects.get(customer=c) for c in (julie, paul))
    assert julie_sync.status == "synced" and julie_sync.external_id == other
    assert hubspot.contacts[other]["lastname"] == "Martin"
    assert paul_sync.status == "synced" and hubspot.contacts[paul_id]["lastname"] == "Durand"


def test_a_lifecycle_stage_the_portal_does_not_have_fails_saying_so(shop, hubspot, make_customer):
    connection = CrmConnection(
        shop=shop,
        backend="hubspot",
        options={"api_base": hubspot.url, "lifecycle_by_segment": {"prospect": "prospectus"}},
    )
    connection.set_secrets({"token": "hs-token"})
    connection.save()
    customer = make_customer(shop, first_name="Julie", email="julie@example.com", segment="prospect")

    sync_drain(connection)

    sync = CustomerSync.objects.get(customer=customer)
    # Not dropped as if HubSpot had refused to move the stage backwards: the owner's mapping is wrong.
    assert sync.status == "failed" and "prospectus" in sync.last_error


def test_the_install_wide_token_serves_one_shop_only(shop, other_shop, settings):
    from crm_backends.hubspot import HubSpotBackend

    settings.HUBSPOT_ACCESS_TOKEN = "hs-token"
    vendor = {"api_base": "https://api.hubapi.com"}  # the install's token goes to HubSpot only
    first = CrmConnection.objects.create(shop=shop, backend="hubspot", options=vendor)
    second = CrmConnection.objects.create(shop=other_shop, backend="hubspot", options=vendor)

    # The first shop's connection may use it (its request goes to HubSpot: not made here).
    assert HubSpotBackend(first)._install_token() == "hs-token"
    with pytest.raises(Exception, match="serves one shop only"):
        HubSpotBackend(second)._install_token()
    # With its own token, the second shop needs no install token at all.
    second.set_secrets({"token": "shop-b-token"})
    second.save()
    assert HubSpotBackend(second)._token() == "shop-b-token"
