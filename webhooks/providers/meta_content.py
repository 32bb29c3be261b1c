"""Meta WhatsApp message types: what each type carries, read into InboundMessage fields and `content`
(its keys are listed in webhooks/inbound.py). Split from meta.py, which walks the notification, checks
signatures and sends; everything here is a pure function of one message object.
"""

import json
import math

from webhooks.inbound import Location, Media

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
MEDIA_URL_PREFIX = "meta-media:"  # a media id to fetch from the Graph API, not a URL yet
MAX_ITEMS = 50  # contact cards, order lines, Flow answers kept per message
MAX_FLOW_JSON = 20_000  # characters of a Flow's response_json read


def content(message_type: str, message: dict) -> dict:
    """The InboundMessage fields of one message (see _content)."""
    return _content(message_type, message)


def _content(message_type: str, message: dict) -> dict:
    """The InboundMessage fields a message carries: text, media, location, button_reply and `content`
    (what the type carries beyond them; keys in webhooks/inbound.py), then what any type may carry:
    the message it answers (`context`), forwarded marks and a click-to-WhatsApp ad's referral."""
    body = message.get(message_type)
    if message_type in MEDIA_TYPES:
        fields = _media(_dict(body), message_type)
    elif message_type == "contacts":
        fields = {"content": {"contacts": _contacts(body)}}  # a list, not an object
    elif message_type in _READERS:
        fields = _READERS[message_type](_dict(body))
    else:
        fields = {"content": _unsupported(message_type, message)}
    context = _dict(message.get("context"))
    extra = {key: value for key, value in _context_content(context).items() if value}
    referral = _referral(_dict(message.get("referral")))
    if referral:
        extra["referral"] = referral
    if extra:
        fields["content"] = {**fields.get("content", {}), **extra}
    fields["context_id"] = _text(context.get("id"))
    fields["forwarded"] = bool(context.get("forwarded") or context.get("frequently_forwarded"))
    return fields


def _media(body: dict, message_type: str) -> dict:
    media_id = _text(body.get("id"))
    media = Media(
        url=MEDIA_URL_PREFIX + media_id,
        content_type=_text(body.get("mime_type")),
        filename=_text(body.get("filename"))[:255],
        sha256=_text(body.get("sha256")),
        media_id=media_id,
    )
    # A voice note is an audio recorded in WhatsApp (`voice: true`): the owner sees "voice message".
    content = {"voice": True} if message_type == "audio" and body.get("voice") is True else {}
    return {"media": (media,) if media_id else (), "text": _text(body.get("caption")), "content": content}


def _location(body: dict) -> Location | None:
    try:
        latitude, longitude = float(body["latitude"]), float(body["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):  # also rejects NaN
        return None
    return Location(latitude, longitude, name=_text(body.get("name")), address=_text(body.get("address")))


def _text_message(body: dict) -> dict:
    return {"text": _text(body.get("body"))}


def _location_message(body: dict) -> dict:
    return {"location": _location(body)}


def _contacts(cards) -> list[dict]:
    """Contact cards shared by the customer: a name, phones and e-mails each, as a person reads them."""
    shared = []
    for card in cards if isinstance(cards, list) else ():
        card = _dict(card)
        name = _dict(card.get("name"))
        full = _text(name.get("formatted_name")) or " ".join(
            part for part in (_text(name.get("first_name")), _text(name.get("last_name"))) if part
        )
        phones = [
            _text(_dict(p).get("phone")) or _text(_dict(p).get("wa_id")) for p in _list(card.get("phones"))
        ]
        emails = [_text(_dict(e).get("email")) for e in _list(card.get("emails"))]
        shared.append({"name": full, "phones": [p for p in phones if p], "emails": [e for e in emails if e]})
    return shared[:MAX_ITEMS]


def _interactive(body: dict) -> dict:
    """A tap on a reply button or a list row, or a Flow's answers (`nfm_reply`)."""
    kind = _text(body.get("type"))
    reply = _dict(body.get(kind)) or _dict(body.get("button_reply")) or _dict(body.get("list_reply"))
    if kind == "nfm_reply":
        content = {
            "interactive_type": kind,
            "title": _text(reply.get("name")),
            "description": _text(reply.get("body")),
            "response": _flow_answers(reply.get("response_json")),
        }
        return {"content": content}
    content = {
        "interactive_type": kind or ("list_reply" if "list_reply" in body else "button_reply"),
        "id": _text(reply.get("id")),
        "title": _text(reply.get("title")),
        "description": _text(reply.get("description")),
    }
    return {"button_reply": content["title"], "content": content}


def _flow_answers(response_json) -> dict:
    """A Flow's answers as readable "key: value" pairs. `response_json` is a JSON string written by the
    Flow: read with a size cap, never trusted to be an object; nested values are shown as compact JSON."""
    if isinstance(response_json, str) and len(response_json) <= MAX_FLOW_JSON:
        try:
            response_json = json.loads(response_json)
        except (ValueError, RecursionError):
            return {}
    if not isinstance(response_json, dict):
        return {}
    answers = {}
    for key, value in list(response_json.items())[:MAX_ITEMS]:
        if key == "flow_token":  # the business's own correlation token, not an answer
            continue
        text = _text(value) if not isinstance(value, dict | list) else json.dumps(value, ensure_ascii=False)
        answers[_text(key)[:100]] = (text if not isinstance(value, bool) else str(value).lower())[:500]
    return answers


def _template_button(body: dict) -> dict:
    """A quick-reply button of a template the shop sent: the text shown, and the payload it carries."""
    payload = _text(body.get("payload"))
    return {"button_reply": _text(body.get("text")) or payload, "content": {"payload": payload}}


def _order(body: dict) -> dict:
    items = []
    for item in _list(body.get("product_items"))[:MAX_ITEMS]:
        item = _dict(item)
        items.append(
            {
                "product_retailer_id": _text(item.get("product_retailer_id")),
                "quantity": _number(item.get("quantity")),
                "item_price": _number(item.get("item_price")),
                "currency": _text(item.get("currency")),
            }
        )
    text = _text(body.get("text"))
    order = {"catalog_id": _text(body.get("catalog_id")), "text": text, "items": items}
    return {"text": text, "content": {"order": order}}


def _reaction(body: dict) -> dict:
    emoji = _text(body.get("emoji"))
    return {"text": emoji, "content": {"target_id": _text(body.get("message_id")), "emoji": emoji}}


def _edit(body: dict) -> dict:
    """An edit of an earlier message. The shape is young (not in the v23.0 reference): the target is
    read from `original_message_id` (else `message_id`) and the new text from the nested `message`
    (text body or caption), else from `text.body`. Nothing is recorded as text: the pipeline puts the
    new text on the original."""
    new = _dict(body.get("message")) or body
    text = (
        _text(_dict(new.get("text")).get("body"))
        or _text(_dict(new.get(_text(new.get("type")))).get("caption"))
        or _text(new.get("body"))
    )
    return {"content": {"target_id": _target_id(body), "text": text}}


def _revoke(body: dict) -> dict:
    return {"content": {"target_id": _target_id(body)}}


def _target_id(body: dict) -> str:
    return _text(body.get("original_message_id")) or _text(body.get("message_id"))


def _system(body: dict) -> dict:
    content = {
        "system_type": _text(body.get("type")),
        "body": _text(body.get("body")),
        "new_wa_id": _text(body.get("wa_id")) or _text(body.get("new_wa_id")),
        "new_user_id": _text(body.get("user_id")) or _text(body.get("new_user_id")),
    }
    return {"content": content}


def _unsupported(message_type: str, message: dict) -> dict:
    """`unsupported` (Meta says what it is in `unsupported.type` when it knows) and any type this app
    does not read yet: kept, with Meta's error title, for the timeline's "cannot show yet"."""
    errors = _list(message.get("errors"))
    error = _dict(errors[0]) if errors else {}
    inner = _text(_dict(message.get("unsupported")).get("type"))
    return {
        "unsupported_type": inner or message_type,
        "error": _text(error.get("title")) or _text(error.get("message")),
    }


def _context_content(context: dict) -> dict:
    """What `context` tells beyond the answered id: a product asked about, forwarded many times."""
    product = _dict(context.get("referred_product"))
    return {
        "frequently_forwarded": context.get("frequently_forwarded") is True,
        "referred_product": {
            "catalog_id": _text(product.get("catalog_id")),
            "product_retailer_id": _text(product.get("product_retailer_id")),
        }
        if product
        else None,
    }


def _referral(referral: dict) -> dict:
    """A click-to-WhatsApp ad the customer came from (shown above their first message)."""
    keys = ("headline", "body", "source_url", "source_type", "source_id", "media_type")
    found = {key: _text(referral.get(key))[:1000] for key in keys}
    return found if any(found.values()) else {}


_READERS = {
    "text": _text_message,
    "location": _location_message,
    "interactive": _interactive,
    "button": _template_button,
    "order": _order,
    "reaction": _reaction,
    "edit": _edit,
    "revoke": _revoke,
    "system": _system,
}


# Small readers


def _text(value) -> str:
    """A field as text; NUL bytes removed (PostgreSQL refuses them), nested objects read as empty."""
    if value is None or isinstance(value, dict | list | bool):
        return ""
    return str(value).replace("\x00", "")


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _number(value) -> int | float | None:
    """A quantity or price as a number (Meta sends numbers; a string is read), else None."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            return value if math.isfinite(value) else None
        number = float(_text(value))
    except (ValueError, OverflowError):  # an integer too large for a float
        return None
    return (int(number) if number.is_integer() else number) if math.isfinite(number) else None
