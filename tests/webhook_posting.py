"""Post signed Twilio forms and Meta bodies to the webhooks, as the providers do, then let the worker run.

A webhook only stores the event; the task that processes it is enqueued with `transaction.on_commit`.
pytest-django runs each test in a transaction that never commits, so these helpers run the on-commit
callbacks once the request is answered (tasks are eager in tests): what a worker does after the commit.
In tests with `transactional_db` the callbacks run at the request's own commit: nothing is left to capture.
"""

import hashlib
import hmac
import json

from django.test import TestCase
from twilio.request_validator import RequestValidator

TWILIO_TOKEN = "twilio-test-token"
META_APP_SECRET = "meta-app-secret"
ACCOUNT_SID = "AC" + "1" * 32
SMS_URL, WA_URL, STATUS_URL, META_URL = (
    "/webhooks/twilio/sms/", "/webhooks/twilio/whatsapp/", "/webhooks/twilio/status/", "/webhooks/whatsapp/",
)  # fmt: skip
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _then_the_worker():
    return TestCase.captureOnCommitCallbacks(execute=True)


def twilio_signature(url: str, params: dict, *, token: str = TWILIO_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def meta_signature(body: bytes, *, secret: str = META_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_twilio(client, path, params, *, token=TWILIO_TOKEN, url=None, **headers):
    """POST a Twilio form to `path`, signed with `token` for `url` (by default the URL Django sees)."""
    signature = twilio_signature(url or f"http://testserver{path}", params, token=token)
    with _then_the_worker():
        return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature, **headers)


def post_meta(client, payload=None, *, raw=None, secret=META_APP_SECRET):
    """POST a Meta notification (a dict, or the exact bytes in `raw`), signed over the raw body."""
    body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
    headers = {"HTTP_X_HUB_SIGNATURE_256": meta_signature(body, secret=secret)}
    with _then_the_worker():
        return client.post(META_URL, body, content_type="application/json", **headers)


def providers_with_fake_twilio(settings):
    """Generator for a test module's autouse fixture: the providers' secrets set for signing, and the
    Twilio Messages API a local fake, so that automatic replies never reach the network."""
    from tests.fakes.twilio_api import FakeTwilioAPI

    settings.TWILIO_AUTH_TOKEN, settings.TWILIO_ACCOUNT_SID = TWILIO_TOKEN, ACCOUNT_SID
    settings.WHATSAPP_APP_SECRET, settings.WHATSAPP_ACCESS_TOKEN = META_APP_SECRET, ""
    settings.PUBLIC_BASE_URL = ""
    with FakeTwilioAPI(account_sid=ACCOUNT_SID, auth_token=TWILIO_TOKEN) as fake:
        settings.TWILIO_API_BASE = fake.url
        yield fake
