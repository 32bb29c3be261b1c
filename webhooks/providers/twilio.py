"""Twilio SMS and WhatsApp: webhook signature, inbound and status parsing, TwiML replies, sending.

Twilio posts form fields; a field can repeat, and Twilio adds new fields without notice, so nothing here
assumes a fixed list of parameters (the signature covers whatever was sent).
"""

import math
import re
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import quote

from django.utils.translation import gettext_noop
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from coccinelle import http
from coccinelle.http import ExternalServiceError
from customers.phones import (
    WHATSAPP_PREFIX,
    InvalidChannelAddress,
    normalize_twilio_address,
    normalize_whatsapp_id,
    try_normalize_phone,
)
from webhooks.inbound import InboundMessage, Location, MalformedWebhook, Media, RawEvent, StatusUpdate
from webhooks.providers import SendResult
from webhooks.sensitive import MASKED_KEY, mask_stored, masked_kinds

PROVIDER = "twilio"
MAX_MEDIA = 10  # Twilio's own limit per message
_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
# WhatsApp username users may arrive as `whatsapp:FR.<id>` (unconfirmed by Twilio); parent ids carry
# extra dots (`US.ENT.<id>`).
_USERNAME_ID = re.compile(r"^[A-Za-z]{2}\.[A-Za-z0-9.]{1,140}$")
# Characters XML 1.0 cannot carry at all, even escaped: one of them would make the whole TwiML invalid.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
# Twilio error codes that change what the caller should do.
_TOO_MANY_REQUESTS = 20429
_AUTHENTICATE = 20003
_OUTSIDE_WINDOW = 63016
# Refusals a shop's person can act on, said in their words (webhooks.send_outcome shows them translated).
KNOWN_SEND_ERRORS = {
    21211: gettext_noop("Twilio 21211: the number is not a valid phone number."),
    21408: gettext_noop("Twilio 21408: sending to this country is not enabled on the Twilio account."),
    21610: gettext_noop("Twilio 21610: the customer replied STOP to this number; sending is blocked."),
    21614: gettext_noop("Twilio 21614: the number is not a mobile number and cannot receive SMS."),
    21655: gettext_noop("Twilio 21655: the template's Content SID is not known to the account."),
    63024: gettext_noop("Twilio 63024: the number is not on WhatsApp."),
}


class _Identifiers:
    """Form fields that are ids and addresses, never a customer's words: kept exactly as sent when a
    payload is masked (webhooks.sensitive), since the shop, the sender and the message are found by
    them. Everything else (Body, ProfileName, list titles, a referral's text...) is masked."""

    _NAMES = frozenset(
        {
            "MessageSid",
            "SmsMessageSid",
            "SmsSid",
            "AccountSid",
            "MessagingServiceSid",
            "OriginalRepliedMessageSid",
            "From",
            "To",
            "WaId",
            "ReferralSourceId",
            "ReferralCtwaClid",
            MASKED_KEY,
        }
    )

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return name in self._NAMES or name.startswith("MediaUrl") or bool(_USER_ID_PARAM.search(name))


IDENTIFIERS = _Identifiers()


def mask(payload: dict) -> dict:
    """The form with card numbers and IBANs masked outside its ids and addresses (webhooks.sensitive);
    the very dict when there was nothing to mask."""
    return mask_stored(payload, keep=IDENTIFIERS)


class _MultiValues(dict):
    """A dict of lists with the `getlist` RequestValidator looks for, so repeated fields are signed right."""

    def getlist(self, key):
        return self[key]


def verify(*, url: str, params: Mapping, signature: str, auth_token: str) -> bool:
    """True when `signature` (X-Twilio-Signature) is Twilio's for this URL and these form params.

    `url` must be the public URL Twilio requested, query string included. RequestValidator sorts names and
    values, tries the URL with and without the default port and compares in constant time. The raw values
    are signed, so `params` must not be cleaned first.
    """
    if not auth_token or not signature:
        return False
    values = _MultiValues({str(key): [str(v) for v in _values(params, key)] for key in params})
    return RequestValidator(auth_token).validate(url, values, signature)


def parse_inbound(params: Mapping, *, default_country: str = "FR") -> InboundMessage:
    """Read an incoming SMS or WhatsApp message from Twilio's form params (QueryDict or dict).

    `sender_raw` is the `From` field as received (NUL bytes removed). `default_country` only matters for
    a sender that is not in E.164, which Twilio rarely sends.
    """
    raw = _masked_raw(_flatten(params))
    message_sid = _first(raw, "MessageSid", "SmsMessageSid", "SmsSid")
    sender, to = _first(raw, "From"), _first(raw, "To")
    _require_sid(message_sid)
    if not sender or not to:
        raise MalformedWebhook("Twilio inbound without From or To")
    channel = "whatsapp" if sender.lower().startswith(WHATSAPP_PREFIX) else "sms"
    phone, whatsapp_id = _sender_identity(sender, raw, default_country)
    media, location = _media(raw), _location(raw)
    button = _first(raw, "ButtonText") or _first(raw, "ButtonPayload")
    return InboundMessage(
        provider=PROVIDER,
        channel=channel,
        shop_address=_shop_address(to, default_country),
        provider_message_id=message_sid,
        sender_phone=phone,
        sender_whatsapp_id=whatsapp_id,
        sender_raw=sender,
        profile_name=_first(raw, "ProfileName"),
        text=_first(raw, "Body", strip=False),
        media=media,
        location=location,
        button_reply=button,
        message_type=_message_type(button, location, media),
        content=_content(raw),
        context_id=_first(raw, "OriginalRepliedMessageSid"),
        forwarded=_first(raw, "Forwarded", "FrequentlyForwarded").lower() == "true",
        raw=raw,
    )


def parse_status(params: Mapping) -> StatusUpdate:
    """Read a status callback (MessageSid, MessageStatus, ErrorCode, ErrorMessage)."""
    raw = _flatten(params)
    message_sid = _first(raw, "MessageSid", "SmsSid")
    status = _first(raw, "MessageStatus", "SmsStatus").lower()
    _require_sid(message_sid)
    if not status:
        raise MalformedWebhook("Twilio status callback without MessageStatus")
    return StatusUpdate(
        provider=PROVIDER,
        provider_message_id=message_sid,
        status=status,
        error_code=_first(raw, "ErrorCode"),
        error_message=_first(raw, "ErrorMessage"),
        raw=raw,
    )


def inbound_event(params: Mapping) -> RawEvent:
    """An incoming message to store as it came: the form, keyed by its MessageSid. Only what the row
    needs is read here (the id, the receiving and the sending address, each required), so that a
    request no worker could ever read gets its 400 now (MalformedWebhook); the rest (the sender's
    number, media, location) is read by the worker (parse_inbound), off the provider's clock."""
    raw = _flatten(params)
    message_sid = _first(raw, "MessageSid", "SmsMessageSid", "SmsSid")
    _require_sid(message_sid)
    sender, to = _first(raw, "From"), _first(raw, "To")
    if not sender or not to:
        raise MalformedWebhook("Twilio inbound without From or To")
    return RawEvent(PROVIDER, "message", message_sid, to[:255], sender[:255], raw)


def status_event(params: Mapping, *, reply_id: str = "") -> RawEvent:
    """A delivery report to store: one message is queued, sent and delivered under one MessageSid, so
    the key is the pair. `reply_id` comes from the status URL of replies sent inline as TwiML before
    replies went through the API; it is kept for reports still arriving for them."""
    update = parse_status(params)
    payload = {**update.raw, "_reply_id": reply_id} if reply_id.isdigit() else update.raw
    return RawEvent(PROVIDER, "status", f"{update.provider_message_id}:{update.status}", "", "", payload)


def twiml(text: str | None, *, action: str = "") -> str:
    """The TwiML answer to a webhook: one reply message, or an empty <Response/> that sends nothing.

    `action`, when given, is the URL Twilio posts the reply's status callbacks to.
    """
    body = _XML_INVALID.sub("", text or "")
    if not body.strip():
        return _EMPTY_TWIML
    response = MessagingResponse()
    response.message(body, action=action or None)  # ElementTree escapes &, < and > (and quotes in attributes)
    return response.to_xml()


def send(
    *,
    from_address: str,
    to: str,
    body: str,
    channel: str,
    status_callback: str = "",
    account_sid: str,
    auth_token: str,
    api_base: str = "https://api.twilio.com",
    content_sid: str = "",
    content_variables: str = "",
) -> SendResult:
    """Send a text through Twilio's Messages API; raise ExternalServiceError when it is refused.

    With `content_sid` (an approved WhatsApp template, HX…) Twilio builds the text itself from the
    template and `content_variables` (a JSON string, {"1": "Julie"}); Body is then left out.
    """
    if channel not in ("sms", "whatsapp"):
        raise ValueError(f"Unknown Twilio channel {channel!r}")
    url = f"{api_base.rstrip('/')}/2010-04-01/Accounts/{quote(account_sid, safe='')}/Messages.json"
    data = {"To": _address(to, channel), "From": _address(from_address, channel)}
    if content_sid:
        data["ContentSid"] = content_sid
        if content_variables:
            data["ContentVariables"] = content_variables
    else:
        data["Body"] = body
    if status_callback:
        data["StatusCallback"] = status_callback
    try:
        response = http.request("POST", url, data=data, auth=(account_sid, auth_token))
    except ExternalServiceError as exc:
        raise _send_error(exc) from exc
    return _send_result(response)


# Reading params


def _values(params, key) -> list:
    if hasattr(params, "getlist"):
        return list(params.getlist(key))
    value = params[key]
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _clean(value) -> str:
    # NUL bytes are valid in a form field but PostgreSQL text columns refuse them.
    return "" if value is None else str(value).replace("\x00", "")


def _flatten(params) -> dict:
    """All params, cleaned: one value as a str, repeated ones as a list (the shape kept as `raw`)."""
    if not hasattr(params, "keys"):
        raise MalformedWebhook("Twilio params are not a mapping")
    flat = {}
    for key in params:
        values = [_clean(v) for v in _values(params, key)]
        flat[_clean(key)] = values[0] if len(values) == 1 else values
    return flat


def _masked_raw(raw: dict) -> dict:
    """The params masked again when read: events stored before masking existed, or through another
    path than the webhook, come out masked too; a stored `_masked` reads back as the list it was."""
    raw = mask(raw)
    if MASKED_KEY in raw:
        raw = {**raw, MASKED_KEY: masked_kinds(raw)}
    return raw


def _first(raw: dict, *names: str, strip: bool = True) -> str:
    """The first non-empty value among `names` (a repeated field gives its first value)."""
    for name in names:
        value = raw.get(name)
        if isinstance(value, list):
            value = value[0] if value else ""
        if value and (value.strip() or not strip):
            return value.strip() if strip else value
    return ""


def _require_sid(message_sid: str) -> None:
    if not message_sid:
        raise MalformedWebhook("Twilio webhook without MessageSid")
    if not _SID.match(message_sid):
        raise MalformedWebhook("MessageSid is not a Twilio SID")


def _strip_prefix(address: str) -> str:
    address = address.strip()
    if address.lower().startswith(WHATSAPP_PREFIX):
        return address[len(WHATSAPP_PREFIX) :].strip()
    return address


@lru_cache(maxsize=1024)
def _shop_address(to: str, country: str) -> str:
    # Cached: a shop receives on a few numbers, and reading one with phonenumbers costs ~0.1 ms a message.
    # Read the way ChannelAddress stores it (E.164 without `whatsapp:`, a short code's digits), so that
    # the shop lookup matches; anything else is kept as sent and will match no shop.
    try:
        return normalize_twilio_address(to, country)
    except InvalidChannelAddress:
        return _strip_prefix(to)


def _sender_identity(sender: str, raw: dict, country: str) -> tuple[str | None, str | None]:
    """(E.164 phone or None, WhatsApp user id or None) for the `From` as sent and the other params.

    On WhatsApp the number is read the way WhatsApp writes it (Mexico's `521…`, Brazil's 8-digit
    mobiles: customers.phones.normalize_whatsapp_id). A `From` that is neither (an alphanumeric
    sender) gives (None, None): the pipeline then knows the customer by the `From` itself.
    """
    address = _strip_prefix(sender)
    wa_id = _first(raw, "WaId")
    user_id = _user_id_param(raw) or (wa_id if _USERNAME_ID.match(wa_id) else None)
    if _USERNAME_ID.match(address):
        return None, user_id or address
    if sender.lower().startswith(WHATSAPP_PREFIX):
        phone = normalize_whatsapp_id(address) or normalize_whatsapp_id(wa_id)
    else:
        phone = try_normalize_phone(address, country)
    return phone or try_normalize_phone(address, country), user_id


# Twilio's naming of the WhatsApp user id of username users is unconfirmed (`ExternalUserId` is the
# announced one): any parameter whose name ends in "UserId" is read, its value kept as sent.
_USER_ID_PARAM = re.compile(r"user_?id$", re.IGNORECASE)
MAX_USER_ID = 140  # Customer.whatsapp_user_id


def _user_id_param(raw: dict) -> str | None:
    names = sorted((name for name in raw if _USER_ID_PARAM.search(name)), key=lambda n: n != "ExternalUserId")
    for name in names:
        value = _first(raw, name)
        if 0 < len(value) <= MAX_USER_ID:
            return value
    return None


def _media(raw: dict) -> tuple[Media, ...]:
    # Scan the numbered fields rather than trust NumMedia, capped at Twilio's maximum.
    found = []
    for index in range(MAX_MEDIA):
        url = _first(raw, f"MediaUrl{index}")
        if url:
            found.append(Media(url=url, content_type=_first(raw, f"MediaContentType{index}")))
    return tuple(found)


def _location(raw: dict) -> Location | None:
    latitude, longitude = _float(_first(raw, "Latitude")), _float(_first(raw, "Longitude"))
    if latitude is None or longitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return Location(latitude, longitude, name=_first(raw, "Label"), address=_first(raw, "Address"))


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _content(raw: dict) -> dict:
    """What Twilio's WhatsApp fields carry beyond text, media and location (keys in webhooks/inbound.py):
    a template button's payload, a list row chosen, an ad's referral, a "forwarded many times" mark."""
    content = {}
    if _first(raw, "ButtonPayload"):
        content["payload"] = _first(raw, "ButtonPayload")
    if _first(raw, "ListId") or _first(raw, "ListTitle"):
        list_reply = {
            "interactive_type": "list_reply",
            "id": _first(raw, "ListId"),
            "title": _first(raw, "ListTitle"),
        }
        content.update(list_reply)
    referral = {
        key: _first(raw, field)[:1000]
        for key, field in (
            ("headline", "ReferralHeadline"),
            ("body", "ReferralBody"),
            ("source_url", "ReferralSourceUrl"),
            ("source_type", "ReferralSourceType"),
            ("source_id", "ReferralSourceId"),
            ("media_type", "ReferralMediaContentType"),
        )
    }
    if any(referral.values()):
        content["referral"] = referral
    if _first(raw, "FrequentlyForwarded").lower() == "true":
        content["frequently_forwarded"] = True
    return content


def _message_type(button: str, location: Location | None, media: tuple) -> str:
    if button:
        return "button"
    if location is not None:
        return "location"
    return "media" if media else "text"


# Sending


def _address(address: str, channel: str) -> str:
    bare = _strip_prefix(address)
    return WHATSAPP_PREFIX + bare if channel == "whatsapp" else bare


def _send_error(exc: ExternalServiceError) -> ExternalServiceError:
    """Twilio's error code says more than the HTTP status; the message never carries credentials."""
    body = exc.body if isinstance(exc.body, dict) else {}
    code = body.get("code")
    if code == _TOO_MANY_REQUESTS or exc.status == 429:
        message, permanent = "Twilio rate limit (20429): not processed, safe to retry", False
    elif code == _OUTSIDE_WINDOW:
        message = "Twilio 63016: outside the WhatsApp 24-hour window; only an approved template can be sent"
        permanent = True
    elif code == _AUTHENTICATE or exc.status == 401:
        message, permanent = "Twilio refused the credentials (check the account SID and auth token)", True
    elif code in KNOWN_SEND_ERRORS:
        message, permanent = KNOWN_SEND_ERRORS[code], True
    else:
        return exc
    return ExternalServiceError(message, permanent=permanent, status=exc.status, body=exc.body)


def _send_result(response) -> SendResult:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not payload.get("sid"):
        # Twilio said 2xx, so the message may be on its way: a retry could send it twice.
        raise ExternalServiceError("Twilio accepted the message but gave no sid", permanent=True)
    return SendResult(provider_message_id=str(payload["sid"]), status=str(payload.get("status") or "queued"))


# Downloading media (webhooks.media)

# Twilio's API hosts; a MediaUrl answers with a redirect to a signed CDN URL, fetched without credentials.
MEDIA_HOST_DOMAINS = ("twilio.com",)
MAX_MEDIA_REDIRECTS = 3


def media_fetch(*, url: str, account_sid: str, auth_token: str, max_bytes: int, api_base: str = ""):
    """Download a MediaUrl's bytes: HTTP Basic (accounts with "HTTP Basic Authentication for media"
    need it) on Twilio's own hosts only; redirects are followed by hand so that the credentials never
    reach another host. Returns a providers.download.Downloaded; raises ExternalServiceError
    (MediaRefused when retrying cannot help)."""
    from urllib.parse import urljoin

    from webhooks.providers.download import MediaRefused, read_capped, vendor_owns

    def owned(address: str) -> bool:
        base = api_base or "https://api.twilio.com"
        return vendor_owns(address, configured_base=base, domains=MEDIA_HOST_DOMAINS)

    if not owned(url):
        raise MediaRefused("MediaUrl is not on a Twilio host")
    for _ in range(MAX_MEDIA_REDIRECTS + 1):
        auth = (account_sid, auth_token) if owned(url) and account_sid and auth_token else None
        response = http.request("GET", url, auth=auth, stream=True, allow_redirects=False)
        if not response.is_redirect:
            return read_capped(response, max_bytes=max_bytes)
        response.close()
        url = urljoin(url, response.headers.get("Location", ""))
        if not url.startswith(("https://", "http://")):
            raise MediaRefused("Twilio redirected to something that is not a web address")
    raise ExternalServiceError("too many redirects fetching Twilio media", permanent=False)
