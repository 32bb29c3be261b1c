"""One rate limit per vendor credential, shared by every worker through Redis; each process counts for
itself without Redis or while Redis does not answer."""

import multiprocessing
import os
import threading

import pytest
import redis

from crm_backends import ratelimit
from crm_backends.ratelimit import (
    RedisSlidingWindowLimiter,
    SlidingWindowLimiter,
    credential_key,
    limiter_for,
)

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set REDIS_URL")


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.setattr(ratelimit, "_limiters", {})
    if REDIS_URL:
        redis.Redis.from_url(REDIS_URL).flushdb()  # this test's counts only
    yield
    if REDIS_URL:
        redis.Redis.from_url(REDIS_URL).flushdb()


def worker_limiter(key, max_requests, window):
    """What another worker process has: its own limiter object and its own Redis connection."""
    ratelimit._clients.clear()
    return RedisSlidingWindowLimiter(key, max_requests, window, url=REDIS_URL)


@needs_redis
def test_two_workers_on_one_credential_never_exceed_the_window_together():
    key = credential_key("hubspot", "pat-na1-shared-token")
    workers = [worker_limiter(key, 5, 60.0) for _ in range(2)]
    granted, waits, start = [], [], threading.Barrier(2)

    def send(limiter):
        start.wait()
        for _ in range(10):
            wait = limiter.try_acquire()
            (waits if wait else granted).append(wait)

    threads = [threading.Thread(target=send, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 5  # 20 attempts, one limit of 5 for both
    assert len(waits) == 15 and all(0 < w <= 60 * 1.05 + 0.01 for w in waits)


def _send_from_another_process(key, results):
    limiter = worker_limiter(key, 5, 60.0)
    results.put(sum(1 for _ in range(10) if limiter.try_acquire() == 0))


@needs_redis
def test_two_worker_processes_share_the_limit():
    context = multiprocessing.get_context("fork")  # the children inherit the configured settings
    key, results = credential_key("salesforce", "org-00D000000000001"), context.Queue()
    children = [context.Process(target=_send_from_another_process, args=(key, results)) for _ in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
    assert [child.exitcode for child in children] == [0, 0]
    assert results.get(timeout=5) + results.get(timeout=5) == 5


@needs_redis
def test_connections_with_other_credentials_have_their_own_limit():
    first = worker_limiter(credential_key("hubspot", "token-a"), 1, 60.0)
    second = worker_limiter(credential_key("hubspot", "token-b"), 1, 60.0)
    assert first.try_acquire() == 0 and second.try_acquire() == 0
    assert first.try_acquire() > 0 and second.try_acquire() > 0


@needs_redis
def test_a_pause_asked_by_one_worker_holds_back_the_others():
    key = credential_key("hubspot", "token")
    one, other = worker_limiter(key, 100, 10.0), worker_limiter(key, 100, 10.0)
    one.pause(30)  # HubSpot answered 429 with Retry-After: 30 to one worker
    assert 29 < other.try_acquire() <= 30


@needs_redis
def test_the_credential_never_reaches_redis():
    token = "pat-na1-11111111-2222-3333-4444-555555555555"
    limiter = worker_limiter(credential_key("hubspot", token), 10, 10.0)
    limiter.try_acquire()
    limiter.pause(1)
    names = [k.decode() for k in redis.Redis.from_url(REDIS_URL).keys("*")]
    assert len(names) == 2 and all(token not in n and "pat-na1" not in n for n in names)
    assert token not in repr(credential_key("hubspot", token))  # nor this process's registry


@needs_redis
def test_limiter_for_shares_redis_when_configured(settings):
    settings.REDIS_URL = REDIS_URL
    limiter = limiter_for(("hubspot", 7), 2, 10.0)
    assert isinstance(limiter, RedisSlidingWindowLimiter) and limiter_for(("hubspot", 7), 2, 10.0) is limiter
    assert limiter.try_acquire() == 0 and limiter.try_acquire() == 0
    other_process = worker_limiter(("hubspot", 7), 2, 10.0)
    assert other_process.try_acquire() > 0


def test_without_redis_each_process_counts_for_itself(settings):
    settings.REDIS_URL = ""
    limiter = limiter_for(("hubspot", 7), 1, 10.0)
    assert isinstance(limiter, SlidingWindowLimiter)
    assert limiter.try_acquire() == 0 and limiter.try_acquire() > 0


def test_a_redis_that_does_not_answer_falls_back_to_counting_here(caplog):
    from tests import processes

    dead = f"redis://127.0.0.1:{processes.free_port()}/0"  # nothing listens there
    limiter = RedisSlidingWindowLimiter(("hubspot", 7), 1, 10.0, url=dead)
    assert limiter.try_acquire() == 0  # no exception: the push goes on, under this process's count
    assert limiter.try_acquire() > 0
    limiter.pause(5)
    assert limiter.try_acquire() >= 4
    assert "Redis unavailable" in caplog.text
