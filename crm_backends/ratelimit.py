"""Client-side rate limiting: never send more than N requests in any rolling window.

One limiter per vendor credential (a HubSpot private-app token or portal, a Salesforce org): the
vendor counts requests per credential, whichever worker process or shop sends them. With REDIS_URL
the count lives in Redis (a sorted set of send times, checked and added to by one Lua script, on
Redis's clock), so every worker shares it; without Redis, or while Redis does not answer, each process
counts for itself (enough for one worker). The vendor's own headers are honoured on top (see the
HubSpot client).

The Redis key is an HMAC of the caller's key: a credential passed as the key never reaches Redis.
"""

import hashlib
import hmac
import logging
import threading
import time
import uuid
from collections import deque

from django.conf import settings

logger = logging.getLogger(__name__)

# After Redis failed to answer, count in the process for this long before asking Redis again (a dead
# Redis would otherwise cost a connect timeout on every request).
REDIS_RETRY_SECONDS = 30.0


def _with_margin(window_seconds: float) -> float:
    # The vendor's window starts when a request arrives, a little after we sent it: a margin keeps the
    # request that opens our next window out of the vendor's current one.
    return window_seconds + max(0.2, window_seconds * 0.05)


class SlidingWindowLimiter:
    """In-process: per process, for one key."""

    def __init__(self, max_requests: int, window_seconds: float, *, clock=time.monotonic, sleep=time.sleep):
        self.max_requests = max_requests
        self.window = _with_margin(window_seconds)
        self._clock, self._sleep = clock, sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until one more request fits in the window, then count it."""
        while wait := self.try_acquire():
            self._sleep(wait)

    def try_acquire(self) -> float:
        """Count one more request if it fits now and return 0; else return how long to wait.

        For callers that must not block (a person waiting on a page)."""
        with self._lock:
            now = self._clock()
            while self._sent and now - self._sent[0] >= self.window:
                self._sent.popleft()
            if len(self._sent) < self.max_requests:
                self._sent.append(now)
                return 0.0
            return max(self.window - (now - self._sent[0]), 0.001)

    def pause(self, seconds: float) -> None:
        """The vendor said to slow down: fill the window so nothing is sent for `seconds`."""
        with self._lock:
            until = self._clock() + seconds - self.window
            self._sent = deque([until] * self.max_requests)


# KEYS[1]: sorted set of send times (ms); KEYS[2]: the pause marker.
# ARGV: max requests, window (ms), a unique member. Returns 0 (counted) or the wait in ms.
_ACQUIRE = """
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1)
"""

# KEYS[1]: the pause marker; ARGV[1]: ms. A longer pause already running is kept.
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 0
"""


class RedisSlidingWindowLimiter:
    """Shared by every process that uses the same Redis and key; same interface as the in-process one,
    which it falls back to while Redis does not answer."""

    def __init__(self, key, max_requests: int, window_seconds: float, *, url: str, sleep=time.sleep):
        import redis

        self.max_requests = max_requests
        self.window = _with_margin(window_seconds)
        self._sleep = sleep
        name = "coccinelle:crm-ratelimit:" + redis_key_digest(key)
        self._keys = [name, name + ":pause"]
        self._client = _redis_client(url)
        self._acquire_script = self._client.register_script(_ACQUIRE)
        self._pause_script = self._client.register_script(_PAUSE)
        self._redis_errors = (redis.RedisError, OSError)
        self._local = SlidingWindowLimiter(max_requests, window_seconds, sleep=sleep)
        self._redis_down_until = 0.0

    def acquire(self) -> None:
        while wait := self.try_acquire():
            self._sleep(wait)

    def try_acquire(self) -> float:
        if self._use_local():
            return self._local.try_acquire()
        member = uuid.uuid4().hex
        try:
            wait_ms = self._acquire_script(
                keys=self._keys, args=[self.max_requests, int(self.window * 1000), member]
            )
        except self._redis_errors as exc:
            self._redis_failed(exc)
            return self._local.try_acquire()
        return int(wait_ms) / 1000.0

    def pause(self, seconds: float) -> None:
        self._local.pause(seconds)  # also held back here should Redis stop answering meanwhile
        if self._use_local():
            return
        try:
            self._pause_script(keys=self._keys[1:], args=[max(int(seconds * 1000), 1)])
        except self._redis_errors as exc:
            self._redis_failed(exc)

    def _use_local(self) -> bool:
        return time.monotonic() < self._redis_down_until

    def _redis_failed(self, exc) -> None:
        logger.warning(
            "CRM rate limit: Redis unavailable (%s); counting in this process for %.0f s",
            type(exc).__name__,
            REDIS_RETRY_SECONDS,
        )
        self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS


def redis_key_digest(key) -> str:
    """A stable name for `key` that reveals nothing of it (keyed with SECRET_KEY: a credential, even a
    short one, cannot be recovered from the name by guessing)."""
    return hmac.new(settings.SECRET_KEY.encode(), repr(key).encode(), hashlib.sha256).hexdigest()[:40]


def credential_key(vendor: str, *parts) -> tuple[str, str]:
    """The limiter key for a vendor credential (a token, or an OAuth app and portal): connections that
    share it share one limit, and the credential itself is kept nowhere, not even in this process's
    registry of limiters."""
    return vendor, redis_key_digest((vendor, *(str(p) for p in parts)))


_clients: dict[str, object] = {}
_limiters: dict[tuple, SlidingWindowLimiter | RedisSlidingWindowLimiter] = {}
_registry_lock = threading.Lock()


def _redis_client(url: str):
    import redis

    with _registry_lock:
        client = _clients.get(url)
        if client is None:
            # Short timeouts: a Redis that does not answer must not hold up a push (it falls back).
            client = _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        return client


def limiter_for(key, max_requests: int, window_seconds: float):
    """The limiter for `key` (see credential_key): shared through Redis when REDIS_URL is set."""
    registry_key = (key, max_requests, window_seconds)
    with _registry_lock:
        limiter = _limiters.get(registry_key)
    if limiter is not None:
        return limiter
    if settings.REDIS_URL:
        limiter = RedisSlidingWindowLimiter(key, max_requests, window_seconds, url=settings.REDIS_URL)
    else:
        limiter = SlidingWindowLimiter(max_requests, window_seconds)
    with _registry_lock:
        return _limiters.setdefault(registry_key, limiter)
