"""The optional LLM engine inside the real flow: the webhook answers at once, the reply goes out through
the provider's send API from a task, and any LLM failure falls back to the offline engine."""

import pytest

from customers.models import ChannelAddress, Interaction
from tests.fakes.llm_servers import FakeAnthropic, FakeOpenAI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.webhook_posting import EMPTY_TWIML, SMS_URL, TWILIO_TOKEN, post_twilio

SID, TOKEN = "AC" + "1" * 32, TWILIO_TOKEN
PARAMS = {
    "MessageSid": "SM" + "e" * 32,
    "AccountSid": SID,
    "From": "+33698765432",
    "To": "+33757000000",
    "Body": "Bonjour, vous ouvrez dimanche ?",
}


@pytest.fixture
def twilio_api(settings):
    with FakeTwilioAPI(account_sid=SID, auth_token=TOKEN) as fake:
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
        settings.TWILIO_API_BASE = fake.url
        yield fake


@pytest.fixture
def shop(shop):
    shop.opening_hours = "Dimanche 14h-18h"
    shop.save()
    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33757000000")
    return shop


def _configure(settings, provider, fake, timeout=2.0):
    settings.LLM_PROVIDER, settings.LLM_BASE_URL = provider, fake.url
    settings.LLM_API_KEY, settings.LLM_MODEL, settings.LLM_TIMEOUT = "llm-key", "test-model", timeout


FAKES = {"openai": FakeOpenAI, "anthropic": FakeAnthropic}


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_llm_reply_is_sent_through_the_provider_api(client, shop, settings, twilio_api, provider):
    with FAKES[provider](api_key="llm-key", reply_text="Oui, dimanche de 14h à 18h !") as llm:
        _configure(settings, provider, llm)
        response = post_twilio(client, SMS_URL, PARAMS)
    assert response.status_code == 200 and response.content == EMPTY_TWIML  # nothing inline
    reply = Interaction.objects.get(direction="outbound")
    assert reply.body == "Oui, dimanche de 14h à 18h !" and reply.is_automatic
    assert reply.provider_message_id and reply.provider_message_id.startswith("SM")
    assert twilio_api.requests[-1].form()["Body"] == reply.body
    assert "14h-18h" in str(llm.requests[-1].body, "utf-8")  # the shop's hours were given to the model


@pytest.mark.parametrize(
    ("provider", "mode"),
    [("openai", "slow"), ("anthropic", "slow"), ("openai", "rate_limited"), ("anthropic", "rate_limited"),
     ("openai", "malformed"), ("anthropic", "malformed")],
)  # fmt: skip
def test_llm_failure_falls_back_to_the_offline_engine(client, shop, settings, twilio_api, provider, mode):
    with FAKES[provider](api_key="llm-key", mode=mode, delay=2.0) as llm:
        _configure(settings, provider, llm, timeout=0.5)
        response = post_twilio(client, SMS_URL, PARAMS)
    assert response.status_code == 200
    reply = Interaction.objects.get(direction="outbound")
    assert "14h-18h" in reply.body  # the offline template, filled with the shop's hours
    assert twilio_api.requests[-1].form()["Body"] == reply.body


def test_send_failure_is_recorded_not_lost(client, shop, settings, twilio_api):
    twilio_api.fail_next_with(400, 21610, "Attempt to send to unsubscribed recipient")
    with FakeOpenAI(api_key="llm-key", reply_text="Oui !") as llm:
        _configure(settings, "openai", llm)
        post_twilio(client, SMS_URL, PARAMS)
    reply = Interaction.objects.get(direction="outbound")
    # Recorded with a reason a shop owner can act on (webhooks/providers/twilio.py rewords known codes).
    error = reply.raw_payload["error"]
    assert reply.status == "failed" and "21610" in error and "STOP" in error
