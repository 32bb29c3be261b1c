"""The demo's stand-in for Twilio and Meta: accepts a message, sends it nowhere, calls it delivered.

`webhooks.outbound` routes a send here only when the real provider has no credentials and the
sandbox is allowed (DEBUG, or MESSAGING_SANDBOX=1), so that someone trying Coccinelle without an
account sees replies go out. Nothing here touches the network; the "SB" id says where it went.
"""

import logging
import secrets

from webhooks.providers import SendResult

logger = logging.getLogger(__name__)

PROVIDER = "sandbox"
ID_PREFIX = "SB"  # like Twilio's SM/MM ids, so that an id alone says "never left this server"


def send(*, channel: str, body: str) -> SendResult:
    """Accept an outbound text as the real providers would, and report it delivered to the sandbox."""
    if channel not in ("sms", "whatsapp"):
        raise ValueError(f"Unknown sandbox channel {channel!r}")
    message_id = ID_PREFIX + secrets.token_hex(16)
    # The length rather than the text or the number: logs outlive an erased customer.
    logger.info("sandbox: %s message %s of %d characters not sent to a phone", channel, message_id, len(body))
    return SendResult(provider_message_id=message_id, status="delivered")
