"""Creating, revoking and checking a shop's API keys (the model is customers/models_keys.py)."""

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from customers.models import Shop
from customers.models_keys import SCOPE_RANK, ApiKey

KEY_PREFIX = "coc_"
# last_used_at is written at most this often, so that a busy integration does not write on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(
    *, shop: Shop, name: str, scope: str = ApiKey.Scope.READ, actor=None
) -> tuple[ApiKey, str]:
    """A new key for `shop`; returns the row and the key itself, which is never stored nor shown again."""
    if scope not in SCOPE_RANK:
        raise ValueError(f"Unknown scope {scope!r}: read, write or owner.")
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        shop=shop,
        name=name.strip()[:100] or "API key",
        scope=scope,
        prefix=raw[:12],
        key_hash=_hash(raw),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    return key, raw


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The live key `raw_key` is, with its shop; None for an unknown or revoked key."""
    if not raw_key.startswith(KEY_PREFIX):
        return None
    key = ApiKey.objects.select_related("shop").filter(key_hash=_hash(raw_key), revoked_at=None).first()
    if key is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def scope_allows(scope: str, needed: str) -> bool:
    return SCOPE_RANK.get(scope, -1) >= SCOPE_RANK[needed]
