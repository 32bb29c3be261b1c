import io

import pytest
from django.core.management import CommandError, call_command

from customers.models import ChannelAddress, Customer, Interaction


def simulate(*args):
    out = io.StringIO()
    call_command("simulate_inbound", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def shop(shop):
    shop.opening_hours = "Mardi-samedi 10h-19h"
    shop.save()
    return shop


def test_simulated_sms_goes_through_the_signed_url_and_prints_the_reply(shop, settings):
    settings.TWILIO_AUTH_TOKEN = ""  # nothing configured: a one-off secret still exercises the check
    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33757000000")
    out = simulate(
        "--shop", shop.slug, "--from", "06 11 22 33 44", "--text", "Bonjour, je m'appelle Julie. Horaires ?"
    )
    assert out.startswith("Reply: Bonjour Julie") and "10h-19h" in out
    customer = Customer.objects.get(shop=shop, phone="+33611223344")
    assert customer.first_name == "Julie"
    assert set(customer.interactions.values_list("direction", flat=True)) == {"inbound", "outbound"}


def test_simulated_whatsapp_through_meta_records_the_message(
    shop, settings, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_ACCESS_TOKEN = ""  # the reply is recorded; sending it is refused and says why
    ChannelAddress.objects.create(shop=shop, provider="meta", address="100000000000001")
    with django_capture_on_commit_callbacks(execute=True):
        out = simulate(
            "--shop", shop.slug, "--from", "+33611223344", "--text", "Bonjour", "--channel", "whatsapp"
        )
    assert out.startswith("Reply: Bonjour")
    reply = Interaction.objects.get(direction="outbound")
    assert reply.status == "failed" and "not configured" in reply.raw_payload["error"]


def test_simulate_without_a_number_says_what_to_set_up(shop):
    with pytest.raises(CommandError, match="has no number"):
        simulate("--shop", shop.slug, "--from", "0611223344", "--text", "Bonjour")


def test_simulate_rejects_a_bad_sender(shop):
    with pytest.raises(CommandError, match="--from"):
        simulate("--shop", shop.slug, "--from", "SUPPORT", "--text", "Bonjour")
