"""The deployed WSGI application (coccinelle.wsgi) serves the providers' webhooks without the pages'
middleware, and the pages with all of it. The test client runs every request through the full
middleware, so these tests call the application itself, as gunicorn does."""

import gc
import io
import json
from pathlib import Path
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest
from twilio.request_validator import RequestValidator

from customers.models import ChannelAddress
from webhooks.models import InboundEvent

TOKEN = "twilio-test-token"
SMS_PATH = "/webhooks/twilio/sms/"
FIXTURES = Path(__file__).parent / "fixtures"
# The test client's host, which the test settings allow.
HOST = "testserver"

# Closing the database connection at the end of each request (as the handler does) needs a database
# that is not inside the test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.TWILIO_AUTH_TOKEN, settings.TWILIO_ACCOUNT_SID = TOKEN, ""
    settings.PUBLIC_BASE_URL = ""
    settings.MESSAGING_SANDBOX = True
    settings.ALLOWED_HOSTS = [HOST]


@pytest.fixture
def shop(shop):
    ChannelAddress.objects.create(shop=shop, provider="twilio", address="+33757000000")
    return shop


def call(path, *, method="GET", form=None, host=HOST, headers=None):
    """Call coccinelle.wsgi.application as a WSGI server would: (status code, headers, body)."""
    from coccinelle.wsgi import application

    gc.unfreeze()  # importing it froze the collector, as in a server process; not for the test run

    body = urlencode(form or {}).encode()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "HTTP_HOST": host,
        "SERVER_NAME": host,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **(headers or {}),
    }
    setup_testing_defaults(environ)
    answered = {}

    def start_response(status, response_headers, exc_info=None):
        answered["status"], answered["headers"] = int(status.split()[0]), response_headers

    chunks = application(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return answered["status"], dict(answered["headers"]), content


def signed_sms(sid="SM" + "b" * 32, host=HOST):
    form = json.loads((FIXTURES / "twilio" / "sms_text.json").read_text())
    form.update(MessageSid=sid, SmsSid=sid, From="+33611111111", To="+33757000000", Body="Bonjour")
    signature = RequestValidator(TOKEN).compute_signature(f"http://{host}{SMS_PATH}", form)
    return form, {"HTTP_X_TWILIO_SIGNATURE": signature}


def test_a_signed_webhook_is_stored_and_answered_without_the_pages_middleware(shop):
    form, headers = signed_sms()
    status, response_headers, content = call(SMS_PATH, method="POST", form=form, headers=headers)
    assert status == 200
    assert b"<Response" in content
    assert InboundEvent.objects.filter(event_key=form["MessageSid"]).count() == 1
    # SecurityMiddleware still ran; the pages' locale and framing middleware did not.
    assert response_headers.get("X-Content-Type-Options") == "nosniff"
    assert "Content-Language" not in response_headers
    assert "X-Frame-Options" not in response_headers
    assert "Set-Cookie" not in response_headers


def test_a_webhook_with_a_bad_signature_is_still_refused(shop):
    form, _ = signed_sms()
    status, _, _ = call(SMS_PATH, method="POST", form=form, headers={"HTTP_X_TWILIO_SIGNATURE": "forged"})
    assert status == 403
    assert not InboundEvent.objects.exists()


def test_a_webhook_for_a_host_that_is_not_allowed_is_refused(shop, settings):
    # Signed for the public address, so that the signature check does not read the Host: only the host
    # check (CommonMiddleware) can refuse it.
    settings.PUBLIC_BASE_URL = f"http://{HOST}"
    form, headers = signed_sms()
    status, _, _ = call(SMS_PATH, method="POST", form=form, headers=headers, host="evil.example")
    assert status == 400
    assert not InboundEvent.objects.exists()


def test_the_pages_keep_all_their_middleware():
    status, response_headers, _ = call("/accounts/login/")
    assert status == 200
    assert "Content-Security-Policy" in response_headers
    assert "csrftoken" in response_headers.get("Set-Cookie", "")
    assert response_headers.get("X-Frame-Options") == "DENY"
    assert "Content-Language" in response_headers
