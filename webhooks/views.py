"""Webhook endpoints: check the size and the signature, parse with the provider module, hand the
values to the pipeline, and answer the way each provider expects. No business logic here."""

import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from webhooks.inbound import InboundMessage, MalformedWebhook
from webhooks.outbound import status_apply
from webhooks.pipeline import UnknownShopAddress, inbound_receive
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


def _twiml(text: str = "", *, action: str = "") -> HttpResponse:
    return HttpResponse(twilio.twiml(text or None, action=action), content_type="text/xml; charset=utf-8")


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
def twilio_inbound(request):
    """Twilio SMS and WhatsApp messages (the `whatsapp:` prefix tells them apart)."""
    form, refusal = _twilio_form(request)
    if refusal:
        return refusal
    try:
        message = twilio.parse_inbound(form)
        outcome = inbound_receive(message, inline_reply=True)
    except MalformedWebhook as exc:
        logger.warning("Twilio webhook malformed: %s", exc)
        return _bad_request(f"Malformed webhook: {exc}")
    except UnknownShopAddress as exc:
        # 200 with an empty answer: Twilio has nothing to retry, and the log says what to set up.
        logger.warning("Twilio webhook for no shop: %s", exc)
        return _twiml()
    action = ""
    if outcome.inline_reply_id:
        action = _status_url(request, outcome.inline_reply_id)
    return _twiml(outcome.inline_reply, action=action)


def _status_url(request, reply_id: int) -> str:
    path = f"{reverse('webhooks:twilio-status')}?reply={reply_id}"
    return settings.PUBLIC_BASE_URL + path if settings.PUBLIC_BASE_URL else request.build_absolute_uri(path)


@csrf_exempt
@require_POST
def twilio_status(request):
    """Twilio delivery reports, for messages sent through the API and inline TwiML replies."""
    form, refusal = _twilio_form(request)
    if refusal:
        return refusal
    try:
        update = twilio.parse_status(form)
    except MalformedWebhook as exc:
        logger.warning("Twilio status callback malformed: %s", exc)
        return _bad_request(f"Malformed status callback: {exc}")
    reply_id = request.GET.get("reply", "")
    status_apply(update, reply_id=int(reply_id) if reply_id.isdigit() else None)
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
        items = meta.parse_body(raw)
    except MalformedWebhook as exc:
        logger.warning("WhatsApp webhook malformed: %s", exc)
        return _bad_request(f"Malformed webhook: {exc}")
    for item in items:
        _handle_meta_item(item)
    # Always 200 once verified and readable: Meta retries anything else for days.
    return HttpResponse("OK", content_type="text/plain")


def _handle_meta_item(item) -> None:
    if not isinstance(item, InboundMessage):
        status_apply(item)
        return
    try:
        inbound_receive(item, inline_reply=False)
    except UnknownShopAddress as exc:
        logger.warning("WhatsApp message for no shop: %s", exc)
