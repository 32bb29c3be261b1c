"""The demo's sandbox sender: without provider credentials, and only in DEBUG or with MESSAGING_SANDBOX=1,
sends are recorded as delivered to the sandbox and labelled so on the customer's timeline."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from customers.models import ChannelAddress, Customer, Interaction
from tests.fakes.meta_graph import FakeMetaGraph
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.webhook_posting import post_meta
from webhooks.providers import sandbox

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_ID = re.compile(r"^SB[0-9a-f]{32}$")
LABEL = "Sandbox: not sent to a phone"
SID, TOKEN = "AC" + "3" * 32, "sandbox-test-twilio-token"
APP_SECRET = "sandbox-test-app-secret"


@pytest.fixture(autouse=True)
def _no_credentials(settings):
    """A fresh checkout: no provider credentials, the sandbox setting unset (it follows DEBUG)."""
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = settings.WHATSAPP_ACCESS_TOKEN = ""
    settings.WHATSAPP_APP_SECRET = APP_SECRET  # only to sign inbound webhooks, not to send
    settings.MESSAGING_SANDBOX = None
    settings.PUBLIC_BASE_URL = ""


@pytest.fixture
def shop(shop):
    shop.language = "en"
    shop.save()
    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33757000000")
    return shop


@pytest.fixture
def customer(shop, make_customer):
    return make_customer(shop, first_name="Julie", last_name="Martin", phone="+33698765432")


@pytest.fixture
def as_owner(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def twilio_api(settings):
    """A fake Twilio API the settings point at; credentials are set only by the tests that want them."""
    with FakeTwilioAPI(account_sid=SID, auth_token=TOKEN) as fake:
        settings.TWILIO_API_BASE = fake.url
        yield fake


@pytest.fixture
def send(as_owner, django_capture_on_commit_callbacks):
    """Send from the customer page as the owner; return the recorded interaction."""

    def post(customer, body="Votre robe est arrivée"):
        with django_capture_on_commit_callbacks(execute=True):
            response = as_owner.post(
                f"/dashboard/customers/{customer.pk}/send/", {"channel": "sms", "body": body}
            )
        assert response.status_code == 302
        return customer.interactions.get(direction="outbound", body=body)

    return post


def activity(client, customer) -> str:
    return client.get(f"/dashboard/customers/{customer.pk}/?tab=activity").content.decode()


def assert_in_sandbox(interaction: Interaction, provider: str) -> None:
    assert interaction.status == "delivered" and SANDBOX_ID.match(interaction.provider_message_id)
    assert interaction.raw_payload["sandbox"] is True
    assert interaction.provider == provider  # the real provider: its number, its conversation
    assert "error" not in interaction.raw_payload and interaction.error_code == ""


# --- staff messages -----------------------------------------------------------------------------------


def test_debug_without_credentials_sends_to_the_sandbox_and_labels_it(
    settings, as_owner, customer, twilio_api, send
):
    settings.DEBUG = True
    sent = send(customer)
    assert_in_sandbox(sent, "twilio")
    assert twilio_api.requests == []  # nothing left the server
    html = activity(as_owner, customer)
    assert "Votre robe est arrivée" in html and LABEL in html and "status-sandbox" in html


def test_the_label_reads_in_french_for_a_french_shop(settings, as_owner, shop, customer, send):
    settings.DEBUG = True
    shop.language = "fr"
    shop.save()
    send(customer)
    assert "Bac à sable : non envoyé à un téléphone" in activity(as_owner, customer)


def test_the_live_update_carries_the_label(settings, as_owner, customer, send):
    settings.DEBUG = True
    send(customer)
    entries = as_owner.get(f"/dashboard/customers/{customer.pk}/updates/?after=0").json()["entries"]
    assert any(LABEL in entry for entry in entries)


def test_debug_off_without_credentials_fails_with_the_missing_credential(
    settings, as_owner, customer, twilio_api, send
):
    settings.DEBUG = False
    sent = send(customer)
    assert sent.status == "failed" and sent.error_code == "refused"
    assert sent.raw_payload["error"] == "Twilio is not configured (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)."
    assert "sandbox" not in sent.raw_payload and not sent.provider_message_id
    html = activity(as_owner, customer)
    assert "Not sent:" in html and "Twilio is not configured" in html and LABEL not in html


def test_messaging_sandbox_on_works_without_debug(settings, customer, twilio_api, send):
    settings.DEBUG, settings.MESSAGING_SANDBOX = False, True
    assert_in_sandbox(send(customer), "twilio")
    assert twilio_api.requests == []


def test_an_explicit_messaging_sandbox_off_wins_over_debug(settings, customer, send):
    settings.DEBUG, settings.MESSAGING_SANDBOX = True, False
    sent = send(customer)
    assert sent.status == "failed" and "Twilio is not configured" in sent.raw_payload["error"]


@pytest.mark.parametrize("missing", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"])
def test_half_a_twilio_credential_is_no_credential(settings, customer, twilio_api, send, missing):
    settings.DEBUG = True
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
    setattr(settings, missing, "")
    assert_in_sandbox(send(customer), "twilio")
    assert twilio_api.requests == []


@pytest.mark.parametrize("sandbox_setting", [None, True])
def test_credentials_win_over_the_sandbox(settings, as_owner, customer, twilio_api, send, sandbox_setting):
    settings.DEBUG, settings.MESSAGING_SANDBOX = True, sandbox_setting
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
    sent = send(customer)
    assert sent.provider_message_id.startswith("SM") and sent.status == "queued"
    assert "sandbox" not in sent.raw_payload
    assert twilio_api.requests[0].form()["Body"] == "Votre robe est arrivée"
    assert LABEL not in activity(as_owner, customer)


# --- automatic replies --------------------------------------------------------------------------------


def meta_text_now() -> dict:
    payload = json.loads((ROOT / "tests" / "fixtures" / "meta" / "text.json").read_text())
    # Sent now, so that the reply is inside WhatsApp's 24-hour window.
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(time.time()))
    return payload


@pytest.fixture
def meta_shop(shop):
    ChannelAddress.objects.create(shop=shop, provider="meta", address="100000000000001")
    return shop


def test_an_automatic_reply_goes_to_the_sandbox_in_debug(settings, client, owner, meta_shop):
    settings.DEBUG = True
    with FakeMetaGraph(access_token="graph-token") as graph:
        settings.WHATSAPP_GRAPH_BASE = graph.url
        assert post_meta(client, meta_text_now(), secret=APP_SECRET).status_code == 200
    customer = Customer.objects.get(shop=meta_shop)
    reply = customer.interactions.get(direction="outbound")
    assert reply.is_automatic and reply.channel == "whatsapp"
    assert_in_sandbox(reply, "meta")
    assert graph.requests == []
    client.force_login(owner)
    html = activity(client, customer)
    assert "automatic reply" in html and LABEL in html


def test_an_automatic_reply_without_debug_fails_as_before(settings, client, meta_shop):
    settings.DEBUG = False
    assert post_meta(client, meta_text_now(), secret=APP_SECRET).status_code == 200
    reply = Interaction.objects.get(direction="outbound")
    assert reply.status == "failed" and "sandbox" not in reply.raw_payload
    assert reply.raw_payload["error"] == "The WhatsApp Cloud API is not configured (WHATSAPP_ACCESS_TOKEN)."


# --- the provider module and the setting --------------------------------------------------------------


def test_sandbox_send_answers_like_a_provider():
    first, second = sandbox.send(channel="sms", body="Hello"), sandbox.send(channel="whatsapp", body="")
    assert SANDBOX_ID.match(first.provider_message_id) and first.status == "delivered"
    assert first.provider_message_id != second.provider_message_id
    with pytest.raises(ValueError, match="email"):
        sandbox.send(channel="email", body="Hello")


@pytest.mark.parametrize(("value", "expected"), [(None, "None"), ("", "None"), ("1", "True"), ("0", "False")])
def test_messaging_sandbox_is_unset_on_or_off(value, expected):
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    if value is not None:
        env["MESSAGING_SANDBOX"] = value
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='coccinelle.settings'; django.setup();"
        "from django.conf import settings; print(settings.MESSAGING_SANDBOX)"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
