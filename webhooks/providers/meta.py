"""Meta WhatsApp Cloud API: webhook signature and handshake, notification parsing, sending text.

One notification can carry several entries, changes, messages and statuses, from several senders; a
piece that cannot be read is skipped with a warning so that the rest of the batch is not lost (Meta would
otherwise retry the whole POST for days).
"""

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import quote

from django.utils.translation import gettext_noop

from coccinelle import http
from coccinelle.http import ExternalServiceError
from customers.phones import InvalidChannelAddress, normalize_meta_phone_number_id, normalize_whatsapp_id
from webhooks.inbound import InboundMessage, MalformedWebhook, RawEvent, StatusUpdate
from webhooks.providers import SendResult
from webhooks.providers.meta_content import _text
from webhooks.providers.meta_content import content as read_content
from webhooks.sensitive import MASKED_KEY, mask_payload, mask_stored, masked_kinds

logger = logging.getLogger(__name__)

PROVIDER = "meta"
MAX_TEXT = 4096  # Cloud API limit for text.body
# Reply buttons (interactive type "button"): at most 3, titles of 20 characters, a body of 1024.
MAX_BUTTONS, MAX_BUTTON_TITLE, MAX_INTERACTIVE_BODY = 3, 20, 1024
MAX_DEPTH = 32  # nesting of lists and objects; Meta's notifications go about 12 deep
_SIGNATURE = re.compile(r"^sha256=([0-9a-fA-F]{64})$")
# Business-scoped user ids: `FR.<id>`, or `US.ENT.<id>` for a parent id.
_USER_ID = re.compile(r"^[A-Za-z]{2}\.[A-Za-z0-9.]{1,140}$")
MAX_USER_ID = 140  # Customer.whatsapp_user_id
# Throughput (130429), pair rate (131056), app (4) and account (80007) limits: all pass with time.
_TRANSIENT_CODES = {4, 429, 80007, 130429, 131056}
_AUTH_CODES = {190, 401}
_OUTSIDE_WINDOW = 131047
# Refusals a shop's person can act on, said in their words (webhooks.send_outcome shows them translated).
KNOWN_SEND_ERRORS = {
    131049: gettext_noop("Meta 131049: WhatsApp held back this marketing message."),
    132000: gettext_noop("Meta 132000: the template's parameters do not match the approved template."),
    132001: gettext_noop("Meta 132001: the template does not exist in this language (or is not approved)."),
}
# Keys whose values are ids, addresses and times, never a customer's words: kept exactly as sent when a
# payload is masked (webhooks.sensitive), since the shop, the sender and the messages are found by
# them (a phone_number_id or an ad's source_id can be 15 digits that pass Luhn). Everything else
# (text bodies, captions, titles, contact cards, locations' names, orders' text, edits) is masked.
IDENTIFIERS = frozenset(
    {
        "id",
        "from",
        "wa_id",
        "user_id",
        "from_user_id",
        "recipient_id",
        "phone_number_id",
        "display_phone_number",
        "timestamp",
        "message_id",
        "original_message_id",
        "new_wa_id",
        "new_user_id",
        "catalog_id",
        "product_retailer_id",
        "source_id",
        "ctwa_clid",
        "sha256",
        MASKED_KEY,
    }
)


def mask(payload: dict) -> dict:
    """The notification with card numbers and IBANs masked outside its ids (webhooks.sensitive); the
    very dict when there was nothing to mask."""
    return mask_stored(payload, keep=IDENTIFIERS)


def verify_signature(*, raw_body: bytes, header: str, app_secret: str) -> bool:
    """True when X-Hub-Signature-256 is the HMAC-SHA256 of the raw request bytes with the app secret.

    Check the bytes as received: re-serialised JSON differs (escaping of non-ASCII, spacing).
    """
    if not app_secret or not header or not isinstance(raw_body, bytes):
        return False
    match = _SIGNATURE.match(header.strip())
    if not match:
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(1).lower())


def handshake(params: Mapping, *, verify_token: str) -> str | None:
    """The hub.challenge to answer when Meta verifies the webhook URL, or None (answer 403)."""
    if not verify_token:
        return None  # an unset token must never match an empty one
    mode, token = _param(params, "hub.mode"), _param(params, "hub.verify_token")
    challenge = _param(params, "hub.challenge")
    if mode != "subscribe" or not challenge:
        return None
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return challenge


def decode_body(raw_body: bytes) -> dict:
    """The JSON of a request body; MalformedWebhook when it is not readable JSON.

    A validly signed body can still be hostile: JSON nested thousands deep makes the decoder (or any
    recursive walk after it, down to the admin's pretty-printer) raise RecursionError. Real notifications
    are about a dozen levels deep, so anything past MAX_DEPTH is refused before it goes further.
    """
    try:
        payload = json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedWebhook(f"not UTF-8 JSON: {exc}") from None
    except RecursionError:
        raise MalformedWebhook(f"JSON nested more than {MAX_DEPTH} levels deep") from None
    if _deeper_than(payload, MAX_DEPTH):
        raise MalformedWebhook(f"JSON nested more than {MAX_DEPTH} levels deep")
    return payload


def parse_body(raw_body: bytes) -> list[InboundMessage | StatusUpdate]:
    """parse_notification of a raw request body (see decode_body)."""
    return parse_notification(decode_body(raw_body))


def parse_notification(payload: dict) -> list[InboundMessage | StatusUpdate]:
    """Every message and status in a webhook body, in order.

    Raises MalformedWebhook only when the body as a whole is not a WhatsApp notification (not a dict,
    `object` is not "whatsapp_business_account", `entry` is not a list). Inside it, anything unreadable
    is skipped with a logged warning and the rest is returned: non-dict entries, changes, values,
    messages or statuses; a change whose metadata has no phone_number_id (no shop to route to); a
    message without `id` (it could not be deduplicated) or without any sender identity; a status
    without `id` or `status`. Changes for fields other than "messages" are ignored.
    """
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise MalformedWebhook("not a whatsapp_business_account notification")
    # Masked again when read: events stored before masking existed, or through another path than the
    # webhook, give masked messages too.
    payload = mask(payload)
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise MalformedWebhook("notification without an entry list")
    results = []
    for value in _values(entries):
        results.extend(_parse_value(value))
    kinds = masked_kinds(payload)
    if kinds:  # on the timeline's raw payload too, where the reply side reads the message
        results = [_noted(item, kinds) if isinstance(item, InboundMessage) else item for item in results]
    return results


def _noted(message: InboundMessage, kinds: list[str]) -> InboundMessage:
    return replace(message, raw={**message.raw, MASKED_KEY: kinds})


def send_buttons(*, buttons: list[dict], body: str, **graph) -> SendResult:
    """Send `body` with reply buttons under it ([{"id", "title"}], at most 3): the customer taps one
    instead of typing, and its title comes back as their answer (an `interactive` button_reply).
    Meta's limits: body 1024 characters, titles 20 and unique, ids 256."""
    chosen = []
    for button in buttons[:MAX_BUTTONS]:
        title = str(button["title"]).strip()[:MAX_BUTTON_TITLE]
        if title and title not in {b["reply"]["title"] for b in chosen}:
            chosen.append({"type": "reply", "reply": {"id": str(button["id"])[:256], "title": title}})
    if not chosen or len(body) > MAX_INTERACTIVE_BODY:
        return send_text(body=body, **graph)  # nothing Meta would take as buttons: the text says "reply YES"
    interactive = {"type": "button", "body": {"text": body}, "action": {"buttons": chosen}}
    return _send_message({"type": "interactive", "interactive": interactive}, **graph)


def send_text(
    *,
    phone_number_id: str,
    to: str,
    body: str,
    access_token: str,
    graph_base: str = "https://graph.facebook.com",
    graph_version: str = "v23.0",
    reply_to: str = "",
) -> SendResult:
    """Send a free-text WhatsApp message; raise ExternalServiceError when Meta refuses it.

    `to` may be E.164, bare digits (sent as digits) or a business-scoped user id (`FR.…`). Status
    "accepted" means Meta took it: delivery, or a 131047 failure outside the 24-hour window, arrives
    later as a status webhook.
    """
    message = {"type": "text", "text": {"body": body[:MAX_TEXT]}}
    return _send_message(
        message,
        phone_number_id=phone_number_id,
        to=to,
        access_token=access_token,
        graph_base=graph_base,
        graph_version=graph_version,
        reply_to=reply_to,
    )


def _send_message(
    content: dict,
    *,
    phone_number_id: str,
    to: str,
    access_token: str,
    graph_base: str = "https://graph.facebook.com",
    graph_version: str = "v23.0",
    reply_to: str = "",
) -> SendResult:
    url = f"{graph_base.rstrip('/')}/{graph_version}/{quote(phone_number_id, safe='')}/messages"
    message = {"messaging_product": "whatsapp", "recipient_type": "individual", **_recipient(to), **content}
    if reply_to:
        message["context"] = {"message_id": reply_to}
    headers = {"Authorization": f"Bearer {access_token}"}
    try:
        response = http.request("POST", url, json=message, headers=headers)
    except ExternalServiceError as exc:
        raise _send_error(exc) from exc
    return _send_result(response)


# Splitting a notification into stored events


def split_notification(payload: dict) -> list[RawEvent]:
    """Every message and status of a webhook body as its own event, in order.

    Each keeps its entry id, metadata and contacts, so that processing or replaying it later reads
    exactly what Meta sent. Raises MalformedWebhook when the body is not a WhatsApp notification.
    A message without an id is keyed by a digest of its content, so that it is stored (and a retry of
    the same body still stored once) instead of dropped.
    """
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise MalformedWebhook("not a whatsapp_business_account notification")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise MalformedWebhook("notification without an entry list")
    events = []
    for entry in _dicts(entries, "entry"):
        for change in _dicts(entry.get("changes"), "changes"):
            value = change.get("value")
            if change.get("field", "messages") != "messages" or not isinstance(value, dict):
                continue
            events.extend(_split_value(entry, value))
    return events


def _split_value(entry: dict, value: dict) -> list[RawEvent]:
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    shop_address = _text(metadata.get("phone_number_id"))
    common = {name: item for name, item in value.items() if name not in ("messages", "statuses")}

    def alone(name: str, item: dict) -> dict:
        one = {**common, name: [item]}
        return _scrub(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": entry.get("id"), "changes": [{"field": "messages", "value": one}]}],
            }
        )

    events = []
    for message in _dicts(value.get("messages"), "messages"):
        sender = (
            _text(message.get("from")) or _text(message.get("user_id")) or _text(message.get("from_user_id"))
        )
        # The digest of the masked message: one of the clear one would let anyone holding the stored
        # row try every card number until the key matches.
        key = _text(message.get("id")) or "sha256:" + _digest(mask_payload(message, keep=IDENTIFIERS)[0])
        payload = alone("messages", message)
        events.append(RawEvent(PROVIDER, "message", key[:255], shop_address[:255], sender[:255], payload))
    for status in _dicts(value.get("statuses"), "statuses"):
        key = f"{_text(status.get('id'))}:{_text(status.get('status')).lower()}"
        if key.startswith(":"):
            key = "sha256:" + _digest(status)
        payload = alone("statuses", status)
        events.append(RawEvent(PROVIDER, "status", key[:255], shop_address[:255], "", payload))
    return events


def _digest(item: dict) -> str:
    return hashlib.sha256(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()


# Walking the notification


def _dicts(items, what: str):
    """The dict elements of a list; anything else is logged and skipped."""
    if items is None:
        return
    if not isinstance(items, list):
        logger.warning("Meta webhook: %s is not a list, skipped", what)
        return
    for item in items:
        if isinstance(item, dict):
            yield item
        else:
            logger.warning("Meta webhook: a %s element is not an object, skipped", what)


def _values(entries: list):
    for entry in _dicts(entries, "entry"):
        for change in _dicts(entry.get("changes"), "changes"):
            if change.get("field", "messages") != "messages":
                continue  # group and account updates are not conversations
            value = change.get("value")
            if isinstance(value, dict):
                yield value
            else:
                logger.warning("Meta webhook: a change without a value object, skipped")


def _parse_value(value: dict) -> list[InboundMessage | StatusUpdate]:
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    shop_address = _phone_number_id(metadata.get("phone_number_id"))
    if not shop_address:
        logger.warning("Meta webhook: a change without metadata.phone_number_id, skipped")
        return []
    contacts = list(_dicts(value.get("contacts"), "contacts"))
    results = []
    for message in _dicts(value.get("messages"), "messages"):
        parsed = _message(message, shop_address, contacts, metadata)
        if parsed is not None:
            results.append(parsed)
    for status in _dicts(value.get("statuses"), "statuses"):
        parsed = _status(status, metadata)
        if parsed is not None:
            results.append(parsed)
    return results


# Messages


def _message(message: dict, shop_address: str, contacts: list, metadata: dict) -> InboundMessage | None:
    message_id = _text(message.get("id"))
    if not message_id:
        logger.warning("Meta webhook: a message without id, skipped (type %s)", _text(message.get("type")))
        return None
    contact = _contact_for(message, contacts)
    phone, user_id, sender_raw = _sender(message, contact)
    if phone is None and user_id is None and not sender_raw.strip():
        # Any identifier at all becomes a customer (by that address, see pipeline._identify); none
        # leaves no one to attach the message to.
        logger.warning("Meta webhook: message %s has no sender at all, skipped", message_id)
        return None
    message_type = _text(message.get("type")) or "unknown"
    content = read_content(message_type, message)
    return InboundMessage(
        provider=PROVIDER,
        channel="whatsapp",
        shop_address=shop_address,
        provider_message_id=message_id,
        sender_phone=phone,
        sender_whatsapp_id=user_id,
        sender_raw=sender_raw,
        profile_name=_profile_name(contact),
        message_type=message_type,
        timestamp=_timestamp(message.get("timestamp")),
        raw=_scrub({**message, "metadata": metadata}),
        **content,
    )


def _contact_for(message: dict, contacts: list) -> dict:
    """The contacts[] element describing this message's sender (by wa_id or user_id, else the only one)."""
    keys = {_text(message.get(name)) for name in ("from", "user_id", "from_user_id")} - {""}
    for contact in contacts:
        if {_text(contact.get("wa_id")), _text(contact.get("user_id"))} & keys:
            return contact
    return contacts[0] if len(contacts) == 1 else {}


def _sender(message: dict, contact: dict) -> tuple[str | None, str | None, str]:
    """(E.164 phone or None, business-scoped user id or None, the identifier as sent).

    The wa_id is read the way WhatsApp writes it (Mexico's `521…`, Brazil's 8-digit mobiles: see
    customers.phones.normalize_whatsapp_id). The identifier as sent is kept whatever it is: with no
    phone or user id read, it identifies the customer on its own (Customer.external_address).
    """
    sender = (_text(message.get("from")) or _text(contact.get("wa_id"))).strip()
    user_id = (
        _text(message.get("user_id")) or _text(message.get("from_user_id")) or _text(contact.get("user_id"))
    ).strip()
    if _USER_ID.match(sender):  # a username user whose id arrives in `from`
        return None, user_id or sender, sender
    phone = normalize_whatsapp_id(sender) if sender else None
    # The id format is young and may change: keep any id that fits the customer field.
    return phone, (user_id if 0 < len(user_id) <= MAX_USER_ID else None), sender or user_id


def _profile_name(contact: dict) -> str:
    profile = contact.get("profile")
    return _text(profile.get("name")).strip() if isinstance(profile, dict) else ""


# Statuses


def _status(status: dict, metadata: dict) -> StatusUpdate | None:
    status_id, state = _text(status.get("id")), _text(status.get("status")).lower()
    if not status_id or not state:
        logger.warning("Meta webhook: a status without id or status, skipped")
        return None
    errors = status.get("errors")
    error = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    return StatusUpdate(
        provider=PROVIDER,
        provider_message_id=status_id,
        status=state,
        error_code=_text(error.get("code")),
        error_message=_text(error.get("title")) or _text(error.get("message")),
        timestamp=_timestamp(status.get("timestamp")),
        raw=_scrub({**status, "metadata": metadata}),
    )


# Small readers
def _phone_number_id(value) -> str:
    """The receiving phone_number_id the way ChannelAddress stores it (digits), so the shop lookup matches."""
    text = _text(value)
    try:
        return normalize_meta_phone_number_id(text) if text.strip() else ""
    except InvalidChannelAddress:
        return text  # matches no shop: logged as unknown


def _deeper_than(value, limit: int) -> bool:
    """True when lists and objects nest more than `limit` deep (a loop, not recursion: see parse_body)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        if children and depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def _scrub(value):
    """A copy of a JSON value without NUL bytes (PostgreSQL jsonb refuses \\u0000 as well)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_scrub(key): _scrub(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value


def _timestamp(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value)), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _param(params, name: str) -> str:
    value = params.get(name) if hasattr(params, "get") else None
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return value if isinstance(value, str) else ""


# Sending


def _recipient(to: str) -> dict:
    """`to` with the number's digits, or `recipient` with a username user's business-scoped id.

    The `recipient` field for ids is the 2026 username change as announced (unconfirmed here): stripping
    an id to digits would address a wrong number.
    """
    to = to.strip()
    if _USER_ID.match(to):
        return {"recipient": to}
    return {"to": "".join(ch for ch in to if ch.isdigit())}


def _send_error(exc: ExternalServiceError) -> ExternalServiceError:
    """Meta's error code says more than the HTTP status; the message never carries the token."""
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    code = error.get("code")
    if code in _TRANSIENT_CODES or exc.status == 429:
        message, permanent = f"Meta rate limit ({code or 429}): safe to retry later", False
    elif code in _AUTH_CODES or exc.status == 401:
        message, permanent = "Meta access token expired or invalid", True
    elif code == _OUTSIDE_WINDOW:
        message = "Meta 131047: outside the 24-hour window; only an approved template can be sent"
        permanent = True
    elif code in KNOWN_SEND_ERRORS:
        message, permanent = KNOWN_SEND_ERRORS[code], True
    else:
        return exc
    return ExternalServiceError(message, permanent=permanent, status=exc.status, body=exc.body)


def _send_result(response) -> SendResult:
    try:
        payload = response.json()
        message_id = payload["messages"][0]["id"]
    except (ValueError, KeyError, IndexError, TypeError):
        message_id = None
    if not message_id:
        # Meta said 2xx, so the message may be on its way: a retry could send it twice.
        raise ExternalServiceError("Meta accepted the message but gave no message id", permanent=True)
    return SendResult(provider_message_id=str(message_id), status="accepted")


# Downloading media (webhooks.media)

# Meta serves media bytes from its own CDN hosts (lookaside.fbsbx.com today); the token goes nowhere else.
MEDIA_HOST_DOMAINS = ("facebook.com", "fbsbx.com", "fbcdn.net", "whatsapp.net", "whatsapp.com")


def media_fetch(
    *,
    media_id: str,
    access_token: str,
    max_bytes: int,
    graph_base: str = "https://graph.facebook.com",
    graph_version: str = "v23.0",
):
    """Download a media id's bytes: `GET /{version}/{media_id}` gives a URL (valid 5 minutes) with its
    mime_type, sha256 and file_size; that URL is read with the same Bearer token.

    Returns a providers.download.Downloaded; the sha256 Meta states is checked by the caller (it is
    in the webhook too). Raises ExternalServiceError (MediaRefused when retrying cannot help).
    """
    from webhooks.providers.download import MediaRefused, read_capped, vendor_owns

    headers = {"Authorization": f"Bearer {access_token}"}
    url = f"{graph_base.rstrip('/')}/{graph_version}/{quote(media_id, safe='')}"
    try:
        info = http.request("GET", url, headers=headers).json()
    except ValueError as exc:
        raise ExternalServiceError("Meta media lookup: not JSON", permanent=False) from exc
    except ExternalServiceError as exc:
        raise _send_error(exc) from exc
    if not isinstance(info, dict) or not isinstance(info.get("url"), str):
        raise ExternalServiceError("Meta media lookup gave no url", permanent=False)
    size = str(info.get("file_size") or "")
    if size.isdigit() and int(size) > max_bytes:
        raise MediaRefused(f"file too big: {int(size)} bytes (limit {max_bytes})")
    if not vendor_owns(info["url"], configured_base=graph_base, domains=MEDIA_HOST_DOMAINS):
        raise MediaRefused("media URL is not on a Meta host: not fetched with the token")
    try:
        # No redirect: one to another host would carry the token there.
        response = http.request("GET", info["url"], headers=headers, stream=True, allow_redirects=False)
    except ExternalServiceError as exc:
        raise _send_error(exc) from exc
    if response.is_redirect:
        response.close()
        raise ExternalServiceError("Meta media URL redirected: not followed with the token", permanent=False)
    downloaded = read_capped(response, max_bytes=max_bytes, content_type=_text(info.get("mime_type")))
    downloaded.stated_sha256 = _text(info.get("sha256"))
    return downloaded
