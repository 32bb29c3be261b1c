"""Webhook endpoints: check the size and the signature, store the event in one INSERT and answer at
once, the way each provider expects. Everything else happens in the worker (webhooks.inbound_events),
so a provider never waits on the pipeline, a CRM or a reply. No business logic here."""

import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from webhooks.inbound import MalformedWebhook
from webhooks.inbound_events import events_store
from webhooks.providers import meta, twilio

logger = logging.getLogger(__name__)


def _too_big(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > settings.WEBHOOK_MAX_BODY_BYTES
    except ValueError:
        return True


def _public_url(request) -> str:
    """The URL the provider signed: the public one, even behind a proxy that rewrites the host."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + request.get_full_path()
    return request.build_absolute_uri()


def _twiml() -> HttpResponse:
    """An empty TwiML answer: Twilio sends nothing; the reply, if any, goes out through the API."""
    return HttpResponse(twilio.twiml(None), content_type="text/xml; charset=utf-8")


def _bad_request(reason: str, status: int = 400) -> HttpResponse:
    return HttpResponse(reason, status=status, content_type="text/plain; charset=utf-8")


def _twilio_verified(request) -> bool:
    if not settings.WEBHOOK_VERIFY_SIGNATURES:
        return True
    if not settings.TWILIO_AUTH_TOKEN:
        logger.error("Twilio webhook refused: TWILIO_AUTH_TOKEN is not set, so no signature can be checked")
        return False
    return twilio.verify(
        url=_public_url(request),
        params=request.POST,
        signature=request.headers.get("X-Twilio-Signature", ""),
        auth_token=settings.TWILIO_AUTH_TOKEN,
    )


def _twilio_form(request):
    """The form Twilio posted, or an error answer (too big, unreadable, bad signature)."""
    if _too_big(request):
        logger.warning("Twilio webhook refused: body over %s bytes", settings.WEBHOOK_MAX_BODY_BYTES)
        return None, _bad_request("Request body too large.", 413)
    if not _twilio_verified(request):
        logger.warning("Twilio webhook refused: invalid X-Twilio-Signature for %s", _public_url(request))
        return None, HttpResponseForbidden("Invalid signature.")
    return request.POST, None


@csrf_exempt
@require_POST
# The form holds what the customer wrote, in clear until events_store masks it: an error report
# (DEBUG's page, a mail to admins) must not show it.
@sensitive_post_parameters()
def twilio_inbound(request):
    """Twilio SMS and WhatsApp messages (the `whatsapp:` prefix tells them apart): stored, then
    answered with an empty TwiML at once; the worker records the message and replies through the API."""
    form, refusal = _twilio_form(request)
    if refusal:
        return refusal
    try:
        events_store([twilio.inbound_event(form)])
    except MalformedWebhook as exc:
        logger.warning("Twilio webhook malformed: %s", exc)
        return _bad_request(f"Malformed webhook: {exc}")
    return _twiml()


@csrf_exempt
@require_POST
def twilio_status(request):
    """Twilio delivery reports, for messages sent through the API (and, from before persist-first,
    inline TwiML replies, whose status URL names the reply)."""
    form, refusal = _twilio_form(request)
    if refusal:
        return refusal
    try:
        events_store([twilio.status_event(form, reply_id=request.GET.get("reply", ""))])
    except MalformedWebhook as exc:
        logger.warning("Twilio status callback malformed: %s", exc)
        return _bad_request(f"Malformed status callback: {exc}")
    return HttpResponse(status=204)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp(request):
    """Meta WhatsApp Cloud API: the GET verification handshake and POSTed notifications."""
    if request.method == "GET":
        challenge = meta.handshake(request.GET, verify_token=settings.WHATSAPP_VERIFY_TOKEN)
        if challenge is None:
            logger.warning("WhatsApp verification handshake refused (wrong mode or verify token)")
            return HttpResponseForbidden("Verification failed.")
        return HttpResponse(challenge, content_type="text/plain")
    if _too_big(request):
        return _bad_request("Request body too large.", 413)
    raw = request.body
    if settings.WEBHOOK_VERIFY_SIGNATURES and not meta.verify_signature(
        raw_body=raw,
        header=request.headers.get("X-Hub-Signature-256", ""),
        app_secret=settings.WHATSAPP_APP_SECRET,
    ):
        logger.warning("WhatsApp webhook refused: invalid X-Hub-Signature-256")
        return HttpResponseForbidden("Invalid signature.")
    try:
        events = meta.split_notification(meta.decode_body(raw))
    except MalformedWebhook as exc:
        logger.warning("WhatsApp webhook malformed: %s", exc)
        return _bad_request(f"Malformed webhook: {exc}")
    # One multi-row INSERT for every message and status of the POST.
    events_store(events)
    # Always 200 once verified and readable: Meta retries anything else for days.
    return HttpResponse("OK", content_type="text/plain")
