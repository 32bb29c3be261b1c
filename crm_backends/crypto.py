"""Secrets at rest: Fernet (AES + HMAC) with keys from the environment.

CRM_ENCRYPTION_KEYS is a comma-separated list of keys; the first encrypts, all decrypt, so a key can be
rotated by putting the new one first. Any string works as a key (it is stretched with SHA-256); without
it, a key derived from SECRET_KEY is used and a system check warns outside DEBUG.
"""

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretsUnreadable(Exception):
    """Stored secrets cannot be decrypted with the configured keys (a key was changed or removed)."""


def _fernet(raw_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(raw_key.encode()).digest()))


def _keys() -> list[str]:
    keys = [k.strip() for k in settings.CRM_ENCRYPTION_KEYS if k.strip()]
    return keys or ["coccinelle-crm:" + settings.SECRET_KEY]


def encrypt(data: dict) -> str:
    if not data:
        return ""
    return MultiFernet([_fernet(k) for k in _keys()]).encrypt(json.dumps(data).encode()).decode()


def decrypt(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(MultiFernet([_fernet(k) for k in _keys()]).decrypt(token.encode()))
    except InvalidToken:
        raise SecretsUnreadable(
            "stored CRM credentials cannot be decrypted with CRM_ENCRYPTION_KEYS"
        ) from None


def mask(value: str) -> str:
    """What the admin shows of a secret: enough to recognise it, never enough to use it."""
    if not value:
        return ""
    return "•" * 8 + value[-4:] if len(value) > 8 else "•" * 8
