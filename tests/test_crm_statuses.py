"""Delivery statuses reach the note (HubSpot) or task (Salesforce) already pushed for a message, several
statuses arriving together cost one update, and messages staff send from the customer page are pushed
like any other (with their author)."""

from unittest import mock

from crm_backends import services
from crm_backends.models import InteractionSync, SyncItem
from crm_backends.services import sync_drain
from customers import events
from customers.models import Interaction
from tests.crm_fixtures import *  # noqa: F403 - the fakes and a connection to each


def drain(connection):
    while services.due_count(connection):
        if not sync_drain(connection).handled:
            break


def set_status(message, status):
    """What webhooks/outbound.py status_apply does: a conditional queryset update, then the event."""
    Interaction.objects.filter(pk=message.pk).update(status=status)
    events.interaction_statuses_changed(interaction_ids=[message.pk])


def note_updates(hubspot):
    return [r for r in hubspot.requests if r.path == "/crm/v3/objects/notes/batch/update"]


def test_a_delivery_status_updates_the_note_already_pushed(hs_connection, hubspot, shop, make_outbound):
    message = make_outbound(shop, status="sent")
    drain(hs_connection)
    note_id = InteractionSync.objects.get(interaction=message).external_id
    assert "Status: sent" in hubspot.notes[note_id]["properties"]["hs_note_body"]

    set_status(message, "delivered")
    assert SyncItem.objects.filter(kind="status", interaction=message).count() == 1
    drain(hs_connection)
    body = hubspot.notes[note_id]["properties"]["hs_note_body"]
    assert "Status: delivered" in body and "Bonjour !" in body
    assert len(hubspot.notes) == 1 and not SyncItem.objects.exists()


def test_sent_delivered_read_together_cost_one_update(hs_connection, hubspot, shop, make_outbound):
    message = make_outbound(shop, status="queued")
    drain(hs_connection)
    with events.collected():  # one batch of webhook events
        for status in ("sent", "delivered", "read"):
            set_status(message, status)
    # Told apart (separate batches) they still coalesce into the one pending row.
    set_status(message, "read")
    assert SyncItem.objects.filter(kind="status").count() == 1
    drain(hs_connection)
    assert len(note_updates(hubspot)) == 1
    (note,) = hubspot.notes.values()
    assert "Status: read" in note["properties"]["hs_note_body"]


def test_a_status_before_the_message_is_pushed_goes_out_with_it(hs_connection, hubspot, shop, make_outbound):
    message = make_outbound(shop, status="sent")
    set_status(message, "delivered")
    assert not SyncItem.objects.filter(kind="status").exists()  # the push reads the status it has then
    drain(hs_connection)
    (note,) = hubspot.notes.values()
    assert "Status: delivered" in note["properties"]["hs_note_body"] and not note_updates(hubspot)


def test_a_status_arriving_while_its_update_is_pushed_goes_out_next(
    hs_connection, hubspot, shop, make_outbound
):
    message = make_outbound(shop, status="sent")
    drain(hs_connection)
    set_status(message, "delivered")
    backend = services.backend_for(hs_connection)
    update = backend.update_interactions

    def update_then_read(items):
        outcomes = update(items)
        set_status(message, "read")  # reported while "delivered" was on its way
        return outcomes

    backend.update_interactions = update_then_read
    sync_drain(hs_connection, backend=backend)
    assert SyncItem.objects.filter(kind="status", state="pending").count() == 1
    drain(hs_connection)
    (note,) = hubspot.notes.values()
    assert "Status: read" in note["properties"]["hs_note_body"] and not SyncItem.objects.exists()


def test_a_note_deleted_in_hubspot_has_nothing_to_update(hs_connection, hubspot, shop, make_outbound):
    message = make_outbound(shop, status="sent")
    drain(hs_connection)
    hubspot.notes.clear()  # sales deleted it
    set_status(message, "failed")
    drain(hs_connection)
    assert not SyncItem.objects.exists()


def test_inbound_messages_and_passing_statuses_need_no_update(
    hs_connection, shop, make_outbound, make_customer
):
    message = make_outbound(shop, status="queued")
    inbound = Interaction.objects.create(
        customer=make_customer(shop), channel="sms", direction="inbound", body="Bonjour"
    )
    drain(hs_connection)
    set_status(message, "sent")  # every message goes through it: not worth a push
    events.interaction_statuses_changed(interaction_ids=[inbound.pk])
    assert not SyncItem.objects.exists()


def test_a_delivery_status_updates_the_salesforce_task(sf_connection, salesforce, shop, make_outbound):
    message = make_outbound(shop, provider="twilio", status="sent")
    drain(sf_connection)
    (task_id,) = salesforce.tasks
    set_status(message, "undelivered")
    drain(sf_connection)
    task = salesforce.tasks[task_id]
    assert task["Description"].endswith("Status: undelivered") and task["Description"].startswith("Bonjour !")
    assert len(salesforce.tasks) == 1 and not SyncItem.objects.exists()


def test_messages_staff_send_are_pushed_with_their_author(hs_connection, hubspot, shop, staff, make_customer):
    """Staff messages are recorded with Interaction.objects.create (webhooks/staff.py), so the outbox
    hears of them like any other message."""
    from webhooks.staff import staff_message_send

    customer = make_customer(shop, first_name="Julie")
    with (
        mock.patch("webhooks.staff.check_can_send"),
        mock.patch("webhooks.staff.default_provider", return_value="twilio"),
    ):
        message = staff_message_send(
            customer=customer, channel="sms", body="Votre commande est prête", author=staff
        )
    assert SyncItem.objects.filter(kind="interaction", interaction=message).exists()
    drain(hs_connection)
    (note,) = hubspot.notes.values()
    body = note["properties"]["hs_note_body"]
    assert "Votre commande est prête" in body and f"by {staff.get_username()}" in body


def test_a_provider_status_report_reaches_the_crm(hs_connection, hubspot, shop, make_outbound):
    from webhooks.inbound import StatusUpdate
    from webhooks.outbound import status_apply

    message = make_outbound(shop, provider="meta", provider_message_id="wamid.1", status="sent")
    drain(hs_connection)
    status_apply(StatusUpdate(provider="meta", provider_message_id="wamid.1", status="read"))
    assert SyncItem.objects.filter(kind="status", interaction=message).exists()
