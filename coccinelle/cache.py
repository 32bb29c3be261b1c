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
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

_MISSING = object()


# Inside memoized(): values already read in this block, so that a batch of events asks the shared cache
# once per key (a round trip to Redis each time cost ~0.4 ms, measured by bench/processing_profile.py).
_memo: ContextVar[dict | None] = ContextVar("cache_memo", default=None)


@contextmanager
def memoized():
    """Within the block, remember() reads each key from the cache once. For one batch of the worker's
    (a second at most): a change saved meanwhile by another process reaches the next batch."""
    if _memo.get() is not None:
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def remember(key: str, load: Callable[[], object]):
    """The cached value of `key`, else `load()` (cached unless it is None: "not found" is not kept, so
    that a row created since is found at once, even by a process whose copy nobody can delete)."""
    memo = _memo.get()
    if memo is None:
        return _remember(key, load)
    if key not in memo:
        memo[key] = _remember(key, load)
    return memo[key]


def _remember(key: str, load: Callable[[], object]):
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
    memo = _memo.get()
    for key in keys if memo is not None else ():
        memo.pop(key, None)
    _delete(keys)
    transaction.on_commit(lambda: _delete(keys))


def _delete(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception as exc:  # noqa: BLE001 - the keys then expire on their own (CACHES' TIMEOUT)
        logger.warning("cache unavailable (%s): %s left to expire", type(exc).__name__, keys)


def is_shared() -> bool:
    """Whether every process sees the same cache (Redis), so that a flag set by one is seen by all."""
    return settings.CACHES["default"]["BACKEND"].endswith("RedisCache")


def flag_raise(key: str, seconds: float) -> bool:
    """Set the shared flag `key` for `seconds` unless it is set; True when this call set it. Without a
    shared cache, or when the cache does not answer, always True: the caller then does the work the
    flag would have saved (e.g. publishes a task that may find nothing to do), never less."""
    if not is_shared():
        return True
    try:
        return bool(cache.add(key, 1, timeout=seconds))
    except Exception as exc:  # noqa: BLE001
        logger.warning("cache unavailable (%s): flag %s not checked", type(exc).__name__, key)
        return True


def flag_lower(key: str) -> None:
    """Clear a flag set by flag_raise (nothing without a shared cache)."""
    if is_shared():
        _delete([key])
