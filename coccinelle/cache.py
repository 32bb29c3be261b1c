"""Cached lookups for the hot path: what every inbound event reads and almost never changes.

Values are ids and plain values (never a model instance, never a credential), kept in Django's cache
(settings.CACHES: Redis, shared by every process, or a short-lived local copy without it). The app that
owns a model deletes the keys read from it when a row is saved or deleted (signal handlers), at once and
again after the commit: a worker that read the old row from the database in between cannot keep it
cached past the commit. A cache that does not answer is logged and read through to the database: it
makes processing slower, never wrong.
"""

import logging
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

_MISSING = object()


def remember(key: str, load: Callable[[], object]):
    """The cached value of `key`, else `load()` (cached unless it is None: "not found" is not kept, so
    that a row created since is found at once, even by a process whose copy nobody can delete)."""
    try:
        value = cache.get(key, _MISSING)
    except Exception as exc:  # noqa: BLE001 - any cache failure: read the database instead
        logger.warning("cache unavailable (%s): reading %s from the database", type(exc).__name__, key)
        return load()
    if value is not _MISSING:
        return value
    value = load()
    if value is not None:
        try:
            cache.set(key, value)
        except Exception as exc:  # noqa: BLE001
            logger.warning("cache unavailable (%s): %s not kept", type(exc).__name__, key)
    return value


def forget(keys: Iterable[str]) -> None:
    """Delete `keys` now and once the current transaction commits (at once outside a transaction)."""
    keys = sorted(set(keys))
    if not keys:
        return
    _delete(keys)
    transaction.on_commit(lambda: _delete(keys))


def _delete(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception as exc:  # noqa: BLE001 - the keys then expire on their own (CACHES' TIMEOUT)
        logger.warning("cache unavailable (%s): %s left to expire", type(exc).__name__, keys)
