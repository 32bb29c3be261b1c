"""`mask_card_numbers`: what was stored in clear before the edge masked it is masked afterwards, for one
shop or all, counted first with --dry-run, and a second run finds nothing left."""

from io import StringIO

from django.core.management import call_command

from customers.models import Interaction
from webhooks.models import InboundEvent

CARD = "4970 1012 3456 7893"  # Luhn-valid
MASKED = "4970 •••• •••• 7893"
META_ID = "100000000000001"  # a phone_number_id: 15 digits, and an identifier to keep as it is


def _stored_in_clear(shop, customer, n):
    sid = f"SM{n:032d}"
    form = {"MessageSid": sid, "From": customer.phone, "To": "+33757000000", "Body": f"ma carte {CARD}"}
    event = InboundEvent.objects.create(
        provider="twilio", kind="message", event_key=sid, shop=shop, customer=customer, payload=form
    )
    message = Interaction.objects.create(
        customer=customer, channel="sms", direction="inbound", provider="twilio", provider_message_id=sid,
        body=f"ma carte {CARD}", raw_payload=form,
        edits=[{"body": f"carte {CARD}", "provider_message_id": META_ID, "replaced_at": "2026-12-01"}],
    )  # fmt: skip
    return event, message


def _run(*args):
    out = StringIO()
    call_command("mask_card_numbers", *args, stdout=out)
    return out.getvalue()


def test_stored_card_numbers_are_masked_once_and_only_where_asked(shop, other_shop, make_customer):
    mine = _stored_in_clear(shop, make_customer(shop, phone="+33698765432"), 1)
    theirs = _stored_in_clear(other_shop, make_customer(other_shop, phone="+32470123456"), 2)
    assert _run("--dry-run") == "2 event(s) and 2 message(s) would be masked.\n"
    assert InboundEvent.objects.get(pk=mine[0].pk).payload["Body"] == f"ma carte {CARD}"

    assert _run("--shop", shop.slug) == "1 event(s) and 1 message(s) masked.\n"
    event, message = InboundEvent.objects.get(pk=mine[0].pk), Interaction.objects.get(pk=mine[1].pk)
    assert event.payload["Body"] == f"ma carte {MASKED}" and event.payload["_masked"] == ["card"]
    assert event.payload["MessageSid"] == mine[0].event_key  # ids stay as they were
    assert message.body == f"ma carte {MASKED}" and message.raw_payload["Body"] == f"ma carte {MASKED}"
    assert (
        message.edits[0]["body"] == f"carte {MASKED}" and message.edits[0]["provider_message_id"] == META_ID
    )
    assert InboundEvent.objects.get(pk=theirs[0].pk).payload["Body"] == f"ma carte {CARD}"

    assert _run() == "1 event(s) and 1 message(s) masked.\n"
    assert _run() == "0 event(s) and 0 message(s) masked.\n"
