"""Provider adapters: read Twilio and Meta webhooks into webhooks.inbound values, and send replies.

Each module (`twilio`, `meta`) verifies its provider's signature, parses its payloads and sends through
coccinelle.http; what they return is provider-neutral, so the pipeline never sees a vendor's field names.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class SendResult:
    """What a provider answered when it accepted an outbound message."""

    provider_message_id: str
    status: str
