"""Client-side rate limiting: never send more than N requests in any rolling window.

Per process and per connection. Celery runs one sync per connection at a time (the outbox claim), so
this keeps a shop under its vendor's limit; the vendor's own headers are honoured on top (see the
HubSpot client).
"""

import threading
import time
from collections import deque


class SlidingWindowLimiter:
    def __init__(self, max_requests: int, window_seconds: float, *, clock=time.monotonic, sleep=time.sleep):
        self.max_requests = max_requests
        # The vendor's window starts when a request arrives, a little after we sent it: a margin keeps
        # the request that opens our next window out of the vendor's current one.
        self.window = window_seconds + max(0.2, window_seconds * 0.05)
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


_limiters: dict[tuple, SlidingWindowLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(key, max_requests: int, window_seconds: float) -> SlidingWindowLimiter:
    with _registry_lock:
        limiter = _limiters.get((key, max_requests, window_seconds))
        if limiter is None:
            limiter = _limiters[(key, max_requests, window_seconds)] = SlidingWindowLimiter(
                max_requests, window_seconds
            )
        return limiter
