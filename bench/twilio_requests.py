"""Signed Twilio SMS webhooks for the benches: real-shaped forms, each with a new MessageSid.

A `Signer` numbers every message of a run, so no MessageSid is ever used twice, and signs each form for
the exact URL the server rebuilds (its PUBLIC_BASE_URL plus the path), as Twilio would.
"""

import itertools
import secrets
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

SHOP_NUMBER = "+33757000001"
WEBHOOK_PATH = "/webhooks/twilio/sms/"
ACCOUNT_SID = "AC" + "b3" * 16
# What customers of a boutique write; none asks for a person, so no escalation e-mail goes out.
TEXTS = [
    "Bonjour, vous êtes ouverts dimanche ?",
    "Bonjour, je m'appelle Julie Martin. Quels sont vos horaires ?",
    "Vous avez la robe rouge en 38 ?",
    "C'est où la boutique exactement ?",
    "Merci beaucoup, à samedi !",
]


class Signer:
    """Signed forms for one run. `new_senders` gives every message its own sender (first contact);
    `returning` cycles through a fixed pool of senders (customers who already wrote)."""

    def __init__(self, *, auth_token: str, url: str, returning_pool: int = 500):
        self.url = url
        self.validator = RequestValidator(auth_token)
        self.run_token = secrets.token_hex(8)  # 16 hex digits: a MessageSid is unique across runs too
        self.message_numbers = itertools.count()
        self.new_sender_numbers = itertools.count(10_000_000)
        self.returning_pool = returning_pool
        self.returning_numbers = itertools.cycle(range(returning_pool))

    def returning_senders(self) -> list[str]:
        return [_returning_phone(n) for n in range(self.returning_pool)]

    def form(self, sender: str) -> dict[str, str]:
        """The form of one new message from `sender` (a new MessageSid, the next text)."""
        number = next(self.message_numbers)
        return _form(f"SM{self.run_token}{number:016x}", sender, TEXTS[number % len(TEXTS)])

    def signed(self, sender: str) -> tuple[str, str]:
        """(X-Twilio-Signature, urlencoded body) of one new message from `sender`."""
        params = self.form(sender)
        return self.validator.compute_signature(self.url, params), urlencode(params)

    def new_senders(self, count: int) -> list[str]:
        """Numbers that never wrote before in this run."""
        return [f"+336{next(self.new_sender_numbers):08d}" for _ in range(count)]

    def batch(self, count: int, *, shape: str) -> list[tuple[str, str]]:
        if shape == "new":
            return [self.signed(sender) for sender in self.new_senders(count)]
        if shape == "returning":
            return [self.signed(_returning_phone(next(self.returning_numbers))) for _ in range(count)]
        raise ValueError(f"unknown load shape {shape!r}")


def _returning_phone(n: int) -> str:
    return f"+3378{n:07d}"


def _form(message_sid: str, sender: str, text: str) -> dict[str, str]:
    """The fields Twilio posts for an inbound SMS (as of 2024), empty ones included: they are signed too."""
    return {
        "ToCountry": "FR",
        "ToState": "",
        "SmsMessageSid": message_sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": message_sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": text,
        "FromCountry": "FR",
        "To": SHOP_NUMBER,
        "ToZip": "",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": message_sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
