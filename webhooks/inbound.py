"""What every provider module turns a webhook into: provider-neutral values the pipeline acts on."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Media:
    url: str
    content_type: str = ""


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
