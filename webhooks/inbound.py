"""What every provider module turns a webhook into: provider-neutral values the pipeline acts on."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Media:
    url: str  # Twilio: the MediaUrl; Meta: "meta-media:<id>" until downloaded
    content_type: str = ""
    filename: str = ""  # documents
    sha256: str = ""  # Meta gives it: checked after download
    media_id: str = ""  # Meta's media id


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    name: str = ""
    address: str = ""


@dataclass(frozen=True)
class InboundMessage:
    """One message a customer sent, as any provider delivers it.

    `shop_address` is the address it was sent to (a Twilio number, a Meta phone_number_id): it tells
    which shop it is for. `sender_phone` is E.164 when the sender has a phone number; WhatsApp users
    with a username may only have `sender_whatsapp_id`.
    """

    provider: str  # "twilio" | "meta"
    channel: str  # "sms" | "whatsapp"
    shop_address: str
    provider_message_id: str
    sender_phone: str | None
    sender_whatsapp_id: str | None
    sender_raw: str
    profile_name: str = ""
    text: str = ""
    media: tuple[Media, ...] = ()
    location: Location | None = None
    button_reply: str = ""
    message_type: str = "text"
    # What the type carries beyond text, media and location, readable by a person (stored as
    # Interaction.content; shown by templates/dashboard/_message_content.html). Keys by message_type
    # (each optional; every value is text unless said):
    # - audio: {"voice": True} for a voice note recorded in WhatsApp (image, video, sticker and
    #   document carry everything in `media` and the caption in `text`)
    # - contacts: {"contacts": [{"name", "phones": [...], "emails": [...]}]}
    # - interactive: button_reply / list_reply: {"interactive_type", "id", "title", "description"}
    #   (title also in button_reply); Flow answers: {"interactive_type": "nfm_reply", "title" (the
    #   Flow's name), "description" (its body), "response": {question: answer as text}} (flow_token
    #   left out); Twilio list replies: {"interactive_type": "list_reply", "id", "title"}
    # - button (template quick reply; Twilio ButtonPayload too): {"payload"}
    # - order: {"order": {"catalog_id", "text", "items": [{"product_retailer_id", "quantity" (number),
    #   "item_price" (number), "currency"}]}} (the order's text is also `text`)
    # - reaction: {"target_id", "emoji"} ("" emoji: the reaction was removed; `text` is the emoji)
    # - edit: {"target_id", "text"} (the new text or caption; `text` stays empty); revoke: {"target_id"}
    #   (reaction, edit and revoke change their target: webhooks/amendments.py)
    # - system: {"system_type", "body", "new_wa_id", "new_user_id"}
    # - unsupported (and unknown types): {"unsupported_type", "error"} (Meta's error title)
    # - any type: {"referral": {"headline", "body", "source_url", "source_type", "source_id",
    #   "media_type"}} from a click-to-WhatsApp ad; from `context`: {"frequently_forwarded": True},
    #   {"referred_product": {"catalog_id", "product_retailer_id"}} (a question about a product)
    content: dict = field(default_factory=dict)
    context_id: str = ""  # the provider's id of the message this one answers
    forwarded: bool = False
    timestamp: datetime | None = None
    raw: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery report for a message the shop sent."""

    provider: str
    provider_message_id: str
    status: str  # queued, sending, sent, delivered, read, failed, undelivered
    error_code: str = ""
    error_message: str = ""
    timestamp: datetime | None = None
    raw: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RawEvent:
    """One verified message or status as the provider sent it, ready to be stored on its own
    (webhooks.models.InboundEvent) and read by its provider module later, in the worker."""

    provider: str
    kind: str  # "message" | "status"
    key: str  # unique per provider: a message id, or "<message id>:<status>"
    shop_address: str  # the receiving address as sent
    sender: str  # the sender as sent ("" for statuses); events of one sender are processed in order
    payload: dict  # what the provider module's parser reads back


class MalformedWebhook(ValueError):
    """The request is not a webhook we can read; the message says what is wrong (for the log line)."""
