"""A GDPR erasure and a merge in Coccinelle reach HubSpot and Salesforce through the outbox: the strict
fakes check the vendor endpoints (HubSpot's gdpr-delete and merge, Salesforce's collection delete and
SOAP merge), and the outbox rows carry only the CRM's ids once the customer row is gone."""

import pytest

from crm_backends import services
from crm_backends.models import CrmConnection, CustomerSync, InteractionSync, SyncItem
from crm_backends.services import sync_drain, sync_retry_failed
from customers.models import Interaction
from customers.privacy import customer_erase
from customers.services import customer_merge
from tests.crm_fixtures import *  # noqa: F403 - the fakes and a connection to each
from tests.fakes.hubspot import FakeHubSpot


def _connect(shop, backend, options, secrets):
    connection = CrmConnection(shop=shop, backend=backend, options=options)
    connection.set_secrets(secrets)
    connection.save()
    return connection


def drain(connection):
    connection.refresh_from_db()
    while services.due_count(connection):
        if not sync_drain(connection).handled:
            break


def pushed_customer(connection, make_customer, shop, **fields):
    """A customer with one message, both pushed; returns (customer, contact id)."""
    customer = make_customer(shop, **fields)
    Interaction.objects.create(customer=customer, channel="sms", direction="inbound", body="Bonjour !")
    drain(connection)
    return customer, CustomerSync.objects.get(customer=customer).external_id


# --- erase: HubSpot ------------------------------------------------------------------------------------


def test_hubspot_erase_gdpr_deletes_the_contact_and_its_notes(hs_connection, hubspot, shop, make_customer):
    customer, contact = pushed_customer(
        hs_connection, make_customer, shop, first_name="Julie", email="j@ex.com"
    )
    note_ids = set(hubspot.notes)
    assert note_ids and contact in hubspot.contacts

    customer_erase(customer=customer)

    row = SyncItem.objects.get(kind="erase")
    # Only the CRM's ids survive the customer: no name, e-mail or phone in the outbox row.
    assert (row.customer_id, row.external_id, set(row.payload["activities"])) == (None, contact, note_ids)
    assert "Julie" not in str(row.payload) and "j@ex.com" not in str(row.payload)
    hubspot.requests.clear()
    drain(hs_connection)
    assert contact not in hubspot.contacts and hubspot.gdpr_deleted == [contact]
    assert not hubspot.notes
    assert not SyncItem.objects.exists()
    # The GDPR delete before anything else: it purges for good what an archive would only bin.
    paths = [request.path for request in hubspot.requests if request.method == "POST"]
    assert paths.index("/crm/v3/objects/contacts/gdpr-delete") < paths.index(
        "/crm/v3/objects/notes/batch/archive"
    )


def test_an_erased_customer_never_pushed_leaves_nothing_to_do(hs_connection, hubspot, shop, make_customer):
    customer = make_customer(shop, first_name="Julie")  # its push is still waiting
    customer_erase(customer=customer)
    assert not SyncItem.objects.exists()
    drain(hs_connection)
    assert not hubspot.contacts and not hubspot.requests


def test_hubspot_anonymise_overwrites_what_identifies_the_person(shop, hubspot, make_customer):
    connection = _connect(
        shop, "hubspot", {"api_base": hubspot.url, "on_erase": "anonymise"}, {"token": "hs-token"}
    )
    customer, contact = pushed_customer(
        connection, make_customer, shop, first_name="Julie", last_name="Martin", email="j@ex.com"
    )
    hubspot.refuse_blank = False  # anonymising clears properties, the one place Coccinelle does
    customer_erase(customer=customer)
    drain(connection)
    kept = hubspot.contacts[contact]
    assert (kept["firstname"], kept["lastname"]) == ("Erased", "contact")
    assert not kept.get("email") and not kept.get("phone") and not kept.get("mobilephone")
    assert not kept.get("coccinelle_id")
    assert kept["hs_lead_status"] == "NEW"  # says nothing about the person: kept for the reports
    assert not hubspot.notes and not SyncItem.objects.exists()


def test_a_contact_hubspot_no_longer_has_counts_as_erased(hs_connection, hubspot, shop, make_customer):
    customer, contact = pushed_customer(hs_connection, make_customer, shop, email="j@ex.com")
    del hubspot.contacts[contact]  # sales deleted it meanwhile
    customer_erase(customer=customer)
    drain(hs_connection)
    assert not SyncItem.objects.exists()


def test_an_erase_hubspot_refuses_is_retried_then_failed_and_visible(
    hs_connection, hubspot, shop, make_customer, settings
):
    customer, contact = pushed_customer(hs_connection, make_customer, shop, email="j@ex.com")
    customer_erase(customer=customer)
    hubspot.fail_next(503)  # HubSpot is down a moment: retried with backoff
    report = sync_drain(hs_connection)
    row = SyncItem.objects.get(kind="erase")
    assert report.retrying == 1 and row.state == "pending" and row.attempts == 1 and "503" in row.last_error

    hubspot.fail_next(
        403, {"status": "error", "message": "missing scope", "category": "MISSING_SCOPES"}, count=5
    )
    SyncItem.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    sync_drain(hs_connection)
    row.refresh_from_db()
    assert row.state == "failed" and "403" in row.last_error  # in the admin's Sync queue
    assert contact in hubspot.contacts

    hubspot._failures.clear()
    assert sync_retry_failed(hs_connection, item_ids=[row.pk]) == 1
    drain(hs_connection)
    assert contact not in hubspot.contacts and not SyncItem.objects.exists()


def test_a_failed_erase_is_shown_in_the_admins_sync_queue_and_retried_from_there(
    client, owner, hs_connection, hubspot, shop, make_customer
):
    customer, contact = pushed_customer(hs_connection, make_customer, shop, email="j@ex.com")
    customer_erase(customer=customer)
    hubspot.fail_next(403, {"status": "error", "message": "missing scope", "category": "MISSING_SCOPES"})
    sync_drain(hs_connection)
    row = SyncItem.objects.get(kind="erase")
    assert row.state == "failed" and row.customer_id is None

    client.force_login(owner)
    listing = client.get("/admin/crm_backends/syncitem/?state__exact=failed")
    assert listing.status_code == 200 and contact in listing.content.decode()
    detail = client.get(f"/admin/crm_backends/syncitem/{row.pk}/change/")
    assert detail.status_code == 200 and "j@ex.com" not in detail.content.decode()  # ids only
    retried = client.post(
        "/admin/crm_backends/syncitem/", {"action": "retry", "_selected_action": [row.pk]}, follow=True
    )
    assert retried.status_code == 200
    row.refresh_from_db()
    assert row.state == "pending"  # a worker pushes it; nothing was sent from the request
    assert contact in hubspot.contacts


# --- erase: Salesforce ---------------------------------------------------------------------------------


def test_salesforce_erase_deletes_the_contact_and_its_tasks(sf_connection, salesforce, shop, make_customer):
    customer, contact = pushed_customer(sf_connection, make_customer, shop, last_name="Durand")
    (task_id,) = salesforce.tasks
    customer_erase(customer=customer)
    row = SyncItem.objects.get(kind="erase")
    assert (row.external_id, row.payload["activities"]) == (contact, [task_id])
    drain(sf_connection)
    assert contact not in salesforce.contacts and task_id not in salesforce.tasks
    assert set(salesforce.deleted) == {contact, task_id}
    assert not SyncItem.objects.exists()


def test_salesforce_anonymise_clears_the_personal_fields(shop, salesforce, make_customer):
    connection = _connect(
        shop,
        "salesforce",
        {"login_url": salesforce.url, "on_erase": "anonymise"},
        {"client_id": "sf-client", "client_secret": "sf-secret", "refresh_token": "sf-refresh"},
    )
    customer, contact = pushed_customer(
        connection, make_customer, shop, first_name="Paul", last_name="Durand", email="p@ex.com"
    )
    salesforce.allow_nulls = True  # anonymising clears fields, the one place Coccinelle does
    customer_erase(customer=customer)
    drain(connection)
    kept = salesforce.contacts[contact]
    assert (kept["FirstName"], kept["LastName"]) == ("Erased", "contact")
    assert not kept.get("Email") and not kept.get("Phone") and not kept.get("Coccinelle_Id__c")
    assert not salesforce.tasks and not SyncItem.objects.exists()


# --- merge ---------------------------------------------------------------------------------------------


def test_hubspot_merge_uses_the_merge_endpoint_and_keeps_both_notes(
    hs_connection, hubspot, shop, make_customer
):
    keep, keep_contact = pushed_customer(
        hs_connection, make_customer, shop, first_name="Julie", email="a@ex.com"
    )
    other, other_contact = pushed_customer(
        hs_connection, make_customer, shop, first_name="Julie", email="b@ex.com"
    )

    customer_merge(keep=keep, others=[other])
    assert SyncItem.objects.filter(kind="merge", customer=keep, external_id=other_contact).exists()
    drain(hs_connection)

    assert hubspot.merges == [(keep_contact, other_contact)]
    assert set(hubspot.contacts) == {keep_contact}
    # Both messages' notes are on the survivor's contact.
    assert {n["associations"][0]["to"]["id"] for n in hubspot.notes.values()} == {keep_contact}
    assert len(hubspot.notes) == 2
    assert CustomerSync.objects.get(customer=keep).external_id == keep_contact
    assert not SyncItem.objects.exists()


def test_hubspot_merge_retried_after_a_lost_answer_is_done(hs_connection, hubspot, shop, make_customer):
    keep, keep_contact = pushed_customer(hs_connection, make_customer, shop, email="a@ex.com")
    other, other_contact = pushed_customer(hs_connection, make_customer, shop, email="b@ex.com")
    customer_merge(keep=keep, others=[other])
    hubspot.contacts.pop(other_contact)  # HubSpot merged it, but its answer never arrived
    hubspot.merged_into[other_contact] = keep_contact
    drain(hs_connection)
    assert not SyncItem.objects.exists() and keep_contact in hubspot.contacts


def test_the_survivor_adopts_the_merged_contact_when_it_had_none(hs_connection, hubspot, shop, make_customer):
    other, other_contact = pushed_customer(
        hs_connection, make_customer, shop, first_name="Julie", email="b@ex.com"
    )
    keep = make_customer(shop, first_name="Julie", last_name="Martin")  # not pushed yet
    customer_merge(keep=keep, others=[other])
    assert not SyncItem.objects.filter(kind="merge").exists()
    assert CustomerSync.objects.get(customer=keep).external_id == other_contact
    drain(hs_connection)
    # The survivor was pushed into that contact, no second contact was created.
    assert set(hubspot.contacts) == {other_contact}
    assert hubspot.contacts[other_contact]["lastname"] == "Martin"


def test_salesforce_merge_uses_the_soap_merge_call_and_keeps_both_tasks(
    sf_connection, salesforce, shop, make_customer
):
    keep, keep_contact = pushed_customer(
        sf_connection, make_customer, shop, last_name="Durand", email="a@ex.com"
    )
    other, other_contact = pushed_customer(
        sf_connection, make_customer, shop, last_name="Durand", email="b@ex.com"
    )
    salesforce.expire_tokens()  # the SOAP call gets a new session once, like REST calls

    customer_merge(keep=keep, others=[other])
    drain(sf_connection)

    assert salesforce.soap_merges == [(keep_contact, other_contact)]
    assert set(salesforce.contacts) == {keep_contact}
    assert salesforce.deleted == {other_contact: keep_contact}
    assert {t["WhoId"] for t in salesforce.tasks.values()} == {keep_contact} and len(salesforce.tasks) == 2
    assert not SyncItem.objects.exists()


def test_merged_then_erased_before_the_merge_went_out_erases_both_contacts(
    hs_connection, hubspot, shop, make_customer
):
    keep, keep_contact = pushed_customer(hs_connection, make_customer, shop, email="a@ex.com")
    other, other_contact = pushed_customer(hs_connection, make_customer, shop, email="b@ex.com")
    customer_merge(keep=keep, others=[other])
    customer_erase(customer=keep)
    assert set(SyncItem.objects.values_list("kind", "external_id")) == {
        ("erase", keep_contact),
        ("erase", other_contact),
    }
    drain(hs_connection)
    assert not hubspot.contacts and not hubspot.notes


# --- the drain's edges ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_customer_erased_while_their_push_is_on_its_way_is_erased_in_the_crm(shop, make_customer, settings):
    """The erase committed while the worker was pushing: the contact the CRM just created is erased in
    turn, and the drain does not crash on the customer that is gone."""
    settings.CRM_ALLOWED_HOSTS = ["127.0.0.1"]
    with FakeHubSpot(token="hs-token") as hubspot:
        connection = _connect(shop, "hubspot", {"api_base": hubspot.url}, {"token": "hs-token"})
        customer = make_customer(shop, first_name="Julie", email="j@ex.com")
        from crm_backends.registry import backend_for

        backend = backend_for(connection)
        push = backend.push_customers

        def push_then_erase(items):
            outcomes = push(items)
            customer_erase(customer=customer)  # committed by another request meanwhile
            return outcomes

        backend.push_customers = push_then_erase
        sync_drain(connection, backend=backend)
        (contact,) = [c for c in hubspot.contacts]
        row = SyncItem.objects.get(kind="erase")
        assert row.external_id == contact and row.customer_id is None
        drain(connection)
        assert not hubspot.contacts and not InteractionSync.objects.exists()


def test_messages_of_the_merged_customer_not_pushed_yet_go_to_the_survivor(
    hs_connection, hubspot, shop, make_customer
):
    keep, keep_contact = pushed_customer(hs_connection, make_customer, shop, email="a@ex.com")
    other = make_customer(shop, email="b@ex.com")
    Interaction.objects.create(customer=other, channel="sms", direction="inbound", body="Encore moi")
    customer_merge(keep=keep, others=[other])  # the merged customer was never pushed
    drain(hs_connection)
    assert set(hubspot.contacts) == {keep_contact} and not hubspot.merges
    bodies = {
        n["properties"]["hs_note_body"]: n["associations"][0]["to"]["id"] for n in hubspot.notes.values()
    }
    assert [to for body, to in bodies.items() if "Encore moi" in body] == [keep_contact]


def test_on_erase_accepts_only_delete_or_anonymise(shop):
    from django.core.exceptions import ValidationError

    connection = CrmConnection(shop=shop, backend="salesforce", options={"on_erase": "forget"})
    with pytest.raises(ValidationError, match="on_erase"):
        connection.clean()


def test_statements_per_batch_of_erasures_and_merges_do_not_grow(hs_connection, shop, make_customer):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from crm_backends.base import CrmBackend

    def queue(count):
        keep = make_customer(shop)
        CustomerSync.objects.filter(customer=keep).update(external_id=f"k{keep.pk}")
        SyncItem.objects.all().delete()
        SyncItem.objects.bulk_create(
            [SyncItem(connection=hs_connection, kind="erase", external_id=f"e{n}") for n in range(count)]
            + [
                SyncItem(connection=hs_connection, kind="merge", customer=keep, external_id=f"m{n}")
                for n in range(count)
            ]
        )

    def statements():
        with CaptureQueriesContext(db) as queries:
            report = sync_drain(hs_connection, backend=CrmBackend(hs_connection))
        return len(queries), report

    queue(2)
    small, _ = statements()
    queue(50)
    large, report = statements()
    assert large == small and report.pushed == 100 and not SyncItem.objects.exists()


# --- the fakes answer these endpoints as the vendors document them ------------------------------------


def _hs(fake, path, body):
    import requests

    return requests.post(fake.url + path, json=body, headers={"Authorization": "Bearer hs-token"}, timeout=5)


def test_fake_hubspot_gdpr_delete_and_merge_as_documented(hubspot):
    a = _hs(hubspot, "/crm/v3/objects/contacts", {"properties": {"email": "a@ex.com"}}).json()["id"]
    b = _hs(
        hubspot, "/crm/v3/objects/contacts", {"properties": {"email": "b@ex.com", "phone": "+33611"}}
    ).json()["id"]
    note = {
        "properties": {"hs_timestamp": "2026-05-01T10:00:00.000Z", "hs_note_body": "x"},
        "associations": [
            {"to": {"id": b}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}
        ],
    }
    note_id = _hs(hubspot, "/crm/v3/objects/notes", note).json()["id"]
    # Required fields, unknown ids.
    assert _hs(hubspot, "/crm/v3/objects/contacts/gdpr-delete", {}).status_code == 400
    assert _hs(hubspot, "/crm/v3/objects/contacts/gdpr-delete", {"objectId": "999"}).status_code == 404
    assert _hs(hubspot, "/crm/v3/objects/contacts/merge", {"primaryObjectId": a}).status_code == 400
    missing = {"primaryObjectId": a, "objectIdToMerge": "999"}
    assert _hs(hubspot, "/crm/v3/objects/contacts/merge", missing).status_code == 404
    # The merge keeps the primary, fills its blanks, moves the notes; the old id answers with it.
    merged = _hs(hubspot, "/crm/v3/objects/contacts/merge", {"primaryObjectId": a, "objectIdToMerge": b})
    assert merged.status_code == 200 and merged.json()["id"] == a
    assert hubspot.contacts[a]["email"] == "a@ex.com" and hubspot.contacts[a]["phone"] == "+33611"
    assert hubspot.notes[note_id]["associations"][0]["to"]["id"] == a and b not in hubspot.contacts
    # GDPR delete by a unique property: the contact and its content are gone.
    deleted = _hs(
        hubspot, "/crm/v3/objects/contacts/gdpr-delete", {"objectId": "a@ex.com", "idProperty": "email"}
    )
    assert deleted.status_code == 204 and not hubspot.contacts and not hubspot.notes


def test_fake_salesforce_collection_delete_and_soap_merge_as_documented(salesforce):
    import requests

    token = requests.post(
        salesforce.url + "/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": "sf-client",
            "client_secret": "sf-secret",
            "refresh_token": "sf-refresh",
        },
        timeout=5,
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    data = salesforce.url + "/services/data/v67.0"
    made = requests.post(
        data + "/composite/sobjects",
        json={
            "allOrNone": False,
            "records": [{"attributes": {"type": "Contact"}, "LastName": n} for n in ("A", "B", "C")],
        },
        headers=auth,
        timeout=5,
    ).json()
    a, b, c = (r["id"] for r in made)
    soap = salesforce.url + "/services/Soap/u/67.0"

    def merge(session, master, victim):
        from crm_backends.salesforce_erase import ENVELOPE, MERGE_REQUEST

        body = ENVELOPE.format(session=session, requests=MERGE_REQUEST.format(primary=master, merged=victim))
        return requests.post(soap, data=body.encode(), headers={"Content-Type": "text/xml"}, timeout=5)

    fault = merge("expired", a, b)
    assert fault.status_code == 500 and b"sf:INVALID_SESSION_ID" in fault.content
    assert b"<success>true</success>" in merge(token, a, b).content
    again = merge(token, a, b).content  # b is gone: merged already
    assert b"<success>false</success>" in again and b"ENTITY_IS_DELETED" in again
    deleted = requests.delete(
        data + "/composite/sobjects",
        params={"ids": f"{c},{b}", "allOrNone": "false"},
        headers=auth,
        timeout=5,
    ).json()
    assert deleted[0] == {"id": c, "success": True, "errors": []}
    assert deleted[1]["id"] == b and deleted[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert set(salesforce.contacts) == {a} and salesforce.deleted == {b: a, c: None}
