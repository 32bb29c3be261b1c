"""The signature a receiver checks: `X-Coccinelle-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` of
f"{t}.{body}" with the endpoint's secret (Stripe's scheme: the timestamp inside the MAC stops replays
of an old body). The README's *Outgoing webhooks* section shows how a receiver verifies it."""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Coccinelle-Signature"


def signature(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def headers(*, secret: str, body: bytes, event_type: str, delivery_uid: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Coccinelle-Event": event_type,
        "X-Coccinelle-Delivery": delivery_uid,
        SIGNATURE_HEADER: signature(secret, body),
    }
